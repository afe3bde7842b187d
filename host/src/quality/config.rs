//! The `[quality]` table of `forecourt.toml` and the `quality` key of each
//! `[[platform]]`: parsed without side effects, validated with file, line
//! and key like the rest of the configuration.
//!
//! ```toml
//! [quality]
//! rules = { images-min-count = { min = 8 }, price-outlier = "off" }
//! description_template = "{year} {make} {model} {variant} in {colour}. {description}"
//! [quality.terminology]
//! "Full service history" = ["FSH", "complete maintenance records"]
//! [quality.dealers.dealer-001]
//! rules = { personal-data = "block" }
//! [[platform]]
//! quality = { images-min-count = { min = 10 } }
//! ```

use super::rules::{self, Param, ParamDefault, RuleOverride, Severity};
use crate::config::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

/// Rule overrides as written: `rule-id = "warn"` or `rule-id = { severity = "block", min = 8 }`.
pub type RawRules = BTreeMap<String, Spanned<toml::Value>>;

/// `[quality]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuality {
    /// Rule overrides for every dealer and platform.
    #[serde(default)]
    pub rules: RawRules,
    /// Read the size of images the DMS gives none for (a ranged GET of the first bytes).
    #[serde(default = "yes")]
    pub image_fetch: bool,
    /// Per image, the whole fetch (resolve, connect, read) in milliseconds.
    #[serde(default = "default_fetch_timeout")]
    pub image_fetch_timeout_ms: Spanned<u64>,
    /// Image fetches in flight at once.
    #[serde(default = "default_fetch_concurrency")]
    pub image_fetch_concurrency: Spanned<usize>,
    /// Image hosts on a private network the host may read (an intranet image server).
    #[serde(default)]
    pub image_fetch_private_hosts: Vec<String>,
    /// Extra terminology: canonical term = [synonyms].
    #[serde(default)]
    pub terminology: BTreeMap<String, Vec<String>>,
    /// A TOML file with more terminology in the same shape (relative to the config file).
    #[serde(default)]
    pub terminology_file: Option<PathBuf>,
    /// Description template with `{field}` placeholders.
    #[serde(default)]
    pub description_template: Option<Spanned<String>>,
    /// `when-missing` (default): only vehicles without a description; `always`.
    #[serde(default)]
    pub template_mode: Option<Spanned<String>>,
    /// Per dealer (by `dealer-id`).
    #[serde(default)]
    pub dealers: BTreeMap<String, RawDealerQuality>,
}

impl Default for RawQuality {
    fn default() -> Self {
        toml::from_str("").expect("every key of [quality] has a default")
    }
}

/// `[quality.dealers.<dealer-id>]`
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDealerQuality {
    /// Rule overrides for this dealer's stock.
    #[serde(default)]
    pub rules: RawRules,
    /// This dealer's description template.
    #[serde(default)]
    pub description_template: Option<Spanned<String>>,
    /// `when-missing` or `always`.
    #[serde(default)]
    pub template_mode: Option<Spanned<String>>,
    /// This dealer's extra terminology.
    #[serde(default)]
    pub terminology: BTreeMap<String, Vec<String>>,
}

fn yes() -> bool {
    true
}
fn default_fetch_timeout() -> Spanned<u64> {
    Spanned::new(0..0, 3_000)
}
fn default_fetch_concurrency() -> Spanned<usize> {
    Spanned::new(0..0, 4)
}

/// Builds configuration errors that name file, line and key.
pub struct Errors<'a> {
    /// The configuration text.
    pub text: &'a str,
    /// The file name.
    pub file: &'a str,
}

impl Errors<'_> {
    fn at(&self, span: std::ops::Range<usize>, key: String, message: String) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: (span.end > 0).then(|| {
                self.text[..span.start.min(self.text.len())]
                    .matches('\n')
                    .count()
                    + 1
            }),
            key,
            message,
        }
    }
}

/// Parse and check rule overrides; `key` prefixes error keys (`quality.rules`).
pub fn parse_rules(
    raw: &RawRules,
    key: &str,
    errors: &Errors,
) -> Result<BTreeMap<&'static str, RuleOverride>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, value) in raw {
        let span = value.span();
        let at = |message: String| errors.at(span.clone(), format!("{key}.{name}"), message);
        let spec = rules::spec(name).ok_or_else(|| {
            at(format!(
                "no such rule; known rules: {}",
                rules::CATALOGUE
                    .iter()
                    .map(|r| r.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let severity = |s: &str| {
            Severity::parse(s).ok_or_else(|| at(format!("severity `{s}`: use block, warn or off")))
        };
        let mut o = RuleOverride::default();
        match value.get_ref() {
            toml::Value::String(s) => o.severity = Some(severity(s)?),
            toml::Value::Table(t) => {
                for (k, v) in t {
                    if k == "severity" {
                        let s = v
                            .as_str()
                            .ok_or_else(|| at("severity must be a string".into()))?;
                        o.severity = Some(severity(s)?);
                        continue;
                    }
                    let (pname, default) =
                        spec.params.iter().find(|(p, _)| p == k).ok_or_else(|| {
                            at(format!(
                                "`{k}` is not a parameter of this rule (it has: severity{})",
                                spec.params
                                    .iter()
                                    .map(|(p, _)| format!(", {p}"))
                                    .collect::<String>()
                            ))
                        })?;
                    o.params.insert(*pname, param(default, v, k).map_err(at)?);
                }
            }
            _ => {
                return Err(at(
                    "use a severity (\"block\", \"warn\", \"off\") or a table of parameters".into(),
                ))
            }
        }
        out.insert(spec.id, o);
    }
    Ok(out)
}

fn param(default: &ParamDefault, v: &toml::Value, name: &str) -> Result<Param, String> {
    match (default, v) {
        (ParamDefault::Int(_), toml::Value::Integer(n)) if *n >= 0 => Ok(Param::Int(*n)),
        (ParamDefault::Int(_), _) => Err(format!("`{name}` must be a whole number, 0 or more")),
        (ParamDefault::Choice(_, allowed), toml::Value::String(s))
            if allowed.contains(&s.as_str()) =>
        {
            Ok(Param::Str(s.clone()))
        }
        (ParamDefault::Choice(_, allowed), _) => {
            Err(format!("`{name}` must be one of: {}", allowed.join(", ")))
        }
        (ParamDefault::List(_), toml::Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                toml::Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
                toml::Value::Integer(n) => Ok(n.to_string()),
                _ => Err(format!("`{name}` must be a list of non-empty strings")),
            })
            .collect::<Result<_, _>>()
            .map(Param::List),
        (ParamDefault::List(_), _) => Err(format!("`{name}` must be a list")),
    }
}

/// Template modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum TemplateMode {
    /// Only when the DMS gives no description.
    #[default]
    WhenMissing,
    /// Always; `{description}` inserts the DMS text.
    Always,
}

/// Check a template mode value.
pub fn template_mode(
    raw: &Option<Spanned<String>>,
    key: String,
    errors: &Errors,
) -> Result<TemplateMode, ConfigError> {
    match raw {
        None => Ok(TemplateMode::WhenMissing),
        Some(s) => match s.get_ref().as_str() {
            "when-missing" => Ok(TemplateMode::WhenMissing),
            "always" => Ok(TemplateMode::Always),
            other => Err(errors.at(
                s.span(),
                key,
                format!("`{other}`: use when-missing or always"),
            )),
        },
    }
}

/// Check a template's placeholders.
pub fn template(
    raw: &Option<Spanned<String>>,
    key: String,
    errors: &Errors,
) -> Result<Option<String>, ConfigError> {
    let Some(t) = raw else { return Ok(None) };
    super::normalise::check_template(t.get_ref()).map_err(|m| errors.at(t.span(), key, m))?;
    Ok(Some(t.get_ref().clone()))
}

/// Validate `[quality]` and every platform's `quality` (called from the config's validation).
pub fn validate(
    config: &crate::config::RawConfig,
    text: &str,
    file: &str,
) -> Result<(), ConfigError> {
    let errors = Errors { text, file };
    let q = &config.quality;
    parse_rules(&q.rules, "quality.rules", &errors)?;
    let timeout = *q.image_fetch_timeout_ms.get_ref();
    if !(100..=30_000).contains(&timeout) {
        return Err(errors.at(
            q.image_fetch_timeout_ms.span(),
            "quality.image_fetch_timeout_ms".into(),
            format!("is {timeout}; allowed 100 to 30000"),
        ));
    }
    let concurrency = *q.image_fetch_concurrency.get_ref();
    if !(1..=32).contains(&concurrency) {
        return Err(errors.at(
            q.image_fetch_concurrency.span(),
            "quality.image_fetch_concurrency".into(),
            format!("is {concurrency}; allowed 1 to 32"),
        ));
    }
    template(
        &q.description_template,
        "quality.description_template".into(),
        &errors,
    )?;
    template_mode(&q.template_mode, "quality.template_mode".into(), &errors)?;
    for (dealer, d) in &q.dealers {
        parse_rules(
            &d.rules,
            &format!("quality.dealers.{dealer}.rules"),
            &errors,
        )?;
        template(
            &d.description_template,
            format!("quality.dealers.{dealer}.description_template"),
            &errors,
        )?;
        template_mode(
            &d.template_mode,
            format!("quality.dealers.{dealer}.template_mode"),
            &errors,
        )?;
    }
    for (i, p) in config.platforms.iter().enumerate() {
        parse_rules(&p.quality, &format!("platform[{i}].quality"), &errors)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::RawConfig;

    const BASE: &str = "[[platform]]\nid = \"p\"\nplugin = \"x\"\n";

    #[test]
    fn accepts_severities_parameters_dealers_and_platform_overrides() {
        let c = RawConfig::parse(
            &format!(
                "{BASE}quality = {{ images-min-count = {{ min = 10 }}, description-length = \"block\" }}\n\
                 [quality]\nrules = {{ price-outlier = {{ severity = \"off\", percent = 25 }} }}\n\
                 description_template = \"{{year}} {{make}} {{model}}\"\n\
                 [quality.terminology]\n\"Full service history\" = [\"FSH\"]\n\
                 [quality.dealers.dealer-001]\nrules = {{ personal-data = \"block\" }}\ntemplate_mode = \"always\"\n"
            ),
            "f.toml",
        )
        .unwrap();
        assert_eq!(c.quality.terminology["Full service history"], vec!["FSH"]);
        assert_eq!(c.platforms[0].quality.len(), 2);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let err = RawConfig::parse("[quality]\nrules = { images-min-count = 5 }\n", "f.toml")
            .unwrap_err();
        assert_eq!(err.key, "quality.rules.images-min-count");
        assert_eq!(err.line, Some(2));
        let err = RawConfig::parse("[quality.rules]\nimage-min-count = \"warn\"\n", "f.toml")
            .unwrap_err();
        assert!(err.message.starts_with("no such rule"), "{err}");
        let err = RawConfig::parse(
            "[quality.rules]\nimages-min-count = { minimum = 3 }\n",
            "f.toml",
        )
        .unwrap_err();
        assert!(err.message.contains("not a parameter"), "{err}");
        let err = RawConfig::parse(
            &format!("{BASE}quality = {{ vin-check-digit = {{ scope = \"europe\" }} }}\n"),
            "f.toml",
        )
        .unwrap_err();
        assert_eq!(err.key, "platform[0].quality.vin-check-digit");
        assert_eq!(err.line, Some(4));
        let err = RawConfig::parse(
            "[quality]\ndescription_template = \"{make} {modle}\"\n",
            "f.toml",
        )
        .unwrap_err();
        assert!(err.message.contains("modle"), "{err}");
        let err =
            RawConfig::parse("[quality]\nimage_fetch_concurrency = 0\n", "f.toml").unwrap_err();
        assert_eq!(err.key, "quality.image_fetch_concurrency");
    }
}
