//! Description rules: scripts and active content (blocked by default),
//! other HTML (removed, with a warning), and length against the platform.

use super::rules::{id, Finding, RuleSet};
use regex::Regex;
use std::sync::OnceLock;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

fn script() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"(?is)<\s*(?:script|iframe|object|embed|style)\b|javascript\s*:|vbscript\s*:|<[^>]+\son[a-z]+\s*=|data\s*:\s*text/html",
    )
}

fn tag() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, r"(?s)<\s*/?\s*[a-zA-Z!][^<>]*>")
}

fn active_block() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"(?is)<\s*(script|style|iframe|object)\b.*?<\s*/\s*(?:script|style|iframe|object)\s*>",
    )
}

/// What the description check found and the cleaned text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescriptionCheck {
    /// Text without markup.
    pub text: Option<String>,
    /// Findings.
    pub findings: Vec<Finding>,
}

/// Whether text contains scripts or other active content.
pub fn has_script(text: &str) -> bool {
    script().is_match(text)
}

/// Whether text contains HTML markup.
pub fn has_html(text: &str) -> bool {
    tag().is_match(text)
}

/// Remove markup: active blocks with their content, tags (block-level ones
/// become line breaks), common entities decoded.
pub fn strip_html(text: &str) -> String {
    let text = active_block().replace_all(text, " ");
    let breaks = Regex::new(r"(?i)<\s*(?:br|/p|/li|/div|/h[1-6])\s*/?\s*>").expect("valid regex");
    let text = breaks.replace_all(&text, "\n");
    let text = tag().replace_all(&text, " ");
    let text = text
        .replace("&nbsp;", " ")
        .replace("&pound;", "£")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.split('\n')
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Markup findings (platform-independent) and the cleaned text.
pub fn markup(text: &Option<String>) -> DescriptionCheck {
    let Some(t) = text else {
        return DescriptionCheck::default();
    };
    let mut out = DescriptionCheck {
        text: Some(t.clone()),
        findings: vec![],
    };
    if has_script(t) {
        out.findings.push(Finding::new(
            id::DESCRIPTION_SCRIPT,
            "description",
            "contains a script, event handler, embedded frame or javascript: link",
        ));
    }
    if has_html(t) {
        out.findings.push(Finding::new(
            id::DESCRIPTION_HTML,
            "description",
            "contains HTML markup; it was removed",
        ));
        out.text = Some(strip_html(t)).filter(|s| !s.is_empty());
    }
    out
}

/// Length against the rule's minimum and the platform's maximum.
pub fn length(
    text: &Option<String>,
    rules: &RuleSet,
    max: Option<u32>,
    platform: &str,
) -> Option<Finding> {
    let n = text.as_deref().map_or(0, |t| t.chars().count());
    if n == 0 {
        return None; // completeness reports a missing description
    }
    let min = rules.int(id::DESCRIPTION_LENGTH, "min") as usize;
    if n < min {
        return Some(Finding::new(
            id::DESCRIPTION_LENGTH,
            "description",
            format!("is {n} characters; at least {min} read as a real description"),
        ));
    }
    match max {
        Some(max) if n > max as usize => Some(Finding::new(
            id::DESCRIPTION_LENGTH,
            "description",
            format!("is {n} characters; {platform} shows at most {max}, the rest will be cut"),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_active_content_are_found() {
        for t in [
            "Nice <script>alert(1)</script>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<img src=x onerror=alert(1)>",
            "<IFRAME src=//evil>",
            "<style>body{}</style>",
        ] {
            assert!(has_script(t), "{t}");
        }
        assert!(!has_script(
            "Great on fuel. Javascript developers love it? No colon here"
        ));
        assert!(!has_script("<b>Bold</b> and <p>para</p>"));
    }

    #[test]
    fn markup_is_removed_and_entities_decoded() {
        let c = markup(&Some("<p>One owner &amp; FSH</p><ul><li>Sat nav</li><li>&pound;20 tax</li></ul><script>x()</script>".into()));
        assert_eq!(c.text.as_deref(), Some("One owner & FSH\nSat nav\n£20 tax"));
        let rules: Vec<_> = c.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, vec![id::DESCRIPTION_SCRIPT, id::DESCRIPTION_HTML]);
        let plain = markup(&Some("Price 3 < 4 and 5 > 2".into()));
        assert!(plain.findings.is_empty(), "comparisons are not tags");
    }

    #[test]
    fn length_against_minimum_and_platform_maximum() {
        let rules = RuleSet::default();
        assert!(length(&Some("Short.".into()), &rules, None, "p")
            .unwrap()
            .message
            .contains("6 characters"));
        assert_eq!(length(&None, &rules, Some(10), "p"), None);
        let long = Some("x".repeat(120));
        assert_eq!(length(&long, &rules, Some(200), "p"), None);
        let f = length(&long, &rules, Some(100), "autotrader").unwrap();
        assert!(
            f.message.contains("autotrader shows at most 100"),
            "{}",
            f.message
        );
        assert_eq!(
            length(&Some("x".repeat(30)), &rules, None, "p"),
            None,
            "exactly the minimum"
        );
    }
}
