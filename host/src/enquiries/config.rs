//! The `[enquiries]` and `[[crm]]` sections of `forecourt.toml`, validated
//! with file, line and key in every error like the rest of the file.

use crate::config::{line_of, ConfigError, RawConfig};
use crate::runtime::egress::OperatorGrants;
use crate::sync::retry::RetryPolicy;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use toml::Spanned;

/// `[enquiries]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnquiries {
    /// Days an enquiry's personal data is kept before it is deleted (1 to 3650).
    #[serde(default = "default_retention_days")]
    pub retention_days: Spanned<u32>,
    /// Platform ids whose `fetch-enquiries` is pulled on a schedule.
    #[serde(default)]
    pub pull: Vec<Spanned<String>>,
    /// Seconds between pulls of each platform (60 to 86,400, default 300).
    #[serde(default = "default_pull_interval")]
    pub pull_interval_secs: Spanned<u64>,
    /// The signed webhook platforms push enquiries to.
    #[serde(default)]
    pub webhook: Option<RawWebhook>,
}

/// `[enquiries.webhook]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    /// Address to listen on, e.g. "0.0.0.0:8780" (behind the dealer's TLS proxy).
    pub listen: Spanned<String>,
    /// Platform ids that may push; each needs the secret `enquiry_webhook` of that platform.
    pub platforms: Vec<Spanned<String>>,
    /// How far a signature's timestamp may be from the host's clock (30 to 3600 s, default 300).
    #[serde(default = "default_tolerance")]
    pub tolerance_secs: Spanned<u64>,
}

fn default_retention_days() -> Spanned<u32> {
    Spanned::new(0..0, 90)
}
fn default_pull_interval() -> Spanned<u64> {
    Spanned::new(0..0, 300)
}
fn default_tolerance() -> Spanned<u64> {
    Spanned::new(0..0, crate::webhook_signature::DEFAULT_TOLERANCE_SECS)
}
fn empty_table() -> toml::Table {
    toml::Table::new()
}

/// `[[crm]]`: one place enquiries are delivered to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCrm {
    /// Unique id of this delivery target.
    pub id: Spanned<String>,
    /// Plugin id of a `crm` plugin: it delivers (HTTP), or renders the document the host e-mails.
    pub plugin: Spanned<String>,
    /// The plugin's configuration, handed to it as JSON.
    #[serde(default = "empty_table")]
    pub config: toml::Table,
    /// Retry settings.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// The operator's grants to this plugin.
    #[serde(default)]
    pub grants: OperatorGrants,
    /// Deliver by e-mail (the host sends the plugin's rendered document)
    /// instead of through the plugin's `deliver`.
    #[serde(default)]
    pub email: Option<RawEmail>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS; refused if the server cannot (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this machine.
    None,
}

/// `[crm.email]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmail {
    /// Recipients (the dealer's lead inbox, often the CRM's ADF address).
    pub to: Vec<Spanned<String>>,
    /// Sender address.
    pub from: Spanned<String>,
    /// SMTP server host name.
    pub smtp_host: Spanned<String>,
    /// SMTP port (default 587; 465 with `tls`).
    #[serde(default)]
    pub smtp_port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Secret (of this target id) holding the SMTP user name, if the server wants one.
    #[serde(default)]
    pub username_secret: Option<String>,
    /// Secret (of this target id) holding the SMTP password.
    #[serde(default)]
    pub password_secret: Option<String>,
    /// Seconds one SMTP command may take (default 30).
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

fn default_smtp_timeout() -> u64 {
    30
}

impl RawEmail {
    /// The port in use.
    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.security {
            SmtpSecurity::Tls => 465,
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::None => 25,
        })
    }
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Check `[enquiries]` and `[[crm]]`; `ids` holds the source and platform
/// ids already taken (CRM target ids share that namespace).
pub fn validate(
    config: &RawConfig,
    ids: &mut BTreeSet<String>,
    text: &str,
    file: &str,
) -> Result<(), ConfigError> {
    let err = |span: std::ops::Range<usize>, key: String, message: String| ConfigError {
        file: file.to_string(),
        line: line_of(text, span),
        key,
        message,
    };
    let platforms: BTreeSet<&str> = config
        .platforms
        .iter()
        .map(|p| p.id.get_ref().as_str())
        .collect();
    let known_platform = |id: &Spanned<String>, key: String| {
        if platforms.contains(id.get_ref().as_str()) {
            Ok(())
        } else {
            Err(err(
                id.span(),
                key,
                format!(
                    "`{}` is not a [[platform]] id (known: {})",
                    id.get_ref(),
                    platforms.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            ))
        }
    };
    if let Some(e) = &config.enquiries {
        let days = *e.retention_days.get_ref();
        if !(1..=3650).contains(&days) {
            return Err(err(
                e.retention_days.span(),
                "enquiries.retention_days".into(),
                format!("is {days}; allowed 1 to 3650 days"),
            ));
        }
        let interval = *e.pull_interval_secs.get_ref();
        if !(60..=86_400).contains(&interval) {
            return Err(err(
                e.pull_interval_secs.span(),
                "enquiries.pull_interval_secs".into(),
                format!("is {interval}; allowed 60 (1 minute) to 86400 (24 hours)"),
            ));
        }
        for (i, p) in e.pull.iter().enumerate() {
            known_platform(p, format!("enquiries.pull[{i}]"))?;
        }
        if let Some(w) = &e.webhook {
            if w.listen.get_ref().parse::<SocketAddr>().is_err() {
                return Err(err(
                    w.listen.span(),
                    "enquiries.webhook.listen".into(),
                    format!("`{}` is not an address:port", w.listen.get_ref()),
                ));
            }
            if w.platforms.is_empty() {
                return Err(err(
                    w.listen.span(),
                    "enquiries.webhook.platforms".into(),
                    "name at least one platform that pushes enquiries".into(),
                ));
            }
            for (i, p) in w.platforms.iter().enumerate() {
                known_platform(p, format!("enquiries.webhook.platforms[{i}]"))?;
            }
            let tolerance = *w.tolerance_secs.get_ref();
            if !(30..=3600).contains(&tolerance) {
                return Err(err(
                    w.tolerance_secs.span(),
                    "enquiries.webhook.tolerance_secs".into(),
                    format!("is {tolerance}; allowed 30 to 3600 seconds"),
                ));
            }
        }
    }
    for (i, c) in config.crm.iter().enumerate() {
        let id = c.id.get_ref();
        if id.is_empty()
            || !id
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            return Err(err(
                c.id.span(),
                format!("crm[{i}].id"),
                "use lower-case letters, digits and dashes".into(),
            ));
        }
        if !ids.insert(id.clone()) {
            return Err(err(
                c.id.span(),
                format!("crm[{i}].id"),
                format!("`{id}` is used twice"),
            ));
        }
        if c.retry.max_attempts == 0 || c.retry.base_ms == 0 || c.retry.cap_ms < c.retry.base_ms {
            return Err(err(
                c.id.span(),
                format!("crm[{i}].retry"),
                "needs max_attempts >= 1, base_ms >= 1 and cap_ms >= base_ms".into(),
            ));
        }
        if let Some(m) = &c.email {
            if m.to.is_empty() {
                return Err(err(
                    m.from.span(),
                    format!("crm[{i}].email.to"),
                    "name at least one recipient".into(),
                ));
            }
            for (j, to) in m.to.iter().enumerate() {
                if to.get_ref().parse::<lettre::Address>().is_err() {
                    return Err(err(
                        to.span(),
                        format!("crm[{i}].email.to[{j}]"),
                        format!("`{}` is not an e-mail address", to.get_ref()),
                    ));
                }
            }
            if m.from
                .get_ref()
                .parse::<lettre::message::Mailbox>()
                .is_err()
            {
                return Err(err(
                    m.from.span(),
                    format!("crm[{i}].email.from"),
                    format!("`{}` is not an e-mail address", m.from.get_ref()),
                ));
            }
            let host = m.smtp_host.get_ref();
            if host.is_empty() || host.contains(['/', ' ', '@']) {
                return Err(err(
                    m.smtp_host.span(),
                    format!("crm[{i}].email.smtp_host"),
                    format!("`{host}` is not a host name"),
                ));
            }
            if m.security == SmtpSecurity::None && !is_loopback_host(host) {
                // Enquiries are personal data: never across a network in clear.
                return Err(err(
                    m.smtp_host.span(),
                    format!("crm[{i}].email.security"),
                    format!("`none` sends buyers' details unencrypted; it is allowed only for a relay on this machine, not `{host}`"),
                ));
            }
            if m.username_secret.is_some() != m.password_secret.is_some() {
                return Err(err(
                    m.smtp_host.span(),
                    format!("crm[{i}].email"),
                    "set both username_secret and password_secret, or neither".into(),
                ));
            }
            if !(1..=300).contains(&m.timeout_secs) {
                return Err(err(
                    m.smtp_host.span(),
                    format!("crm[{i}].email.timeout_secs"),
                    format!("is {}; allowed 1 to 300", m.timeout_secs),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::RawConfig;

    const BASE: &str = "[[platform]]\nid = \"autotrader\"\nplugin = \"autotrader\"\n";

    fn parse(extra: &str) -> Result<RawConfig, crate::config::ConfigError> {
        RawConfig::parse(&format!("{BASE}{extra}"), "f.toml")
    }

    #[test]
    fn a_full_section_parses() {
        let c = parse(
            r#"
[enquiries]
retention_days = 30
pull = ["autotrader"]
webhook = { listen = "127.0.0.1:8780", platforms = ["autotrader"] }

[[crm]]
id = "dealer-crm"
plugin = "adf-crm"
config = { endpoint = "https://crm.example.com/leads" }

[[crm]]
id = "sales-inbox"
plugin = "adf-crm"
email = { to = ["sales@dealer.example"], from = "Forecourt <leads@dealer.example>", smtp_host = "smtp.dealer.example" }
"#,
        )
        .unwrap();
        let e = c.enquiries.unwrap();
        assert_eq!(*e.retention_days.get_ref(), 30);
        assert_eq!(*e.webhook.unwrap().tolerance_secs.get_ref(), 300);
        assert_eq!(c.crm.len(), 2);
        assert_eq!(c.crm[1].email.as_ref().unwrap().port(), 587);
    }

    #[test]
    fn errors_name_line_and_key() {
        let err = parse("[enquiries]\nretention_days = 0\n").unwrap_err();
        assert_eq!(err.key, "enquiries.retention_days");
        assert_eq!(err.line, Some(5));
        let err = parse("[enquiries]\npull = [\"ebay\"]\n").unwrap_err();
        assert_eq!(err.key, "enquiries.pull[0]");
        assert!(err.message.contains("not a [[platform]] id"), "{err}");
        let err = parse("[[crm]]\nid = \"autotrader\"\nplugin = \"adf-crm\"\n").unwrap_err();
        assert_eq!(err.key, "crm[0].id");
        assert!(err.message.contains("used twice"), "{err}");
        let err = parse(
            "[[crm]]\nid = \"m\"\nplugin = \"adf-crm\"\nemail = { to = [\"nope\"], from = \"a@b.example\", smtp_host = \"smtp.example\" }\n",
        )
        .unwrap_err();
        assert_eq!(err.key, "crm[0].email.to[0]");
        let err = parse(
            "[[crm]]\nid = \"m\"\nplugin = \"adf-crm\"\nemail = { to = [\"a@b.example\"], from = \"a@b.example\", smtp_host = \"smtp.example\", security = \"none\" }\n",
        )
        .unwrap_err();
        assert_eq!(err.key, "crm[0].email.security");
        assert!(parse(
            "[[crm]]\nid = \"m\"\nplugin = \"adf-crm\"\nemail = { to = [\"a@b.example\"], from = \"a@b.example\", smtp_host = \"127.0.0.1\", security = \"none\", smtp_port = 2525 }\n",
        )
        .is_ok());
        let err = parse(
            "[enquiries]\nwebhook = { listen = \"nowhere\", platforms = [\"autotrader\"] }\n",
        )
        .unwrap_err();
        assert_eq!(err.key, "enquiries.webhook.listen");
    }
}
