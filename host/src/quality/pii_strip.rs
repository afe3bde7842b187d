//! Personal data in free text (description, features, attributes, trim and
//! variant): e-mail addresses, phone numbers and web addresses are removed
//! before a listing leaves the hub. What was removed is never kept: the
//! audit trail and issues record the field, the kind and the count only.

use crate::runtime::types::Vehicle;
use regex::Regex;
use std::sync::OnceLock;

/// What was removed from one field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stripped {
    /// The field (`description`, `features[2]`, `attributes.notes`).
    pub field: String,
    /// `email`, `phone` or `web-address`.
    pub kind: &'static str,
    /// How many.
    pub count: usize,
}

fn web() -> &'static Regex {
    // Links and bare domains with a path or www.: contact routes around the platform.
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:https?://[^\s<>]+|www\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+[^\s<>]*)")
            .expect("valid regex")
    })
}

/// Remove contact details from `text`; returns the cleaned text and (kind, count) pairs.
pub fn strip_text(text: &str) -> (String, Vec<(&'static str, usize)>) {
    let mut found = Vec::new();
    let mut out = text.to_string();
    for (kind, re, replacement) in [
        ("email", crate::pii::email(), "[email removed]"),
        ("web-address", web(), "[link removed]"),
        ("phone", crate::pii::phone(), "[phone removed]"),
    ] {
        let n = re.find_iter(&out).count();
        if n > 0 {
            out = re.replace_all(&out, replacement).into_owned();
            found.push((kind, n));
        }
    }
    if found.is_empty() {
        return (out, found);
    }
    // Markers read badly in an advert: drop them with the words that
    // introduced them ("call", "email") when nothing else is left there.
    let tidy = Regex::new(r"(?i)(?:\b(?:call|phone|ring|text|tel|mobile|e-?mail|contact|visit|see|at|on|or)\b[\s:]*)*\[(?:email|phone|link) removed\]")
        .expect("valid regex");
    let out = tidy.replace_all(&out, "").into_owned();
    let out = out
        .split('\n')
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(" ,", ",")
        .replace(" .", ".")
        .replace(",.", ".");
    (out.trim().to_string(), found)
}

/// Strip every free-text field of `v` in place.
pub fn strip(v: &mut Vehicle) -> Vec<Stripped> {
    let mut all = Vec::new();
    let mut take = |field: String, text: &mut String| {
        let (clean, found) = strip_text(text);
        if !found.is_empty() {
            *text = clean;
            all.extend(found.into_iter().map(|(kind, count)| Stripped {
                field: field.clone(),
                kind,
                count,
            }));
        }
    };
    for (name, value) in [
        ("description", &mut v.description),
        ("variant", &mut v.variant),
        ("trim", &mut v.trim),
    ] {
        if let Some(text) = value.as_mut() {
            take(name.to_string(), text);
        }
    }
    for (i, f) in v.features.iter_mut().enumerate() {
        take(format!("features[{i}]"), f);
    }
    v.features.retain(|f| !f.trim().is_empty());
    for a in v.attributes.iter_mut() {
        take(format!("attributes.{}", a.key), &mut a.value);
    }
    v.attributes.retain(|a| !a.value.trim().is_empty());
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_emails_phones_and_links_and_tidies() {
        let (out, found) = strip_text(
            "Lovely car. Call Dave on 07700 900123 or email dave@example.co.uk. See www.cheapcars.example/deal for more.",
        );
        assert_eq!(out, "Lovely car. Call Dave. for more.");
        assert_eq!(found, vec![("email", 1), ("web-address", 1), ("phone", 1)]);
        assert!(!out.contains("07700") && !out.contains('@') && !out.contains("www"));
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        let text = "2019 Ford Focus 1.0 EcoBoost, 45,000 miles, £12,995, FSH, 2 owners. Tel-free finance 0% APR.";
        assert_eq!(strip_text(text), (text.to_string(), vec![]));
    }

    #[test]
    fn strips_every_free_text_field_and_reports_counts_only() {
        let mut v = crate::sample::sample_stock(1, 9).remove(0);
        v.description = Some("Ring 0161 496 0000 or 0161 496 0001 today".into());
        v.features = vec![
            "Bluetooth".into(),
            "owner: jo@example.com".into(),
            "07700900123".into(),
        ];
        v.attributes.push(crate::runtime::types::Attribute {
            key: "contact".into(),
            value: "+44 20 7946 0958".into(),
        });
        let found = strip(&mut v);
        assert_eq!(
            found,
            vec![
                Stripped {
                    field: "description".into(),
                    kind: "phone",
                    count: 2
                },
                Stripped {
                    field: "features[1]".into(),
                    kind: "email",
                    count: 1
                },
                Stripped {
                    field: "features[2]".into(),
                    kind: "phone",
                    count: 1
                },
                Stripped {
                    field: "attributes.contact".into(),
                    kind: "phone",
                    count: 1
                },
            ]
        );
        assert_eq!(v.description.as_deref(), Some("today"));
        assert_eq!(
            v.features,
            vec!["Bluetooth".to_string(), "owner:".to_string()]
        );
        assert!(v.attributes.iter().all(|a| a.key != "contact"));
        let json = serde_json::to_string(&found).unwrap();
        assert!(
            !json.contains("0161") && !json.contains("jo@"),
            "counts only: {json}"
        );
    }
}
