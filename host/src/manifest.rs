//! Plugin manifests: the `<plugin>.toml` file beside every component.
//!
//! The manifest is the plugin's half of a two-sided grant: it declares what
//! the plugin needs (outbound hosts, named secrets and how each is injected,
//! resource limits). The operator's configuration is the other half; the
//! runtime grants only the intersection. Parsing is pure (no I/O beyond
//! reading the file) and every error names the file and the key at fault.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A parsed and validated manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Identity and integrity.
    pub plugin: PluginSection,
    /// Resource limits the host enforces on every call.
    #[serde(default)]
    pub limits: Limits,
    /// Outbound HTTP the plugin may make. Absent means none at all.
    #[serde(default)]
    pub http: Vec<HttpGrant>,
    /// Imports the plugin's language runtime brings in that the host links
    /// to implementations which deny every call.
    #[serde(default)]
    pub imports: ImportsSection,
}

/// `[imports]`: interpreters compiled to components (componentize-py's
/// CPython, componentize-js's StarlingMonkey) import WASI file-system,
/// socket and HTTP interfaces whether or not the plugin uses them. Listing a
/// package here asks the host to link it *inert* instead of refusing the
/// component: the file system has no directory at all, every socket and name
/// lookup is denied, and HTTP without `[[http]]` origins refuses every
/// request. Nothing is granted; `plugin inspect` shows each such import.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportsSection {
    /// Packages to link inert: `wasi:filesystem`, `wasi:sockets`, `wasi:http`.
    #[serde(default)]
    pub inert: Vec<String>,
}

/// The packages a manifest may ask to have linked inert.
pub const INERT_PACKAGES: &[&str] = &["wasi:filesystem", "wasi:sockets", "wasi:http"];

impl ImportsSection {
    /// Whether `package` (e.g. `wasi:sockets`) is to be linked inert.
    pub fn is_inert(&self, package: &str) -> bool {
        self.inert.iter().any(|p| p == package)
    }
}

/// `[plugin]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSection {
    /// Unique id, lower-case letters, digits and dashes (`autotrader`).
    pub id: String,
    /// `source`, `platform`, `crm` or `enricher`.
    pub kind: PluginKind,
    /// The plugin's own version.
    pub version: String,
    /// The contract version it was built for; must match the component.
    pub contract: String,
    /// Hex sha256 of the component file.
    pub sha256: String,
    /// One line on what the plugin does.
    #[serde(default)]
    pub description: String,
}

/// The kind of plugin, matching the world its component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// A DMS source (`dms-source` world).
    Source,
    /// A listing platform (`listing-platform` world).
    Platform,
    /// A dealer CRM that receives enquiries (`crm` world, contract 1.1.0).
    Crm,
    /// A vehicle enricher (`enricher` world, contract 1.1.0).
    Enricher,
}

/// `[limits]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Total linear memory of one instance, in MiB.
    #[serde(default = "default_memory_mib")]
    pub memory_mib: u32,
    /// Wall-clock budget of one call, in milliseconds, including HTTP waits.
    #[serde(default = "default_call_timeout_ms")]
    pub call_timeout_ms: u64,
    /// Largest HTTP response body the host passes to the plugin, in KiB.
    #[serde(default = "default_http_response_kib")]
    pub http_response_kib: u64,
    /// Largest value (listing body, feed, page) a call may return, in KiB.
    #[serde(default = "default_max_output_kib")]
    pub max_output_kib: u64,
}

fn default_memory_mib() -> u32 {
    64
}
fn default_call_timeout_ms() -> u64 {
    10_000
}
fn default_http_response_kib() -> u64 {
    8 * 1024
}
fn default_max_output_kib() -> u64 {
    32 * 1024
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mib: default_memory_mib(),
            call_timeout_ms: default_call_timeout_ms(),
            http_response_kib: default_http_response_kib(),
            max_output_kib: default_max_output_kib(),
        }
    }
}

/// The hard ceilings a manifest may ask for.
pub const MAX_MEMORY_MIB: u32 = 1024;
/// Longest call a manifest may ask for.
pub const MAX_CALL_TIMEOUT_MS: u64 = 300_000;

/// `[[http]]`: one origin the plugin may call, and how credentials reach it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpGrant {
    /// `scheme://host[:port]`. The host may start with `*.` to match any
    /// subdomain. Without a port the scheme's default is meant.
    pub origin: String,
    /// Credentials the host adds to every request to this origin.
    #[serde(default)]
    pub auth: Option<AuthInjection>,
}

/// How the host injects a credential. The plugin never sees the value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthInjection {
    /// `Authorization: Bearer <secret>`.
    Bearer {
        /// Name of the secret.
        secret: String,
    },
    /// `Authorization: Basic base64(<username>:<password>)`.
    Basic {
        /// Name of the secret holding the user name.
        username_secret: String,
        /// Name of the secret holding the password.
        password_secret: String,
    },
    /// The host exchanges secrets for a short-lived token (Auto Trader's
    /// `POST /authenticate` with `key` and `secret`), keeps it for its
    /// lifetime, renews it when it expires or is refused, and sends
    /// `Authorization: Bearer <token>`. The plugin never sees key, secret or token.
    TokenExchange {
        /// Path on the same origin that issues tokens, e.g. `/authenticate`.
        token_path: String,
        /// Form fields of the token request: field name → secret name.
        form: std::collections::BTreeMap<String, String>,
        /// Lifetime assumed when the response gives none, in seconds.
        #[serde(default = "default_token_lifetime")]
        default_lifetime_secs: u64,
    },
    /// The host signs each request body: `<header>: t=<unix seconds>,v1=<hex
    /// HMAC-SHA256 of "<t>.<body>" under the secret>`, so a partner can check
    /// the body came from this hub and is fresh.
    HmacSignature {
        /// Name of the signing secret.
        secret: String,
        /// Header carrying the signature.
        header: String,
    },
    /// Any header, for example `X-Api-Key`, with `{secret}` in the template
    /// replaced by the value.
    Header {
        /// Header name.
        name: String,
        /// Name of the secret.
        secret: String,
        /// Value template; defaults to `{secret}`.
        #[serde(default = "default_template")]
        template: String,
    },
}

fn default_token_lifetime() -> u64 {
    900
}

fn default_template() -> String {
    "{secret}".to_string()
}

impl AuthInjection {
    /// The secret names this injection reads.
    pub fn secret_names(&self) -> Vec<&str> {
        match self {
            AuthInjection::Bearer { secret } | AuthInjection::Header { secret, .. } => vec![secret],
            AuthInjection::Basic {
                username_secret,
                password_secret,
            } => vec![username_secret, password_secret],
            AuthInjection::TokenExchange { form, .. } => {
                form.values().map(String::as_str).collect()
            }
            AuthInjection::HmacSignature { secret, .. } => vec![secret],
        }
    }

    /// The header this injection sets (so the guest may not set it).
    pub fn header_name(&self) -> String {
        match self {
            AuthInjection::Bearer { .. }
            | AuthInjection::Basic { .. }
            | AuthInjection::TokenExchange { .. } => "authorization".into(),
            AuthInjection::Header { name, .. }
            | AuthInjection::HmacSignature { header: name, .. } => name.to_ascii_lowercase(),
        }
    }
}

/// A parsed origin pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OriginPattern {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-case host, or `*.suffix`.
    pub host: String,
    /// Explicit or default port.
    pub port: u16,
}

impl OriginPattern {
    /// Parse `scheme://host[:port]`.
    pub fn parse(origin: &str) -> Result<Self, String> {
        let (scheme, rest) = origin
            .split_once("://")
            .ok_or_else(|| format!("`{origin}` is not of the form scheme://host[:port]"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            other => {
                return Err(format!(
                    "scheme `{other}` in `{origin}` is not http or https"
                ))
            }
        };
        if rest.contains('/') || rest.contains('?') || rest.contains('@') {
            return Err(format!(
                "`{origin}` must be an origin only (scheme://host[:port]), without path, query or user"
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => {
                let port = p.parse::<u16>().map_err(|_| {
                    format!("port `{p}` in `{origin}` is not a number from 1 to 65535")
                })?;
                (h, port)
            }
            _ => (rest, default_port),
        };
        let host = host.to_ascii_lowercase();
        if host.is_empty() || host == "*" {
            return Err(format!(
                "`{origin}` allows every host; name the hosts the plugin needs (a leading `*.` is allowed)"
            ));
        }
        if host[1..].contains('*') || (host.starts_with('*') && !host.starts_with("*.")) {
            return Err(format!(
                "`{origin}`: a wildcard is only allowed as a leading `*.`"
            ));
        }
        Ok(Self { scheme, host, port })
    }

    /// Whether a request to `scheme://host:port` matches this pattern.
    pub fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        if !self.scheme.eq_ignore_ascii_case(scheme) || self.port != port {
            return false;
        }
        let host = host.to_ascii_lowercase();
        match self.host.strip_prefix("*.") {
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => self.host == host,
        }
    }
}

/// A manifest that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read plugin manifest {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax or shape error; the message carries line and column.
    #[error("invalid plugin manifest {path}: {message}")]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// What the TOML parser said, with line and key.
        message: String,
    },
    /// A value that parses but is not acceptable.
    #[error("invalid plugin manifest {path}: `{key}` {message}")]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// The offending key, e.g. `http[0].origin`.
        key: String,
        /// Why.
        message: String,
    },
}

impl Manifest {
    /// Read and validate a manifest file.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse and validate manifest text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    fn validate(&self, path: &Path) -> Result<(), ManifestError> {
        let invalid = |key: &str, message: String| ManifestError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            message,
        };
        let id = &self.plugin.id;
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(
                "plugin.id",
                format!("is `{id}`; use 1 to 64 lower-case letters, digits and dashes"),
            ));
        }
        if semver::Version::parse(&self.plugin.contract).is_err() {
            return Err(invalid(
                "plugin.contract",
                format!(
                    "is `{}`, not a semantic version like 1.0.0",
                    self.plugin.contract
                ),
            ));
        }
        let sha = &self.plugin.sha256;
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(
                "plugin.sha256",
                "must be the 64 hex digits of the component's sha256 (cargo xtask plugins fills it in)".into(),
            ));
        }
        if !(1..=MAX_MEMORY_MIB).contains(&self.limits.memory_mib) {
            return Err(invalid(
                "limits.memory_mib",
                format!(
                    "is {}; allowed 1 to {MAX_MEMORY_MIB}",
                    self.limits.memory_mib
                ),
            ));
        }
        if !(10..=MAX_CALL_TIMEOUT_MS).contains(&self.limits.call_timeout_ms) {
            return Err(invalid(
                "limits.call_timeout_ms",
                format!(
                    "is {}; allowed 10 to {MAX_CALL_TIMEOUT_MS}",
                    self.limits.call_timeout_ms
                ),
            ));
        }
        for (i, package) in self.imports.inert.iter().enumerate() {
            if !INERT_PACKAGES.contains(&package.as_str()) {
                return Err(invalid(
                    &format!("imports.inert[{i}]"),
                    format!(
                        "is `{package}`; only {} can be linked inert",
                        INERT_PACKAGES.join(", ")
                    ),
                ));
            }
            if package == "wasi:http" && !self.http.is_empty() {
                return Err(invalid(
                    &format!("imports.inert[{i}]"),
                    "is `wasi:http`, but [[http]] grants origins: HTTP is granted, not inert; remove it from `inert`".into(),
                ));
            }
        }
        for (i, grant) in self.http.iter().enumerate() {
            OriginPattern::parse(&grant.origin)
                .map_err(|m| invalid(&format!("http[{i}].origin"), m))?;
            if let Some(auth) = &grant.auth {
                for name in auth.secret_names() {
                    if name.is_empty() {
                        return Err(invalid(
                            &format!("http[{i}].auth"),
                            "names an empty secret".into(),
                        ));
                    }
                }
                if let AuthInjection::TokenExchange {
                    token_path, form, ..
                } = auth
                {
                    if !token_path.starts_with('/') || form.is_empty() {
                        return Err(invalid(
                            &format!("http[{i}].auth"),
                            "token-exchange needs a token_path starting with `/` and at least one form field".into(),
                        ));
                    }
                }
                if let AuthInjection::Header { template, .. } = auth {
                    if !template.contains("{secret}") {
                        return Err(invalid(
                            &format!("http[{i}].auth.template"),
                            "must contain `{secret}`".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Parsed origin patterns, in manifest order.
    pub fn origins(&self) -> Vec<(OriginPattern, Option<AuthInjection>)> {
        self.http
            .iter()
            .map(|g| {
                (
                    OriginPattern::parse(&g.origin).expect("validated at load"),
                    g.auth.clone(),
                )
            })
            .collect()
    }

    /// Every secret name the manifest asks for.
    pub fn secret_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .http
            .iter()
            .filter_map(|g| g.auth.as_ref())
            .flat_map(|a| a.secret_names().into_iter().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn parse(extra: &str) -> Result<Manifest, ManifestError> {
        let text = format!(
            "[plugin]\nid = \"autotrader\"\nkind = \"platform\"\nversion = \"0.1.0\"\ncontract = \"1.0.0\"\nsha256 = \"{SHA}\"\n{extra}"
        );
        Manifest::parse(&text, Path::new("autotrader.toml"))
    }

    #[test]
    fn minimal_manifest_has_defaults() {
        let m = parse("").unwrap();
        assert_eq!(m.limits.memory_mib, 64);
        assert!(m.http.is_empty());
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let err = parse("[limits]\nmemroy_mib = 3\n").unwrap_err().to_string();
        assert!(err.contains("autotrader.toml"), "{err}");
        assert!(err.contains("memroy_mib"), "{err}");
        assert!(err.contains("line 8"), "{err}");
    }

    #[test]
    fn origin_patterns() {
        let p = OriginPattern::parse("https://api.example.com").unwrap();
        assert!(p.matches("https", "API.example.com", 443));
        assert!(!p.matches("http", "api.example.com", 443));
        assert!(!p.matches("https", "api.example.com", 8443));
        let w = OriginPattern::parse("https://*.example.com:8443").unwrap();
        assert!(w.matches("https", "a.b.example.com", 8443));
        assert!(!w.matches("https", "example.com", 8443));
        assert!(!w.matches("https", "evilexample.com", 8443));
        assert!(OriginPattern::parse("https://*").is_err());
        assert!(OriginPattern::parse("ftp://x").is_err());
        assert!(OriginPattern::parse("https://x/path").is_err());
        assert!(OriginPattern::parse("https://a.*.com").is_err());
    }

    #[test]
    fn bad_origin_names_the_key() {
        let err = parse("[[http]]\norigin = \"https://*\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("http[0].origin"), "{err}");
    }

    #[test]
    fn inert_imports_are_checked() {
        let m = parse("[imports]\ninert = [\"wasi:filesystem\", \"wasi:http\"]\n").unwrap();
        assert!(m.imports.is_inert("wasi:filesystem"));
        assert!(!m.imports.is_inert("wasi:sockets"));
        let err = parse("[imports]\ninert = [\"wasi:cli\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("imports.inert[0]"), "{err}");
        let err =
            parse("[imports]\ninert = [\"wasi:http\"]\n[[http]]\norigin = \"https://a.example\"\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("HTTP is granted"), "{err}");
    }

    #[test]
    fn secrets_are_collected() {
        let m = parse(
            "[[http]]\norigin = \"https://a.example\"\nauth = { type = \"basic\", username_secret = \"u\", password_secret = \"p\" }\n[[http]]\norigin = \"https://b.example\"\nauth = { type = \"bearer\", secret = \"u\" }\n",
        )
        .unwrap();
        assert_eq!(m.secret_names(), vec!["p", "u"]);
    }
}
