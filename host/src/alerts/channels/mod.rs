//! Where alerts go: SMTP e-mail, a Slack-compatible webhook, an HTTP SMS
//! gateway. Credentials are read from the secret store at the moment of
//! sending (rotation needs no restart) and never appear in errors or logs.

pub mod http;
pub mod sms;
pub mod smtp;
pub mod webhook;

use super::message::Message;
use super::rules::RuleName;
use crate::runtime::secrets::{SecretStore, SecretValue};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// The secret-store namespace of alert channel secrets: the secrets file's
/// `[alerts]` table, or `FORECOURT_SECRET_ALERTS_<NAME>`.
pub const SECRETS_NAMESPACE: &str = "alerts";

/// One configured channel.
#[derive(Debug, Clone)]
pub struct ChannelSpec {
    /// Unique name; alert state is kept per name.
    pub name: String,
    /// Only these rules (`None`: all).
    pub rules: Option<BTreeSet<RuleName>>,
    /// Kind and settings.
    pub kind: ChannelKind,
}

/// A channel's kind and settings.
#[derive(Debug, Clone)]
pub enum ChannelKind {
    /// SMTP e-mail.
    Email(EmailSpec),
    /// `{"text": ...}` POSTed to a URL.
    Webhook(Endpoint),
    /// An HTTP SMS gateway.
    Sms(SmsSpec),
}

impl ChannelKind {
    /// `email`, `webhook` or `sms`.
    pub fn name(&self) -> &'static str {
        match self {
            ChannelKind::Email(_) => "email",
            ChannelKind::Webhook(_) => "webhook",
            ChannelKind::Sms(_) => "sms",
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// Plain text: only for a relay on this machine.
    None,
}

impl SmtpTls {
    /// The usual port for the mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

/// `kind = "email"`
#[derive(Debug, Clone)]
pub struct EmailSpec {
    /// SMTP server.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Protection.
    pub tls: SmtpTls,
    /// Extra trusted roots (PEM).
    pub ca_file: Option<PathBuf>,
    /// SMTP user.
    pub username: Option<String>,
    /// Secret holding the SMTP password.
    pub password_secret: Option<String>,
    /// Sender.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Time one attempt may take.
    pub timeout: Duration,
}

/// An HTTP endpoint (webhook or SMS gateway).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL, when not secret.
    pub url: Option<String>,
    /// A secret holding the URL.
    pub url_secret: Option<String>,
    /// Header to authenticate with.
    pub auth_header: Option<String>,
    /// Secret holding that header's value.
    pub auth_secret: Option<String>,
    /// Time one attempt may take.
    pub timeout: Duration,
}

/// `kind = "sms"`
#[derive(Debug, Clone)]
pub struct SmsSpec {
    /// The gateway.
    pub endpoint: Endpoint,
    /// Recipients' numbers.
    pub to: Vec<String>,
    /// Body template with `{to}` and `{message}`.
    pub body: String,
    /// Body content type (decides escaping).
    pub content_type: String,
}

/// Why a delivery failed. Messages never contain secrets or the alert text.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// A secret the channel needs is not set.
    #[error("secret `{name}` is not set (secrets file [alerts] table or FORECOURT_SECRET_ALERTS_{})", name.to_ascii_uppercase().replace(['-', '.'], "_"))]
    MissingSecret {
        /// Secret name.
        name: String,
    },
    /// The channel's settings cannot work (bad URL, unreadable CA file, bad address).
    #[error("{0}")]
    Settings(String),
    /// The server could not be reached or the connection broke.
    #[error("connection failed: {0}")]
    Connect(String),
    /// An attempt took too long.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server answered with an HTTP error status.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// The SMTP exchange failed.
    #[error("SMTP: {message}")]
    Smtp {
        /// What the client or server said.
        message: String,
        /// A 5xx answer (bad credentials, refused recipient): retrying will not help.
        permanent: bool,
    },
}

impl ChannelError {
    /// Whether trying again soon may help.
    pub fn is_transient(&self) -> bool {
        match self {
            ChannelError::Connect(_) | ChannelError::Timeout(_) => true,
            ChannelError::Status(code) => *code == 408 || *code == 429 || *code >= 500,
            ChannelError::Smtp { permanent, .. } => !permanent,
            ChannelError::MissingSecret { .. } | ChannelError::Settings(_) => false,
        }
    }
}

/// Look up a secret of the `alerts` namespace.
pub fn secret(secrets: &dyn SecretStore, name: &str) -> Result<SecretValue, ChannelError> {
    secrets
        .get(SECRETS_NAMESPACE, name)
        .ok_or_else(|| ChannelError::MissingSecret { name: name.into() })
}

/// How delivery attempts are repeated within one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all.
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub first_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_delay: Duration::from_secs(2),
        }
    }
}

impl ChannelSpec {
    /// Every secret this channel reads, to check at start.
    pub fn secret_names(&self) -> Vec<&str> {
        fn endpoint(e: &Endpoint) -> Vec<&str> {
            e.url_secret
                .iter()
                .chain(e.auth_secret.iter())
                .map(String::as_str)
                .collect()
        }
        match &self.kind {
            ChannelKind::Email(e) => e.password_secret.iter().map(String::as_str).collect(),
            ChannelKind::Webhook(e) => endpoint(e),
            ChannelKind::Sms(s) => endpoint(&s.endpoint),
        }
    }

    /// One attempt.
    pub async fn send_once(
        &self,
        message: &Message,
        secrets: &dyn SecretStore,
    ) -> Result<(), ChannelError> {
        match &self.kind {
            ChannelKind::Email(spec) => smtp::send(spec, message, secrets).await,
            ChannelKind::Webhook(endpoint) => webhook::send(endpoint, message, secrets).await,
            ChannelKind::Sms(spec) => sms::send(spec, message, secrets).await,
        }
    }

    /// Deliver with retries for transient failures; each failure is logged
    /// with the channel's name and the error (never the secret or the text).
    pub async fn deliver(
        &self,
        message: &Message,
        secrets: &dyn SecretStore,
        retry: Retry,
    ) -> Result<(), ChannelError> {
        let mut delay = retry.first_delay;
        let mut attempt = 1;
        loop {
            match self.send_once(message, secrets).await {
                Ok(()) => return Ok(()),
                Err(error) if error.is_transient() && attempt < retry.attempts => {
                    tracing::warn!(channel = %self.name, kind = self.kind.name(), attempt, %error, "Alert delivery failed; trying again.");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                Err(error) => {
                    tracing::error!(channel = %self.name, kind = self.kind.name(), attempt, %error, "Alert delivery failed.");
                    return Err(error);
                }
            }
        }
    }
}
