//! The rule catalogue: every check the host makes before a listing leaves,
//! its default severity and parameters, and a resolved [`RuleSet`] for one
//! (dealer, platform) pair after configuration overrides.

use crate::runtime::types::{Severity as WitSeverity, ValidationIssue};
use std::collections::BTreeMap;

/// What a failed rule does to the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The listing is held at the hub; nothing is sent.
    Block,
    /// The listing goes out; the issue is recorded and shown.
    Warn,
    /// The rule is not applied.
    Off,
}

impl Severity {
    /// Parse `block`, `warn` or `off`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "block" => Some(Self::Block),
            "warn" => Some(Self::Warn),
            "off" => Some(Self::Off),
            _ => None,
        }
    }

    /// The name used in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::Warn => "warn",
            Self::Off => "off",
        }
    }
}

/// A rule parameter's value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Param {
    /// A whole number.
    Int(i64),
    /// A word.
    Str(String),
    /// A list of words (or numbers written as words).
    List(Vec<String>),
}

/// A parameter's default, as written in the catalogue.
#[derive(Debug, Clone, Copy)]
pub enum ParamDefault {
    /// Whole number.
    Int(i64),
    /// One of a fixed set of words.
    Choice(&'static str, &'static [&'static str]),
    /// A list of words.
    List(&'static [&'static str]),
}

impl ParamDefault {
    fn value(self) -> Param {
        match self {
            Self::Int(n) => Param::Int(n),
            Self::Choice(s, _) => Param::Str(s.into()),
            Self::List(l) => Param::List(l.iter().map(|s| s.to_string()).collect()),
        }
    }
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct RuleSpec {
    /// Its id in configuration (`images-min-count`).
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Parameters and their defaults.
    pub params: &'static [(&'static str, ParamDefault)],
    /// One line for docs and `--help`.
    pub summary: &'static str,
}

/// Rule ids, so a typo is a compile error rather than a silent no-op.
pub mod id {
    #![allow(missing_docs)]
    pub const MANDATORY_FIELDS: &str = "mandatory-fields";
    pub const PLATFORM_REQUIRED: &str = "platform-required-fields";
    pub const REGISTRATION_FORMAT: &str = "registration-format";
    pub const REGISTRATION_AGE: &str = "registration-age";
    pub const VIN_FORMAT: &str = "vin-format";
    pub const VIN_CHECK_DIGIT: &str = "vin-check-digit";
    pub const IMAGES_MIN_COUNT: &str = "images-min-count";
    pub const IMAGES_MIN_RESOLUTION: &str = "images-min-resolution";
    pub const IMAGES_SIZE_UNKNOWN: &str = "images-size-unknown";
    pub const IMAGES_DUPLICATE: &str = "images-duplicate";
    pub const IMAGES_PLACEHOLDER: &str = "images-placeholder";
    pub const PRICE_INVALID: &str = "price-invalid";
    pub const PRICE_PLACEHOLDER: &str = "price-placeholder";
    pub const PRICE_OUTLIER: &str = "price-outlier";
    pub const MILEAGE_REGRESSION: &str = "mileage-regression";
    pub const MILEAGE_IMPLAUSIBLE: &str = "mileage-implausible";
    pub const DESCRIPTION_LENGTH: &str = "description-length";
    pub const DESCRIPTION_HTML: &str = "description-html";
    pub const DESCRIPTION_SCRIPT: &str = "description-script";
    pub const PERSONAL_DATA: &str = "personal-data";
    pub const VOCABULARY: &str = "vocabulary";
}

use ParamDefault::{Choice, Int, List};
use Severity::{Block, Warn};

/// Every rule, with its defaults (docs/quality.md mirrors this table).
pub const CATALOGUE: &[RuleSpec] = &[
    RuleSpec {
        id: id::MANDATORY_FIELDS,
        severity: Block,
        params: &[(
            "fields",
            List(&[
                "registration",
                "make",
                "model",
                "variant",
                "year",
                "mileage",
                "price",
                "fuel-type",
                "transmission",
                "body-style",
                "colour",
                "doors",
            ]),
        )],
        summary: "fields every listing needs (a new, unregistered vehicle needs no registration)",
    },
    RuleSpec {
        id: id::PLATFORM_REQUIRED,
        severity: Block,
        params: &[],
        summary: "the fields the platform's describe() lists as required",
    },
    RuleSpec {
        id: id::REGISTRATION_FORMAT,
        severity: Block,
        params: &[],
        summary: "a UK mark: current, prefix, suffix, dateless, Northern Ireland or Q plate",
    },
    RuleSpec {
        id: id::REGISTRATION_AGE,
        severity: Block,
        params: &[],
        summary: "the age identifier is not newer than the first-registration date, nor not yet issued",
    },
    RuleSpec {
        id: id::VIN_FORMAT,
        severity: Block,
        params: &[],
        summary: "17 characters, letters and digits without I, O or Q",
    },
    RuleSpec {
        id: id::VIN_CHECK_DIGIT,
        severity: Warn,
        params: &[(
            "scope",
            Choice("north-american", &["north-american", "all"]),
        )],
        summary: "the North-American check digit (position 9); UK stock does not need one, so a warning",
    },
    RuleSpec {
        id: id::IMAGES_MIN_COUNT,
        severity: Block,
        params: &[("min", Int(6))],
        summary: "at least `min` usable images (after duplicates and placeholders are dropped)",
    },
    RuleSpec {
        id: id::IMAGES_MIN_RESOLUTION,
        severity: Block,
        params: &[("width", Int(800)), ("height", Int(600))],
        summary: "every image of known size is at least width x height (either orientation)",
    },
    RuleSpec {
        id: id::IMAGES_SIZE_UNKNOWN,
        severity: Warn,
        params: &[],
        summary: "images whose size is not known yet (not given by the DMS, not measured yet)",
    },
    RuleSpec {
        id: id::IMAGES_DUPLICATE,
        severity: Warn,
        params: &[],
        summary: "the same image twice: the copies are dropped",
    },
    RuleSpec {
        id: id::IMAGES_PLACEHOLDER,
        severity: Warn,
        params: &[
            (
                "patterns",
                List(&[
                    "placeholder",
                    "no-image",
                    "no_image",
                    "noimage",
                    "no-photo",
                    "nophoto",
                    "image-coming",
                    "coming-soon",
                    "comingsoon",
                    "awaiting-image",
                    "photos-to-follow",
                    "default-car",
                ]),
            ),
            ("shared_by", Int(3)),
        ],
        summary: "stock photos: a URL matching a pattern, or one URL used by `shared_by` or more vehicles; dropped",
    },
    RuleSpec {
        id: id::PRICE_INVALID,
        severity: Block,
        params: &[],
        summary: "zero or negative price",
    },
    RuleSpec {
        id: id::PRICE_PLACEHOLDER,
        severity: Block,
        params: &[(
            "values",
            List(&["1", "99", "999", "9999", "99999", "999999", "123", "1234", "12345", "123456"]),
        )],
        summary: "placeholder-looking prices: the listed pound values, one repeated digit, under £10",
    },
    RuleSpec {
        id: id::PRICE_OUTLIER,
        severity: Warn,
        params: &[
            ("percent", Int(40)),
            ("min_comparables", Int(4)),
            ("year_band", Int(1)),
        ],
        summary: "more than `percent`% from the median of comparable stock (same make and model, year within `year_band`)",
    },
    RuleSpec {
        id: id::MILEAGE_REGRESSION,
        severity: Block,
        params: &[],
        summary: "lower than the last reading the hub saw for the vehicle (same stock id or VIN)",
    },
    RuleSpec {
        id: id::MILEAGE_IMPLAUSIBLE,
        severity: Warn,
        params: &[
            ("max_per_year", Int(35_000)),
            ("new_max", Int(1_000)),
        ],
        summary: "more than `max_per_year` miles a year of age, or a new vehicle with more than `new_max` miles",
    },
    RuleSpec {
        id: id::DESCRIPTION_LENGTH,
        severity: Warn,
        params: &[("min", Int(30))],
        summary: "shorter than `min` characters, or longer than the platform shows (it will be cut)",
    },
    RuleSpec {
        id: id::DESCRIPTION_HTML,
        severity: Warn,
        params: &[],
        summary: "HTML markup in the description: tags removed, entities decoded",
    },
    RuleSpec {
        id: id::DESCRIPTION_SCRIPT,
        severity: Block,
        params: &[],
        summary: "scripts, event handlers, javascript: links or embedded frames in the description",
    },
    RuleSpec {
        id: id::PERSONAL_DATA,
        severity: Warn,
        params: &[],
        summary: "e-mail addresses, phone numbers and web addresses in free text: removed (warn) or the listing held (block)",
    },
    RuleSpec {
        id: id::VOCABULARY,
        severity: Warn,
        params: &[],
        summary: "a fuel type, transmission, body style or colour outside the controlled vocabularies",
    },
];

/// The catalogue entry of a rule id.
pub fn spec(rule: &str) -> Option<&'static RuleSpec> {
    CATALOGUE.iter().find(|r| r.id == rule)
}

/// One rule after overrides.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rule {
    /// Severity in force.
    pub severity: Severity,
    /// Parameters in force.
    pub params: BTreeMap<&'static str, Param>,
}

/// An override of one rule: a severity, parameters, or both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleOverride {
    /// New severity.
    pub severity: Option<Severity>,
    /// New parameter values.
    pub params: BTreeMap<&'static str, Param>,
}

/// Every rule, resolved for one (dealer, platform).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleSet {
    rules: BTreeMap<&'static str, Rule>,
}

impl Default for RuleSet {
    fn default() -> Self {
        Self {
            rules: CATALOGUE
                .iter()
                .map(|s| {
                    (
                        s.id,
                        Rule {
                            severity: s.severity,
                            params: s.params.iter().map(|(k, d)| (*k, d.value())).collect(),
                        },
                    )
                })
                .collect(),
        }
    }
}

impl RuleSet {
    /// Apply overrides (later layers win).
    pub fn with(mut self, overrides: &BTreeMap<&'static str, RuleOverride>) -> Self {
        for (id, o) in overrides {
            if let Some(rule) = self.rules.get_mut(id) {
                if let Some(s) = o.severity {
                    rule.severity = s;
                }
                for (k, v) in &o.params {
                    rule.params.insert(k, v.clone());
                }
            }
        }
        self
    }

    /// The severity of a rule.
    pub fn severity(&self, rule: &str) -> Severity {
        self.rules.get(rule).map_or(Severity::Off, |r| r.severity)
    }

    /// Whether a rule is applied.
    pub fn on(&self, rule: &str) -> bool {
        self.severity(rule) != Severity::Off
    }

    /// A whole-number parameter.
    pub fn int(&self, rule: &str, param: &str) -> i64 {
        match self.rules.get(rule).and_then(|r| r.params.get(param)) {
            Some(Param::Int(n)) => *n,
            _ => 0,
        }
    }

    /// A word parameter.
    pub fn word(&self, rule: &str, param: &str) -> &str {
        match self.rules.get(rule).and_then(|r| r.params.get(param)) {
            Some(Param::Str(s)) => s,
            _ => "",
        }
    }

    /// A list parameter.
    pub fn list(&self, rule: &str, param: &str) -> &[String] {
        match self.rules.get(rule).and_then(|r| r.params.get(param)) {
            Some(Param::List(l)) => l,
            _ => &[],
        }
    }

    /// All rules (for `preview --json` and docs).
    pub fn rules(&self) -> &BTreeMap<&'static str, Rule> {
        &self.rules
    }
}

/// A finding of one rule about one field.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: &'static str,
    /// The contract field at fault (`price`, `images[3]`).
    pub field: String,
    /// What is wrong and why, without personal data.
    pub message: String,
}

impl Finding {
    /// A finding.
    pub fn new(rule: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule,
            field: field.into(),
            message: message.into(),
        }
    }

    /// As the contract's validation issue, with the rule id in the message.
    pub fn issue(&self, severity: Severity) -> ValidationIssue {
        ValidationIssue {
            field: self.field.clone(),
            severity: match severity {
                Severity::Block => WitSeverity::Error,
                _ => WitSeverity::Warning,
            },
            message: format!("{} [{}]", self.message, self.rule),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_issue() {
        let r = RuleSet::default();
        assert_eq!(r.int(id::IMAGES_MIN_COUNT, "min"), 6);
        assert_eq!(r.int(id::IMAGES_MIN_RESOLUTION, "width"), 800);
        assert_eq!(r.int(id::IMAGES_MIN_RESOLUTION, "height"), 600);
        assert_eq!(r.severity(id::VIN_CHECK_DIGIT), Severity::Warn);
        assert_eq!(r.list(id::MANDATORY_FIELDS, "fields").len(), 12);
        assert!(CATALOGUE.iter().all(|s| spec(s.id).is_some()));
    }

    #[test]
    fn overrides_apply_in_layers() {
        let mut o = BTreeMap::new();
        o.insert(
            id::IMAGES_MIN_COUNT,
            RuleOverride {
                severity: Some(Severity::Warn),
                params: [("min", Param::Int(10))].into_iter().collect(),
            },
        );
        let r = RuleSet::default().with(&o);
        assert_eq!(r.int(id::IMAGES_MIN_COUNT, "min"), 10);
        assert_eq!(r.severity(id::IMAGES_MIN_COUNT), Severity::Warn);
        let mut off = BTreeMap::new();
        off.insert(
            id::IMAGES_MIN_COUNT,
            RuleOverride {
                severity: Some(Severity::Off),
                params: BTreeMap::new(),
            },
        );
        let r = r.with(&off);
        assert!(!r.on(id::IMAGES_MIN_COUNT));
        assert_eq!(r.int(id::IMAGES_MIN_COUNT, "min"), 10, "params survive");
    }

    #[test]
    fn findings_become_contract_issues() {
        let f = Finding::new(id::PRICE_INVALID, "price", "is £0");
        let i = f.issue(Severity::Block);
        assert_eq!(i.field, "price");
        assert!(matches!(i.severity, WitSeverity::Error));
        assert_eq!(i.message, "is £0 [price-invalid]");
        assert!(matches!(
            f.issue(Severity::Warn).severity,
            WitSeverity::Warning
        ));
    }
}
