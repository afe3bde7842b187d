//! `[source.push]` and `push_listen` in `forecourt.toml`: raw, then checked.

use serde::Deserialize;
use std::net::SocketAddr;
use std::ops::Range;
use toml::Spanned;

/// Where sources without a `listen` of their own receive pushes.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8780";

/// `[source.push]`: the source receives signed pushes at `POST /push/<source-id>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPush {
    /// Name of the signing secret, looked up in the secret store under the
    /// source's plugin id (`FORECOURT_SECRET_<PLUGIN>_<NAME>` or the secrets file).
    #[serde(default = "default_secret")]
    pub secret: Spanned<String>,
    /// A second secret accepted while the DMS moves to a new one.
    #[serde(default)]
    pub previous_secret: Option<Spanned<String>>,
    /// A listener of its own (`host:port`); default: the shared `push_listen`.
    #[serde(default)]
    pub listen: Option<Spanned<String>>,
    /// How far a push's timestamp may be from the host's clock, in seconds.
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: Spanned<u64>,
    /// Largest body accepted, in KiB.
    #[serde(default = "default_max_body")]
    pub max_body_kib: Spanned<u64>,
    /// Also pull the source every `interval_secs` (plugins that do both).
    #[serde(default)]
    pub also_pull: bool,
}

fn default_secret() -> Spanned<String> {
    Spanned::new(0..0, "push_secret".into())
}
fn default_tolerance() -> Spanned<u64> {
    Spanned::new(0..0, 300)
}
fn default_max_body() -> Spanned<u64> {
    Spanned::new(0..0, 1024)
}

/// A problem in the push settings: the span, the key under the source, and what is wrong.
pub type PushConfigProblem = (Range<usize>, String, String);

fn valid_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Parse a listen address, naming what is wrong.
pub fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.trim().parse().map_err(|_| {
        format!("{value:?} is not an address to listen on (e.g. \"127.0.0.1:8780\" or \"0.0.0.0:8780\")")
    })
}

impl RawPush {
    /// Check ranges and names; the key is relative to `source[i].push`.
    pub fn check(&self) -> Result<(), PushConfigProblem> {
        for (key, secret) in [
            Some(("secret", &self.secret)),
            self.previous_secret
                .as_ref()
                .map(|s| ("previous_secret", s)),
        ]
        .into_iter()
        .flatten()
        {
            if !valid_secret_name(secret.get_ref()) {
                return Err((
                    secret.span(),
                    key.into(),
                    format!(
                        "{:?} is not a secret name (letters, digits, '_', '-', '.'); the value itself goes in the secret store",
                        secret.get_ref()
                    ),
                ));
            }
        }
        if let Some(listen) = &self.listen {
            parse_listen(listen.get_ref()).map_err(|m| (listen.span(), "listen".into(), m))?;
        }
        let tolerance = *self.tolerance_secs.get_ref();
        if !(30..=86_400).contains(&tolerance) {
            return Err((
                self.tolerance_secs.span(),
                "tolerance_secs".into(),
                format!("is {tolerance}; allowed 30 to 86400 (default 300: five minutes)"),
            ));
        }
        let body = *self.max_body_kib.get_ref();
        if !(1..=65_536).contains(&body) {
            return Err((
                self.max_body_kib.span(),
                "max_body_kib".into(),
                format!("is {body}; allowed 1 to 65536 (64 MiB)"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::RawConfig;

    #[test]
    fn push_settings_parse_with_defaults_and_errors_name_line_and_key() {
        let c = RawConfig::parse(
            "[[source]]\nid = \"dms\"\nplugin = \"dms-webhook\"\n[source.push]\n",
            "f.toml",
        )
        .unwrap();
        let push = c.sources[0].push.as_ref().unwrap();
        assert_eq!(push.secret.get_ref(), "push_secret");
        assert_eq!(*push.tolerance_secs.get_ref(), 300);
        assert!(!push.also_pull);
        let err = |text: &str| RawConfig::parse(text, "f.toml").unwrap_err().to_string();
        let base = "[[source]]\nid = \"dms\"\nplugin = \"dms-webhook\"\n[source.push]\n";
        assert_eq!(
            err(&format!("{base}tolerance_secs = 5\n")),
            "f.toml:5: source[0].push.tolerance_secs: is 5; allowed 30 to 86400 (default 300: five minutes)"
        );
        assert!(err(&format!("{base}listen = \"localhost\"\n")).contains("source[0].push.listen"));
        assert!(err(&format!("{base}secret = \"abc def\"\n")).contains("source[0].push.secret"));
        assert!(err(&format!("{base}max_body_kib = 0\n")).contains("max_body_kib"));
        assert!(err(&format!("{base}secrett = \"x\"\n")).contains("secrett"));
        assert!(err("push_listen = \"nowhere\"\n").contains("push_listen"));
    }
}
