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
    /// The admin API, metrics and dashboard (`[admin]`); not started when absent.
    #[serde(default)]
    pub admin: Option<RawAdmin>,
    /// Data quality rules, normalisation and personal-data handling (docs/quality.md).
    #[serde(default)]
    pub quality: crate::quality::config::RawQuality,
    /// Alerting (`[alerts]`): rules and channels; absent means no alerts.
    #[serde(default)]
    pub alerts: Option<crate::alerts::config::RawAlerts>,
    /// The HTTP(S) server for platforms' `feed.serve` (see docs/feeds.md).
    #[serde(default)]
    pub feed_server: Option<crate::transport::server::FeedServerConfig>,
    /// Where sources with `[source.push]` and no `listen` of their own
    /// receive pushes (default `127.0.0.1:8780`).
    #[serde(default)]
    pub push_listen: Option<Spanned<String>>,
    /// `[plugins]`: trusted publisher keys and whether unsigned plugins may run.
    #[serde(default)]
    pub plugins: crate::signing::RawPluginTrust,
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

/// `[admin]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    /// Address of the admin API, `/metrics` and the dashboard.
    #[serde(default = "default_admin_listen")]
    pub listen: Spanned<String>,
    /// Whether `/metrics` needs a viewer token (off: the usual private scrape listener).
    #[serde(default)]
    pub metrics_require_token: bool,
    /// Days access-log rows are kept (1 to 3650).
    #[serde(default = "default_access_log_retention")]
    pub access_log_retention_days: Spanned<u32>,
}

fn default_admin_listen() -> Spanned<String> {
    Spanned::new(0..0, "127.0.0.1:8450".into())
}
fn default_access_log_retention() -> Spanned<u32> {
    Spanned::new(0..0, 90)
}

impl RawAdmin {
    /// The listen address (validated at load).
    pub fn listen_addr(&self) -> std::net::SocketAddr {
        self.listen
            .get_ref()
            .parse()
            .expect("validated when the configuration was loaded")
    }
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
    pub document: Option<Spanned<RawDocument>>,
    /// How long a vehicle may be absent from full snapshots before it counts as removed.
    #[serde(default = "default_grace")]
    pub snapshot_grace_secs: u64,
    /// Largest share of stock one snapshot may remove; more is held and alerted on.
    #[serde(default = "default_shrink")]
    pub max_snapshot_shrink: Spanned<f64>,
    /// The operator's grants to this plugin.
    #[serde(default)]
    pub grants: OperatorGrants,
    /// Signed pushes from the DMS (`POST /push/<id>`), see docs/sync.md.
    #[serde(default)]
    pub push: Option<crate::push::RawPush>,
}

/// Where a source's document comes from: exactly one of these.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDocument {
    /// A file on this machine (relative to the config file).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// The newest complete file in a watched drop directory.
    #[serde(default)]
    pub directory: Option<crate::transport::directory::DirectoryConfig>,
    /// An HTTP(S) URL, fetched with conditional GET.
    #[serde(default)]
    pub url: Option<crate::transport::http::UrlConfig>,
    /// A file on an SFTP server.
    #[serde(default)]
    pub sftp: Option<crate::transport::sftp_pickup::SftpPickupConfig>,
}

impl RawDocument {
    /// Which pickup this is (for status pages: no paths, hosts or credentials).
    pub fn kind(&self) -> &'static str {
        if self.file.is_some() {
            "file"
        } else if self.directory.is_some() {
            "directory"
        } else if self.url.is_some() {
            "url"
        } else {
            "sftp"
        }
    }
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
    /// Quality rule overrides for this platform (docs/quality.md).
    #[serde(default)]
    pub quality: crate::quality::config::RawRules,
}

/// `[platform.feed]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    /// Write the feed atomically into this directory (relative to the config file).
    pub directory: Option<PathBuf>,
    /// Serve the feed over HTTP(S) from the `[feed_server]`.
    #[serde(default)]
    pub serve: Option<crate::transport::served::ServeConfig>,
    /// Upload the feed by SFTP.
    #[serde(default)]
    pub sftp: Option<crate::transport::sftp_upload::SftpUploadConfig>,
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
        if let Some(p) = &mut config.quality.terminology_file {
            resolve(p);
        }
        if let Some(p) = &mut config.plugins.trusted_keys_file {
            resolve(p);
        }
        for s in &mut config.sources {
            if let Some(d) = &mut s.document {
                if let Some(f) = &mut d.get_mut().file {
                    resolve(f);
                }
                crate::transport::setup::resolve_document(d.get_mut(), base);
            }
        }
        for p in &mut config.platforms {
            if let Some(RawFeed {
                directory: Some(d), ..
            }) = &mut p.feed
            {
                resolve(d);
            }
            if let Some(feed) = &mut p.feed {
                crate::transport::setup::resolve_feed(feed, base);
            }
        }
        if let Some(server) = &mut config.feed_server {
            server.resolve_paths(base);
        }
        if let Some(alerts) = &mut config.alerts {
            alerts.resolve_paths(base);
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
            if let Some(push) = &s.push {
                push.check().map_err(|(span, key, message)| {
                    err(span, format!("source[{i}].push.{key}"), message)
                })?;
            }
            let shrink = *s.max_snapshot_shrink.get_ref();
            if !(0.0..=1.0).contains(&shrink) {
                return Err(err(
                    s.max_snapshot_shrink.span(),
                    format!("source[{i}].max_snapshot_shrink"),
                    format!("is {shrink}; a share from 0 to 1 (0.3 = 30%)"),
                ));
            }
            if let Some(document) = &s.document {
                crate::transport::setup::validate_document(document).map_err(|e| {
                    err(e.span, format!("source[{i}].document.{}", e.key), e.message)
                })?;
            }
        }
        if let Some(server) = &self.feed_server {
            server
                .validate()
                .map_err(|e| err(e.span, format!("feed_server.{}", e.key), e.message))?;
        }
        if let Some(listen) = &self.push_listen {
            crate::push::parse_listen(listen.get_ref())
                .map_err(|message| err(listen.span(), "push_listen".into(), message))?;
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
            if let Some(feed) = &p.feed {
                crate::transport::setup::validate_feed(feed, self.feed_server.is_some())
                    .map_err(|e| err(e.span, format!("platform[{i}].feed.{}", e.key), e.message))?;
            }
        }
        if let Some(admin) = &self.admin {
            if admin
                .listen
                .get_ref()
                .parse::<std::net::SocketAddr>()
                .is_err()
            {
                return Err(err(
                    admin.listen.span(),
                    "admin.listen".into(),
                    format!(
                        "`{}` is not an address and port, e.g. \"127.0.0.1:8450\"",
                        admin.listen.get_ref()
                    ),
                ));
            }
            let days = *admin.access_log_retention_days.get_ref();
            if !(1..=3650).contains(&days) {
                return Err(err(
                    admin.access_log_retention_days.span(),
                    "admin.access_log_retention_days".into(),
                    format!("is {days}; allowed 1 to 3650"),
                ));
            }
        }
        crate::quality::config::validate(self, text, file)?;
        if let Some(alerts) = &self.alerts {
            alerts.validate(text, file)?;
        }
        for (i, key) in self.plugins.trusted_keys.iter().enumerate() {
            if let Err(e) = forecourt_signing::TrustedKeys::parse_line(key.get_ref()) {
                return Err(err(
                    key.span(),
                    format!("plugins.trusted_keys[{i}]"),
                    e.to_string(),
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

    #[test]
    fn admin_section_is_optional_and_validated() {
        assert!(RawConfig::parse("", "f.toml").unwrap().admin.is_none());
        let c = RawConfig::parse("[admin]\n", "f.toml").unwrap();
        assert_eq!(c.admin.unwrap().listen_addr().port(), 8450);
        let err = RawConfig::parse("[admin]\nlisten = \"localhost\"\n", "f.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:2: admin.listen: `localhost` is not an address and port, e.g. \"127.0.0.1:8450\""
        );
        let err =
            RawConfig::parse("[admin]\naccess_log_retention_days = 0\n", "f.toml").unwrap_err();
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn transports_are_validated_with_line_and_key() {
        let ok = RawConfig::parse(
            r#"
[feed_server]
listen = "127.0.0.1:8780"
[[source]]
id = "dms"
plugin = "csv-export"
[source.document.sftp]
host = "sftp.dms.example"
username = "dealer"
key_file = "id_ed25519"
known_hosts = "known_hosts"
path = "/exports/stock-*.csv"
[[platform]]
id = "google"
plugin = "google-vehicle-ads"
[platform.feed]
directory = "feeds"
serve = { auth = "basic", username = "merchant", password_secret = "feed_password" }
[platform.feed.sftp]
host = "upload.example"
username = "u"
password_secret = "sftp_password"
host_key_fingerprint = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
"#,
            "f.toml",
        )
        .unwrap();
        assert!(ok.platforms[0].feed.as_ref().unwrap().sftp.is_some());

        let err = |text: &str| RawConfig::parse(text, "f.toml").unwrap_err();
        let two = err("[[source]]\nid = \"dms\"\nplugin = \"x\"\n[source.document]\nfile = \"a.csv\"\n[source.document.url]\naddress = \"https://x.example/a.csv\"\n");
        assert_eq!(two.key, "source[0].document.(table)");
        assert!(two.message.contains("exactly one"), "{two}");
        let pattern = err("[[source]]\nid = \"dms\"\nplugin = \"x\"\n[source.document.directory]\npath = \"drop\"\npattern = \"a/b\"\n");
        assert_eq!(
            pattern.to_string(),
            "f.toml:6: source[0].document.directory.pattern: must be a file-name pattern such as `stock-*.csv` (no directories)"
        );
        let no_host_key = err("[[platform]]\nid = \"p\"\nplugin = \"x\"\n[platform.feed.sftp]\nhost = \"h\"\nusername = \"u\"\nkey_file = \"k\"\n");
        assert_eq!(no_host_key.key, "platform[0].feed.sftp.known_hosts");
        assert_eq!(no_host_key.line, Some(5));
        let no_server = err(
            "[[platform]]\nid = \"p\"\nplugin = \"x\"\n[platform.feed.serve]\nauth = \"none\"\n",
        );
        assert_eq!(no_server.key, "platform[0].feed.serve");
        assert_eq!(no_server.line, Some(5));
        let scheme = err("[feed_server]\nlisten = \"127.0.0.1:1\"\n[[platform]]\nid = \"p\"\nplugin = \"x\"\n[platform.feed.serve]\nauth = \"digest\"\n");
        assert_eq!(scheme.line, Some(7));
        assert!(scheme.message.contains("digest"), "{scheme}");
    }
}
