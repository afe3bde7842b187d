//! Recognising personal contact details in free text, so they can be removed
//! before text reaches a log line, the audit trail or a platform.

use regex::Regex;
use std::sync::OnceLock;

pub(crate) fn email() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b").expect("valid regex")
    })
}

pub(crate) fn phone() -> &'static Regex {
    // UK numbers: +44 or 0, then 9 to 10 more digits with optional spaces,
    // dashes or brackets. Long enough not to match prices or mileages.
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:\+44\s?\(?0?\)?|\(?\b0)\d{2,4}\)?[\s\-]?\d{3,4}[\s\-]?\d{3,4}\b")
            .expect("valid regex")
    })
}

/// Replace e-mail addresses and phone numbers with placeholders; returns the
/// redacted text and how many details were removed.
pub fn redact(text: &str) -> (String, usize) {
    let mut count = 0;
    let step = email().replace_all(text, |_: &regex::Captures| {
        count += 1;
        "[email removed]"
    });
    let out = phone()
        .replace_all(&step, |_: &regex::Captures| {
            count += 1;
            "[phone removed]"
        })
        .into_owned();
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn removes_emails_and_uk_phone_numbers() {
        let (out, n) =
            redact("Call Dave on 07700 900123 or 0161-496-0000, or dave.smith@example.co.uk");
        assert_eq!(n, 3, "{out}");
        assert!(!out.contains("07700"));
        assert!(!out.contains("example.co.uk"));
        let (out, n) = redact("+44 (0)20 7946 0958");
        assert_eq!(n, 1, "{out}");
    }

    #[test]
    fn leaves_prices_mileage_and_registrations_alone() {
        let text = "£12,995, 45,000 miles, AB12 CDE, 2019, 1.5 TSI";
        assert_eq!(redact(text), (text.to_string(), 0));
    }
}
