//! Operator configuration (`forecourt.toml`): raw, then resolved.
//!
//! [`RawConfig`] is exactly what the file says, parsed without side effects;
//! unknown keys are errors. [`RawConfig::validate`] checks ranges and
//! references and names file, line and key. Building the engine (loading
//! plugins, opening the store) happens in [`crate::host`], from a validated
//! config.

use crate::runtime::egress::OperatorGrants;
use crate::sync::retry::RetryPolicy;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Where the database, compiled-plugin cache and local feeds live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Where plugin components and their manifests are.
    #[serde(default = "default_plugins_dir")]
    pub plugins_dir: PathBuf,
    /// A TOML file of secrets per plugin (`[plugin-id] name = "value"`), kept
    /// out of this file; environment variables `FORECOURT_SECRET_<PLUGIN>_<NAME>` win.
    #[serde(default)]
    pub secrets_file: Option<PathBuf>,
    /// DMS sources.
    #[serde(default, rename = "source")]
    pub sources: Vec<RawSource>,
    /// Listing platforms.
    #[serde(default, rename = "platform")]
    pub platforms: Vec<RawPlatform>,
    /// Buyers' enquiries: pulling, the signed webhook, retention (docs/enquiries.md).
    #[serde(default)]
    pub enquiries: Option<crate::enquiries::config::RawEnquiries>,
    /// Where enquiries are delivered: CRM plugins, or e-mail (docs/enquiries.md).
    #[serde(default)]
    pub crm: Vec<crate::enquiries::config::RawCrm>,
    /// Pricing rules by days in stock, floor, rounding (docs/pricing.md).
    #[serde(default)]
    pub pricing: Option<crate::pricing::config::RawPricing>,
    /// The enricher plugin run on every vehicle before transform.
    #[serde(default)]
    pub enricher: Option<crate::enrich::RawEnricher>,
}

fn default_data_dir() -> PathBuf {
    "forecourt-data".into()
}
fn default_plugins_dir() -> PathBuf {
    "plugins".into()
}

/// `[[source]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Unique id of this source.
    pub id: Spanned<String>,
    /// Plugin id: `<plugins_dir>/<plugin>.wasm` with its `.toml`.
    pub plugin: Spanned<String>,
    /// Seconds between pulls, 60 to 86,400 (default 900).
    #[serde(default = "default_interval")]
    pub interval_secs: Spanned<u64>,
    /// The plugin's configuration, handed to it as JSON.
    #[serde(default = "empty_table")]
    pub config: toml::Table,
    /// An export file the host reads and hands to the plugin.
    #[serde(default)]
    pub document: Option<RawDocument>,
    /// How long a vehicle may be absent from full snapshots before it counts as removed.
    #[serde(default = "default_grace")]
    pub snapshot_grace_secs: u64,
    /// Largest share of stock one snapshot may remove; more is held and alerted on.
    #[serde(default = "default_shrink")]
    pub max_snapshot_shrink: Spanned<f64>,
    /// The operator's grants to this plugin.
    #[serde(default)]
    pub grants: OperatorGrants,
}

/// Where a source's document comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDocument {
    /// A file on this machine (relative to the config file).
    pub file: PathBuf,
}

fn default_interval() -> Spanned<u64> {
    Spanned::new(0..0, 900)
}
fn default_grace() -> u64 {
    24 * 3600
}
fn default_shrink() -> Spanned<f64> {
    Spanned::new(0..0, 0.3)
}
fn default_concurrency() -> Spanned<usize> {
    Spanned::new(0..0, 4)
}
fn empty_table() -> toml::Table {
    toml::Table::new()
}

/// `[[platform]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    /// Unique id of this platform.
    pub id: Spanned<String>,
    /// Plugin id.
    pub plugin: Spanned<String>,
    /// The plugin's configuration, handed to it as JSON.
    #[serde(default = "empty_table")]
    pub config: toml::Table,
    /// How long a sold vehicle stays advertised here (a website may keep it).
    #[serde(default)]
    pub deadvertise_delay_secs: u64,
    /// Other updates wait for the next window of this many seconds (0 = at once).
    #[serde(default)]
    pub update_window_secs: u64,
    /// Requests per minute, overriding what the plugin suggests.
    #[serde(default)]
    pub rate_limit_per_minute: Option<Spanned<u32>>,
    /// Publish batches in flight at once (1 to 16).
    #[serde(default = "default_concurrency")]
    pub concurrency: Spanned<usize>,
    /// Retry settings.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Feed delivery (feed-file platforms).
    #[serde(default)]
    pub feed: Option<RawFeed>,
    /// The operator's grants to this plugin.
    #[serde(default)]
    pub grants: OperatorGrants,
}

/// `[platform.feed]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    /// Write the feed atomically into this directory (relative to the config file).
    pub directory: Option<PathBuf>,
}

/// A configuration error naming file, line and key.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {key}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key, e.g. `source[0].interval_secs`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

pub(crate) fn line_of(text: &str, span: std::ops::Range<usize>) -> Option<usize> {
    (span.end > 0).then(|| text[..span.start.min(text.len())].matches('\n').count() + 1)
}

impl RawConfig {
    /// Read, parse and validate `path`. Relative paths in the file are
    /// resolved against the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: None,
            key: "(file)".into(),
            message: format!("cannot read: {e}"),
        })?;
        let mut config = Self::parse(&text, &file)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut config.data_dir);
        resolve(&mut config.plugins_dir);
        if let Some(p) = &mut config.secrets_file {
            resolve(p);
        }
        for s in &mut config.sources {
            if let Some(d) = &mut s.document {
                resolve(&mut d.file);
            }
        }
        for p in &mut config.platforms {
            if let Some(RawFeed { directory: Some(d) }) = &mut p.feed {
                resolve(d);
            }
        }
        Ok(config)
    }

    /// Parse and validate text; `file` is used in messages.
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigError> {
        let config: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: file.to_string(),
            line: e.span().and_then(|s| line_of(text, s)),
            key: "(syntax)".into(),
            message: e.message().to_string(),
        })?;
        config.validate(text, file)?;
        Ok(config)
    }

    fn validate(&self, text: &str, file: &str) -> Result<(), ConfigError> {
        let err = |span: std::ops::Range<usize>, key: String, message: String| ConfigError {
            file: file.to_string(),
            line: line_of(text, span),
            key,
            message,
        };
        let mut ids = std::collections::BTreeSet::new();
        let valid_id = |id: &str| {
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        for (i, s) in self.sources.iter().enumerate() {
            if !valid_id(s.id.get_ref()) {
                return Err(err(
                    s.id.span(),
                    format!("source[{i}].id"),
                    "use lower-case letters, digits and dashes".into(),
                ));
            }
            if !ids.insert(s.id.get_ref().clone()) {
                return Err(err(
                    s.id.span(),
                    format!("source[{i}].id"),
                    format!("`{}` is used twice", s.id.get_ref()),
                ));
            }
            let interval = *s.interval_secs.get_ref();
            if !(60..=86_400).contains(&interval) {
                return Err(err(
                    s.interval_secs.span(),
                    format!("source[{i}].interval_secs"),
                    format!("is {interval}; allowed 60 (1 minute) to 86400 (24 hours)"),
                ));
            }
            let shrink = *s.max_snapshot_shrink.get_ref();
            if !(0.0..=1.0).contains(&shrink) {
                return Err(err(
                    s.max_snapshot_shrink.span(),
                    format!("source[{i}].max_snapshot_shrink"),
                    format!("is {shrink}; a share from 0 to 1 (0.3 = 30%)"),
                ));
            }
        }
        for (i, p) in self.platforms.iter().enumerate() {
            if !valid_id(p.id.get_ref()) {
                return Err(err(
                    p.id.span(),
                    format!("platform[{i}].id"),
                    "use lower-case letters, digits and dashes".into(),
                ));
            }
            if !ids.insert(p.id.get_ref().clone()) {
                return Err(err(
                    p.id.span(),
                    format!("platform[{i}].id"),
                    format!("`{}` is used twice", p.id.get_ref()),
                ));
            }
            if !(1..=16).contains(p.concurrency.get_ref()) {
                return Err(err(
                    p.concurrency.span(),
                    format!("platform[{i}].concurrency"),
                    format!("is {}; allowed 1 to 16", p.concurrency.get_ref()),
                ));
            }
            if let Some(rate) = &p.rate_limit_per_minute {
                if *rate.get_ref() == 0 {
                    return Err(err(
                        rate.span(),
                        format!("platform[{i}].rate_limit_per_minute"),
                        "must be at least 1".into(),
                    ));
                }
            }
            if p.retry.max_attempts == 0 || p.retry.base_ms == 0 || p.retry.cap_ms < p.retry.base_ms
            {
                return Err(err(
                    p.id.span(),
                    format!("platform[{i}].retry"),
                    "needs max_attempts >= 1, base_ms >= 1 and cap_ms >= base_ms".into(),
                ));
            }
        }
        crate::enquiries::config::validate(self, &mut ids, text, file)?;
        crate::pricing::config::validate(self, text, file)?;
        crate::enrich::validate(self, text, file)?;
        Ok(())
    }

    /// The path of a plugin's component.
    pub fn plugin_path(&self, plugin: &str) -> PathBuf {
        self.plugins_dir.join(format!("{plugin}.wasm"))
    }
}

/// A plugin configuration table as the JSON the plugin receives.
pub fn plugin_config_json(table: &toml::Table) -> String {
    serde_json::to_string(table).expect("TOML tables serialise as JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let c = RawConfig::parse(
            r#"
data_dir = "data"
[[source]]
id = "dms"
plugin = "csv-export"
interval_secs = 600
document = { file = "stock.csv" }
[[platform]]
id = "google"
plugin = "google-vehicle-ads"
config = { store_code = "S1", format = "tsv" }
feed = { directory = "feeds" }
[platform.retry]
max_attempts = 3
"#,
            "forecourt.toml",
        )
        .unwrap();
        assert_eq!(c.sources[0].interval_secs.get_ref(), &600);
        assert_eq!(c.platforms[0].retry.max_attempts, 3);
        assert!(plugin_config_json(&c.platforms[0].config).contains("\"store_code\":\"S1\""));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let err = RawConfig::parse(
            "[[source]]\nid = \"dms\"\nplugin = \"x\"\ninterval_secs = 30\n",
            "forecourt.toml",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(4));
        assert_eq!(err.to_string(), "forecourt.toml:4: source[0].interval_secs: is 30; allowed 60 (1 minute) to 86400 (24 hours)");
        let err = RawConfig::parse(
            "[[platform]]\nid = \"p\"\nplugin = \"x\"\nbogus = 1\n",
            "f.toml",
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("f.toml:4:"), "{err}");
        assert!(err.message.contains("bogus"), "{err}");
        let err = RawConfig::parse(
            "[[platform]]\nid = \"p\"\nplugin = \"x\"\n[[platform]]\nid = \"p\"\nplugin = \"y\"\n",
            "f.toml",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(5));
    }
}
