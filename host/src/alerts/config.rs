//! `[alerts]` in `forecourt.toml`: the evaluation interval, the rules with
//! their thresholds and cooldowns, and `[[alerts.channel]]` entries.
//!
//! Parsed as part of [`crate::config::RawConfig`] (unknown keys are errors),
//! validated with file, line and key in every error, then turned into
//! [`AlertSettings`] for the running service.

use super::channels::{ChannelKind, ChannelSpec, EmailSpec, Endpoint, SmsSpec, SmtpTls};
use super::rules::{self, Rule, RuleName, Rules};
use crate::config::{line_of, ConfigError};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// `[alerts]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// Seconds between evaluations, 10 to 3,600 (default 60).
    #[serde(default = "default_interval")]
    pub interval_secs: Spanned<u64>,
    /// Minutes before a still-firing alert is sent again (default 60); each rule may override it.
    #[serde(default = "default_cooldown")]
    pub cooldown_minutes: Spanned<u64>,
    /// The rules; every rule is on with its defaults unless configured otherwise.
    #[serde(default)]
    pub rules: RawRules,
    /// Where alerts go.
    #[serde(default, rename = "channel")]
    pub channels: Vec<RawChannel>,
}

fn default_interval() -> Spanned<u64> {
    Spanned::new(0..0, 60)
}
fn default_cooldown() -> Spanned<u64> {
    Spanned::new(0..0, 60)
}

/// `[alerts.rules]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRules {
    /// N deliveries in a row failed on a platform.
    #[serde(default)]
    pub delivery_failures: RawDeliveryFailures,
    /// The share of failed deliveries over a window is above a threshold.
    #[serde(default)]
    pub error_rate: RawErrorRate,
    /// A sold, withdrawn or removed vehicle is still listed after N minutes.
    #[serde(default)]
    pub sold_still_listed: RawSoldStillListed,
    /// A platform is paused because it refused our credentials.
    #[serde(default)]
    pub platform_paused: RawToggle,
    /// Operations are waiting in the dead-letter queue.
    #[serde(default)]
    pub dead_letters: RawToggle,
    /// A source has not completed a pull for too long.
    #[serde(default)]
    pub source_stale: RawSourceStale,
    /// Repeated failed logins to the admin API.
    #[serde(default)]
    pub failed_logins: RawFailedLogins,
}

/// A rule without parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToggle {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Overrides `[alerts] cooldown_minutes`.
    #[serde(default)]
    pub cooldown_minutes: Option<Spanned<u64>>,
}

impl Default for RawToggle {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown_minutes: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// `[alerts.rules.delivery_failures]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeliveryFailures {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Overrides `[alerts] cooldown_minutes`.
    #[serde(default)]
    pub cooldown_minutes: Option<Spanned<u64>>,
    /// Failed deliveries in a row, 1 to 1,000 (default 5).
    #[serde(default = "default_consecutive")]
    pub consecutive: Spanned<u32>,
}

fn default_consecutive() -> Spanned<u32> {
    Spanned::new(0..0, 5)
}

impl Default for RawDeliveryFailures {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown_minutes: None,
            consecutive: default_consecutive(),
        }
    }
}

/// `[alerts.rules.error_rate]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawErrorRate {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Overrides `[alerts] cooldown_minutes`.
    #[serde(default)]
    pub cooldown_minutes: Option<Spanned<u64>>,
    /// Share of failed deliveries, above 0 up to 1 (default 0.25).
    #[serde(default = "default_threshold")]
    pub threshold: Spanned<f64>,
    /// Window in minutes, 1 to 1,440 (default 15).
    #[serde(default = "default_window")]
    pub window_minutes: Spanned<u64>,
    /// Fewer deliveries than this in the window never fire (default 20).
    #[serde(default = "default_min_operations")]
    pub min_operations: Spanned<u64>,
}

fn default_threshold() -> Spanned<f64> {
    Spanned::new(0..0, 0.25)
}
fn default_window() -> Spanned<u64> {
    Spanned::new(0..0, 15)
}
fn default_min_operations() -> Spanned<u64> {
    Spanned::new(0..0, 20)
}

impl Default for RawErrorRate {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown_minutes: None,
            threshold: default_threshold(),
            window_minutes: default_window(),
            min_operations: default_min_operations(),
        }
    }
}

/// `[alerts.rules.sold_still_listed]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSoldStillListed {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Overrides `[alerts] cooldown_minutes`.
    #[serde(default)]
    pub cooldown_minutes: Option<Spanned<u64>>,
    /// Minutes after the sale (on top of the platform's `deadvertise_delay_secs`), 0 to 10,080 (default 30).
    #[serde(default = "default_sold_after")]
    pub after_minutes: Spanned<u64>,
}

fn default_sold_after() -> Spanned<u64> {
    Spanned::new(0..0, 30)
}

impl Default for RawSoldStillListed {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown_minutes: None,
            after_minutes: default_sold_after(),
        }
    }
}

/// `[alerts.rules.source_stale]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSourceStale {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Overrides `[alerts] cooldown_minutes`.
    #[serde(default)]
    pub cooldown_minutes: Option<Spanned<u64>>,
    /// Minutes without a completed pull, 1 to 10,080 (default: three of the
    /// source's intervals, at least 30 minutes).
    #[serde(default)]
    pub after_minutes: Option<Spanned<u64>>,
}

impl Default for RawSourceStale {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown_minutes: None,
            after_minutes: None,
        }
    }
}

/// `[alerts.rules.failed_logins]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailedLogins {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Overrides `[alerts] cooldown_minutes`.
    #[serde(default)]
    pub cooldown_minutes: Option<Spanned<u64>>,
    /// Failed logins in the window, 1 to 100,000 (default 10).
    #[serde(default = "default_login_threshold")]
    pub threshold: Spanned<u64>,
    /// Window in minutes, 1 to 1,440 (default 15).
    #[serde(default = "default_window")]
    pub window_minutes: Spanned<u64>,
}

fn default_login_threshold() -> Spanned<u64> {
    Spanned::new(0..0, 10)
}

impl Default for RawFailedLogins {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown_minutes: None,
            threshold: default_login_threshold(),
            window_minutes: default_window(),
        }
    }
}

/// `[[alerts.channel]]`: one table for every kind; keys that do not belong
/// to the kind are refused by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    /// `email`, `webhook` or `sms`.
    pub kind: Spanned<String>,
    /// Unique name (default: the kind); alert state is kept per channel name.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Only these rules (default: all).
    #[serde(default)]
    pub rules: Option<Spanned<Vec<String>>>,
    /// Seconds one delivery attempt may take, 1 to 120 (default 20).
    #[serde(default)]
    pub timeout_secs: Option<Spanned<u64>>,

    /// E-mail: the SMTP server.
    #[serde(default)]
    pub smtp_host: Option<Spanned<String>>,
    /// E-mail: port (default 587 with STARTTLS, 465 with TLS, 25 without).
    #[serde(default)]
    pub smtp_port: Option<Spanned<u16>>,
    /// E-mail: `starttls` (default), `tls` or `none` (plain, for a relay on this machine).
    #[serde(default)]
    pub tls: Option<Spanned<String>>,
    /// E-mail: extra PEM root certificates to trust (a private relay's CA).
    #[serde(default)]
    pub ca_file: Option<Spanned<PathBuf>>,
    /// E-mail: SMTP user name.
    #[serde(default)]
    pub username: Option<Spanned<String>>,
    /// E-mail: name of the secret (in the `alerts` namespace) holding the SMTP password.
    #[serde(default)]
    pub password_secret: Option<Spanned<String>>,
    /// E-mail: the sender, `Name <address>` or an address.
    #[serde(default)]
    pub from: Option<Spanned<String>>,
    /// E-mail and SMS: recipients.
    #[serde(default)]
    pub to: Option<Spanned<Vec<String>>>,

    /// Webhook and SMS: where to POST.
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    /// Webhook and SMS: name of a secret holding the URL instead (Slack's URLs carry their token).
    #[serde(default)]
    pub url_secret: Option<Spanned<String>>,
    /// Webhook and SMS: a header to authenticate with, e.g. `Authorization`.
    #[serde(default)]
    pub auth_header: Option<Spanned<String>>,
    /// Webhook and SMS: name of the secret holding that header's value.
    #[serde(default)]
    pub auth_secret: Option<Spanned<String>>,
    /// SMS: the request body, with `{to}` and `{message}` (default `{"to":"{to}","message":"{message}"}`).
    #[serde(default)]
    pub body: Option<Spanned<String>>,
    /// SMS: `application/json` (default), `application/x-www-form-urlencoded` or `text/plain`;
    /// decides how `{to}` and `{message}` are escaped.
    #[serde(default)]
    pub content_type: Option<Spanned<String>>,
}

/// Resolved alerting settings.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Time between evaluations.
    pub interval: Duration,
    /// The rules.
    pub rules: Rules,
    /// The channels.
    pub channels: Vec<ChannelSpec>,
}

/// The SMS body when none is configured.
pub const DEFAULT_SMS_BODY: &str = r#"{"to":"{to}","message":"{message}"}"#;

const EMAIL_KEYS: &[&str] = &[
    "smtp_host",
    "smtp_port",
    "tls",
    "ca_file",
    "username",
    "password_secret",
    "from",
];
const HTTP_KEYS: &[&str] = &["url", "url_secret", "auth_header", "auth_secret"];
const SMS_KEYS: &[&str] = &["body", "content_type"];

struct Check<'a> {
    text: &'a str,
    file: &'a str,
}

impl Check<'_> {
    fn err(&self, span: std::ops::Range<usize>, key: String, message: String) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: line_of(self.text, span),
            key,
            message,
        }
    }

    fn range<T: PartialOrd + std::fmt::Display + Copy>(
        &self,
        value: &Spanned<T>,
        key: &str,
        allowed: std::ops::RangeInclusive<T>,
        unit: &str,
    ) -> Result<(), ConfigError> {
        let v = *value.get_ref();
        if allowed.contains(&v) {
            Ok(())
        } else {
            Err(self.err(
                value.span(),
                key.into(),
                format!(
                    "is {v}; allowed {} to {}{unit}",
                    allowed.start(),
                    allowed.end()
                ),
            ))
        }
    }

    fn cooldown(&self, value: &Option<Spanned<u64>>, rule: &str) -> Result<(), ConfigError> {
        match value {
            Some(v) => self.range(
                v,
                &format!("alerts.rules.{rule}.cooldown_minutes"),
                1..=10_080,
                " minutes",
            ),
            None => Ok(()),
        }
    }

    fn secret_name(&self, value: &Option<Spanned<String>>, key: &str) -> Result<(), ConfigError> {
        if let Some(name) = value {
            let n = name.get_ref();
            if n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(self.err(
                    name.span(),
                    key.into(),
                    format!("`{n}` is not a secret name: use letters, digits, `_` and `-` (the value goes in the secrets file's [alerts] table or FORECOURT_SECRET_ALERTS_<NAME>)"),
                ));
            }
        }
        Ok(())
    }
}

impl RawAlerts {
    /// Check ranges, names and each channel's keys; `text` and `file` are for messages.
    pub fn validate(&self, text: &str, file: &str) -> Result<(), ConfigError> {
        let c = Check { text, file };
        c.range(
            &self.interval_secs,
            "alerts.interval_secs",
            10..=3_600,
            " seconds",
        )?;
        c.range(
            &self.cooldown_minutes,
            "alerts.cooldown_minutes",
            1..=10_080,
            " minutes (a week)",
        )?;
        let r = &self.rules;
        c.cooldown(&r.delivery_failures.cooldown_minutes, "delivery_failures")?;
        c.range(
            &r.delivery_failures.consecutive,
            "alerts.rules.delivery_failures.consecutive",
            1..=1_000,
            "",
        )?;
        c.cooldown(&r.error_rate.cooldown_minutes, "error_rate")?;
        let t = *r.error_rate.threshold.get_ref();
        if !(t > 0.0 && t <= 1.0) {
            return Err(c.err(
                r.error_rate.threshold.span(),
                "alerts.rules.error_rate.threshold".into(),
                format!("is {t}; a share above 0 up to 1 (0.25 = 25%)"),
            ));
        }
        c.range(
            &r.error_rate.window_minutes,
            "alerts.rules.error_rate.window_minutes",
            1..=1_440,
            " minutes",
        )?;
        c.range(
            &r.error_rate.min_operations,
            "alerts.rules.error_rate.min_operations",
            1..=1_000_000,
            "",
        )?;
        c.cooldown(&r.sold_still_listed.cooldown_minutes, "sold_still_listed")?;
        c.range(
            &r.sold_still_listed.after_minutes,
            "alerts.rules.sold_still_listed.after_minutes",
            0..=10_080,
            " minutes",
        )?;
        c.cooldown(&r.platform_paused.cooldown_minutes, "platform_paused")?;
        c.cooldown(&r.dead_letters.cooldown_minutes, "dead_letters")?;
        c.cooldown(&r.source_stale.cooldown_minutes, "source_stale")?;
        if let Some(after) = &r.source_stale.after_minutes {
            c.range(
                after,
                "alerts.rules.source_stale.after_minutes",
                1..=10_080,
                " minutes",
            )?;
        }
        c.cooldown(&r.failed_logins.cooldown_minutes, "failed_logins")?;
        c.range(
            &r.failed_logins.threshold,
            "alerts.rules.failed_logins.threshold",
            1..=100_000,
            "",
        )?;
        c.range(
            &r.failed_logins.window_minutes,
            "alerts.rules.failed_logins.window_minutes",
            1..=1_440,
            " minutes",
        )?;
        let mut names = BTreeSet::new();
        for (i, ch) in self.channels.iter().enumerate() {
            validate_channel(&c, i, ch, &mut names)?;
        }
        Ok(())
    }

    /// Resolve relative paths against the configuration file's directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        for ch in &mut self.channels {
            if let Some(ca) = &mut ch.ca_file {
                if ca.get_ref().is_relative() {
                    *ca = Spanned::new(ca.span(), base.join(ca.get_ref()));
                }
            }
        }
    }

    /// The settings of a validated `[alerts]` table.
    pub fn settings(&self) -> AlertSettings {
        let minutes = |m: u64| m as i64 * 60_000;
        let default_cooldown = minutes(*self.cooldown_minutes.get_ref());
        let cooldown = |v: &Option<Spanned<u64>>| {
            v.as_ref()
                .map_or(default_cooldown, |m| minutes(*m.get_ref()))
        };
        let r = &self.rules;
        let rules = Rules {
            delivery_failures: r.delivery_failures.enabled.then(|| Rule {
                params: rules::DeliveryFailures {
                    consecutive: *r.delivery_failures.consecutive.get_ref(),
                },
                cooldown_ms: cooldown(&r.delivery_failures.cooldown_minutes),
            }),
            error_rate: r.error_rate.enabled.then(|| Rule {
                params: rules::ErrorRate {
                    threshold: *r.error_rate.threshold.get_ref(),
                    window_ms: minutes(*r.error_rate.window_minutes.get_ref()),
                    min_operations: *r.error_rate.min_operations.get_ref(),
                },
                cooldown_ms: cooldown(&r.error_rate.cooldown_minutes),
            }),
            sold_still_listed: r.sold_still_listed.enabled.then(|| Rule {
                params: rules::SoldStillListed {
                    after_ms: minutes(*r.sold_still_listed.after_minutes.get_ref()),
                },
                cooldown_ms: cooldown(&r.sold_still_listed.cooldown_minutes),
            }),
            platform_paused: r.platform_paused.enabled.then(|| Rule {
                params: (),
                cooldown_ms: cooldown(&r.platform_paused.cooldown_minutes),
            }),
            dead_letters: r.dead_letters.enabled.then(|| Rule {
                params: (),
                cooldown_ms: cooldown(&r.dead_letters.cooldown_minutes),
            }),
            source_stale: r.source_stale.enabled.then(|| Rule {
                params: rules::SourceStale {
                    after_ms: r
                        .source_stale
                        .after_minutes
                        .as_ref()
                        .map(|m| minutes(*m.get_ref())),
                },
                cooldown_ms: cooldown(&r.source_stale.cooldown_minutes),
            }),
            failed_logins: r.failed_logins.enabled.then(|| Rule {
                params: rules::FailedLogins {
                    threshold: *r.failed_logins.threshold.get_ref(),
                    window_ms: minutes(*r.failed_logins.window_minutes.get_ref()),
                },
                cooldown_ms: cooldown(&r.failed_logins.cooldown_minutes),
            }),
        };
        AlertSettings {
            interval: Duration::from_secs(*self.interval_secs.get_ref()),
            rules,
            channels: self.channels.iter().map(channel_spec).collect(),
        }
    }
}

fn present_keys(ch: &RawChannel) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let mut keys = Vec::new();
    let mut add = |name: &'static str, span: Option<std::ops::Range<usize>>| {
        if let Some(span) = span {
            keys.push((name, span));
        }
    };
    add("smtp_host", ch.smtp_host.as_ref().map(Spanned::span));
    add("smtp_port", ch.smtp_port.as_ref().map(Spanned::span));
    add("tls", ch.tls.as_ref().map(Spanned::span));
    add("ca_file", ch.ca_file.as_ref().map(Spanned::span));
    add("username", ch.username.as_ref().map(Spanned::span));
    add(
        "password_secret",
        ch.password_secret.as_ref().map(Spanned::span),
    );
    add("from", ch.from.as_ref().map(Spanned::span));
    add("to", ch.to.as_ref().map(Spanned::span));
    add("url", ch.url.as_ref().map(Spanned::span));
    add("url_secret", ch.url_secret.as_ref().map(Spanned::span));
    add("auth_header", ch.auth_header.as_ref().map(Spanned::span));
    add("auth_secret", ch.auth_secret.as_ref().map(Spanned::span));
    add("body", ch.body.as_ref().map(Spanned::span));
    add("content_type", ch.content_type.as_ref().map(Spanned::span));
    keys
}

fn channel_name(ch: &RawChannel) -> String {
    ch.name
        .as_ref()
        .map_or_else(|| ch.kind.get_ref().clone(), |n| n.get_ref().clone())
}

fn validate_channel(
    c: &Check,
    i: usize,
    ch: &RawChannel,
    names: &mut BTreeSet<String>,
) -> Result<(), ConfigError> {
    let at = |key: &str| format!("alerts.channel[{i}].{key}");
    let kind = ch.kind.get_ref().as_str();
    let allowed: Vec<&str> = match kind {
        "email" => EMAIL_KEYS.iter().chain(&["to"]).copied().collect(),
        "webhook" => HTTP_KEYS.to_vec(),
        "sms" => HTTP_KEYS
            .iter()
            .chain(SMS_KEYS)
            .chain(&["to"])
            .copied()
            .collect(),
        other => {
            return Err(c.err(
                ch.kind.span(),
                at("kind"),
                format!("`{other}` is not a channel kind; use `email`, `webhook` or `sms`"),
            ))
        }
    };
    for (key, span) in present_keys(ch) {
        if !allowed.contains(&key) {
            return Err(c.err(
                span,
                at(key),
                format!("does not apply to a `{kind}` channel"),
            ));
        }
    }
    let name = channel_name(ch);
    let name_span = ch.name.as_ref().map_or(ch.kind.span(), Spanned::span);
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(c.err(
            name_span,
            at("name"),
            "use letters, digits, `-` and `_`".into(),
        ));
    }
    if !names.insert(name.clone()) {
        return Err(c.err(
            name_span,
            at("name"),
            format!("`{name}` is used by another channel; give each channel a unique `name`"),
        ));
    }
    if let Some(rules) = &ch.rules {
        for r in rules.get_ref() {
            if RuleName::parse(r).is_none() {
                return Err(c.err(
                    rules.span(),
                    at("rules"),
                    format!(
                        "`{r}` is not a rule; use {}",
                        RuleName::ALL
                            .iter()
                            .map(|r| format!("`{}`", r.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(t) = &ch.timeout_secs {
        c.range(t, &at("timeout_secs"), 1..=120, " seconds")?;
    }
    let to_required = |what: &str| -> Result<&Spanned<Vec<String>>, ConfigError> {
        match &ch.to {
            Some(to) if !to.get_ref().is_empty() => Ok(to),
            Some(to) => Err(c.err(to.span(), at("to"), format!("needs at least one {what}"))),
            None => Err(c.err(
                ch.kind.span(),
                at("to"),
                format!("missing: the {what}s to send to"),
            )),
        }
    };
    match kind {
        "email" => {
            let host = ch.smtp_host.as_ref().ok_or_else(|| {
                c.err(
                    ch.kind.span(),
                    at("smtp_host"),
                    "missing: the SMTP server".into(),
                )
            })?;
            if host.get_ref().trim().is_empty() {
                return Err(c.err(host.span(), at("smtp_host"), "is empty".into()));
            }
            let tls = match ch.tls.as_ref().map(|t| t.get_ref().as_str()) {
                None | Some("starttls") => SmtpTls::StartTls,
                Some("tls") => SmtpTls::Tls,
                Some("none") => SmtpTls::None,
                Some(other) => {
                    return Err(c.err(
                        ch.tls.as_ref().map(Spanned::span).unwrap_or_default(),
                        at("tls"),
                        format!("`{other}` is not a TLS mode; use `starttls`, `tls` or `none`"),
                    ))
                }
            };
            if tls == SmtpTls::None && ch.username.is_some() && !is_loopback(host.get_ref()) {
                return Err(c.err(
                    ch.tls.as_ref().map(Spanned::span).unwrap_or_default(),
                    at("tls"),
                    format!(
                        "`none` would send the SMTP password to {} in clear text; use `starttls` or `tls` (plain SMTP is for a relay on this machine)",
                        host.get_ref()
                    ),
                ));
            }
            if ch.username.is_some() != ch.password_secret.is_some() {
                let (span, key) = match &ch.username {
                    Some(u) => (u.span(), "password_secret"),
                    None => (
                        ch.password_secret
                            .as_ref()
                            .map(Spanned::span)
                            .unwrap_or_default(),
                        "username",
                    ),
                };
                return Err(c.err(
                    span,
                    at(key),
                    "missing: `username` and `password_secret` go together".into(),
                ));
            }
            c.secret_name(&ch.password_secret, &at("password_secret"))?;
            if let Some(ca) = &ch.ca_file {
                let path = ca.get_ref();
                let pem = std::fs::read(path).map_err(|e| {
                    c.err(
                        ca.span(),
                        at("ca_file"),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                lettre::transport::smtp::client::Certificate::from_pem(&pem).map_err(|e| {
                    c.err(
                        ca.span(),
                        at("ca_file"),
                        format!("{} is not a PEM certificate: {e}", path.display()),
                    )
                })?;
            }
            let from = ch.from.as_ref().ok_or_else(|| {
                c.err(
                    ch.kind.span(),
                    at("from"),
                    "missing: the sender address".into(),
                )
            })?;
            if let Err(e) = from.get_ref().parse::<lettre::message::Mailbox>() {
                return Err(c.err(
                    from.span(),
                    at("from"),
                    format!("`{}` is not an e-mail address: {e}", from.get_ref()),
                ));
            }
            let to = to_required("e-mail address")?;
            for address in to.get_ref() {
                if let Err(e) = address.parse::<lettre::message::Mailbox>() {
                    return Err(c.err(
                        to.span(),
                        at("to"),
                        format!("`{address}` is not an e-mail address: {e}"),
                    ));
                }
            }
        }
        "webhook" | "sms" => {
            match (&ch.url, &ch.url_secret) {
                (Some(url), None) => {
                    if let Err(message) = super::channels::http::check_url(url.get_ref()) {
                        return Err(c.err(url.span(), at("url"), message));
                    }
                }
                (None, Some(_)) => c.secret_name(&ch.url_secret, &at("url_secret"))?,
                (Some(url), Some(_)) => {
                    return Err(c.err(
                        url.span(),
                        at("url"),
                        "give `url` or `url_secret`, not both".into(),
                    ))
                }
                (None, None) => {
                    return Err(c.err(
                        ch.kind.span(),
                        at("url"),
                        "missing: set `url`, or `url_secret` naming a secret that holds it".into(),
                    ))
                }
            }
            if ch.auth_header.is_some() != ch.auth_secret.is_some() {
                let span = ch
                    .auth_header
                    .as_ref()
                    .or(ch.auth_secret.as_ref())
                    .map(Spanned::span)
                    .unwrap_or_default();
                return Err(c.err(
                    span,
                    at(if ch.auth_header.is_some() {
                        "auth_secret"
                    } else {
                        "auth_header"
                    }),
                    "missing: `auth_header` and `auth_secret` go together".into(),
                ));
            }
            if let Some(h) = &ch.auth_header {
                if http::HeaderName::from_bytes(h.get_ref().as_bytes()).is_err() {
                    return Err(c.err(
                        h.span(),
                        at("auth_header"),
                        format!("`{}` is not an HTTP header name", h.get_ref()),
                    ));
                }
            }
            c.secret_name(&ch.auth_secret, &at("auth_secret"))?;
            if kind == "sms" {
                to_required("phone number")?;
                let content_type = ch
                    .content_type
                    .as_ref()
                    .map_or("application/json", |t| t.get_ref().as_str());
                let Some(escape) = super::channels::sms::Escape::for_content_type(content_type)
                else {
                    return Err(c.err(
                        ch.content_type.as_ref().map(Spanned::span).unwrap_or_default(),
                        at("content_type"),
                        format!("`{content_type}` is not supported; use `application/json`, `application/x-www-form-urlencoded` or `text/plain`"),
                    ));
                };
                let body = ch
                    .body
                    .as_ref()
                    .map_or(DEFAULT_SMS_BODY, |b| b.get_ref().as_str());
                if let Err(message) = super::channels::sms::check_template(body, escape) {
                    return Err(c.err(
                        ch.body.as_ref().map(Spanned::span).unwrap_or_default(),
                        at("body"),
                        message,
                    ));
                }
            }
        }
        _ => unreachable!("kinds checked above"),
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn channel_spec(ch: &RawChannel) -> ChannelSpec {
    let s = |v: &Option<Spanned<String>>| v.as_ref().map(|v| v.get_ref().clone());
    let timeout = Duration::from_secs(ch.timeout_secs.as_ref().map_or(20, |t| *t.get_ref()));
    let endpoint = || Endpoint {
        url: s(&ch.url),
        url_secret: s(&ch.url_secret),
        auth_header: s(&ch.auth_header),
        auth_secret: s(&ch.auth_secret),
        timeout,
    };
    let to = ch
        .to
        .as_ref()
        .map(|t| t.get_ref().clone())
        .unwrap_or_default();
    let kind = match ch.kind.get_ref().as_str() {
        "email" => {
            let tls = match ch.tls.as_ref().map(|t| t.get_ref().as_str()) {
                Some("tls") => SmtpTls::Tls,
                Some("none") => SmtpTls::None,
                _ => SmtpTls::StartTls,
            };
            ChannelKind::Email(EmailSpec {
                host: s(&ch.smtp_host).unwrap_or_default(),
                port: ch
                    .smtp_port
                    .as_ref()
                    .map_or(tls.default_port(), |p| *p.get_ref()),
                tls,
                ca_file: ch.ca_file.as_ref().map(|p| p.get_ref().clone()),
                username: s(&ch.username),
                password_secret: s(&ch.password_secret),
                from: s(&ch.from).unwrap_or_default(),
                to,
                timeout,
            })
        }
        "sms" => ChannelKind::Sms(SmsSpec {
            endpoint: endpoint(),
            to,
            body: s(&ch.body).unwrap_or_else(|| DEFAULT_SMS_BODY.into()),
            content_type: s(&ch.content_type).unwrap_or_else(|| "application/json".into()),
        }),
        _ => ChannelKind::Webhook(endpoint()),
    };
    ChannelSpec {
        name: channel_name(ch),
        rules: ch.rules.as_ref().map(|r| {
            r.get_ref()
                .iter()
                .filter_map(|n| RuleName::parse(n))
                .collect()
        }),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::RawConfig;

    fn parse(alerts: &str) -> Result<RawConfig, crate::config::ConfigError> {
        RawConfig::parse(alerts, "forecourt.toml")
    }

    #[test]
    fn defaults_apply_without_an_alerts_table_entry() {
        let c = parse("[alerts]\n").unwrap();
        let s = c.alerts.unwrap().settings();
        assert_eq!(s.interval.as_secs(), 60);
        let dl = s.rules.delivery_failures.unwrap();
        assert_eq!((dl.params.consecutive, dl.cooldown_ms), (5, 3_600_000));
        assert_eq!(s.rules.error_rate.unwrap().params.threshold, 0.25);
        assert_eq!(
            s.rules.sold_still_listed.unwrap().params.after_ms,
            1_800_000
        );
        assert!(s.rules.source_stale.unwrap().params.after_ms.is_none());
        assert!(s.channels.is_empty());
    }

    #[test]
    fn a_full_configuration_resolves() {
        let c = parse(
            r#"
[alerts]
interval_secs = 30
cooldown_minutes = 120
[alerts.rules.delivery_failures]
consecutive = 3
cooldown_minutes = 10
[alerts.rules.dead_letters]
enabled = false
[[alerts.channel]]
kind = "email"
name = "ops-mail"
smtp_host = "127.0.0.1"
tls = "none"
username = "forecourt"
password_secret = "smtp_password"
from = "forecourt <alerts@dealer.example>"
to = ["ops@dealer.example"]
[[alerts.channel]]
kind = "webhook"
url_secret = "slack_url"
[[alerts.channel]]
kind = "sms"
url = "https://sms.example/send"
auth_header = "Authorization"
auth_secret = "sms_token"
to = ["+447700900123"]
rules = ["platform_paused", "sold_still_listed"]
body = "to={to}&text={message}"
content_type = "application/x-www-form-urlencoded"
"#,
        )
        .unwrap();
        let s = c.alerts.unwrap().settings();
        assert_eq!(s.interval.as_secs(), 30);
        let dl = s.rules.delivery_failures.unwrap();
        assert_eq!((dl.params.consecutive, dl.cooldown_ms), (3, 600_000));
        assert_eq!(s.rules.platform_paused.unwrap().cooldown_ms, 7_200_000);
        assert!(s.rules.dead_letters.is_none());
        let names: Vec<_> = s.channels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["ops-mail", "webhook", "sms"]);
        assert_eq!(s.channels[2].rules.as_ref().unwrap().len(), 2);
        match &s.channels[0].kind {
            super::ChannelKind::Email(e) => assert_eq!(e.port, 25),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let cases = [
            ("[alerts]\ninterval_secs = 5\n", 2, "alerts.interval_secs", "allowed 10 to 3600"),
            (
                "[alerts]\n[alerts.rules.error_rate]\nthreshold = 1.5\n",
                3,
                "alerts.rules.error_rate.threshold",
                "a share",
            ),
            (
                "[alerts]\n[[alerts.channel]]\nkind = \"pager\"\n",
                3,
                "alerts.channel[0].kind",
                "not a channel kind",
            ),
            (
                "[alerts]\n[[alerts.channel]]\nkind = \"webhook\"\nurl = \"https://x.example/h\"\nsmtp_host = \"mail\"\n",
                5,
                "alerts.channel[0].smtp_host",
                "does not apply to a `webhook` channel",
            ),
            (
                "[alerts]\n[[alerts.channel]]\nkind = \"webhook\"\nurl = \"ftp://x.example/h\"\n",
                4,
                "alerts.channel[0].url",
                "http or https",
            ),
            (
                "[alerts]\n[[alerts.channel]]\nkind = \"email\"\nsmtp_host = \"mail.example\"\nfrom = \"not an address\"\nto = [\"ops@dealer.example\"]\n",
                5,
                "alerts.channel[0].from",
                "not an e-mail address",
            ),
            (
                "[alerts]\n[[alerts.channel]]\nkind = \"email\"\nsmtp_host = \"mail.example\"\ntls = \"none\"\nusername = \"u\"\npassword_secret = \"p\"\nfrom = \"a@b.example\"\nto = [\"c@d.example\"]\n",
                5,
                "alerts.channel[0].tls",
                "clear text",
            ),
            (
                "[alerts]\n[[alerts.channel]]\nkind = \"webhook\"\nurl = \"https://a.example/\"\n[[alerts.channel]]\nkind = \"webhook\"\nurl = \"https://b.example/\"\n",
                6,
                "alerts.channel[1].name",
                "used by another channel",
            ),
            (
                "[alerts]\n[[alerts.channel]]\nkind = \"sms\"\nurl = \"https://a.example/\"\nto = [\"+447700900123\"]\nbody = '{\"to\": {to}}'\n",
                6,
                "alerts.channel[0].body",
                "{message}",
            ),
            (
                "[alerts]\n[[alerts.channel]]\nkind = \"webhook\"\nurl = \"https://a.example/\"\nrules = [\"everything\"]\n",
                5,
                "alerts.channel[0].rules",
                "not a rule",
            ),
        ];
        for (text, line, key, message) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.line, Some(line), "{text}: {err}");
            assert_eq!(err.key, key, "{text}: {err}");
            assert!(err.message.contains(message), "{text}: {err}");
            assert!(err
                .to_string()
                .starts_with(&format!("forecourt.toml:{line}: {key}: ")));
        }
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let err = parse("[alerts]\n[alerts.rules.error_rate]\nwindow = 5\n").unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("window"), "{err}");
    }
}
