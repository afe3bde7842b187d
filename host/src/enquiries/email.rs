//! E-mail delivery of a lead: the document a `crm` plugin rendered (ADF XML
//! for the reference plugin), sent by the host over SMTP as the plain-text
//! body, which is how ADF leads are usually mailed to a CRM's lead address.
//!
//! Credentials come from the secret store (secrets of the `[[crm]]` target
//! id) at the moment of sending, so rotating them needs no restart. Errors
//! are classified like a platform's: 4xx replies and network trouble are
//! transient, 535 is `auth`, other 5xx replies are permanent.

use super::config::{RawEmail, SmtpSecurity};
use crate::runtime::crm_api::Document;
use crate::runtime::secrets::SecretStore;
use crate::runtime::types::{ErrorClass, PluginError};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// One target's mail settings, resolved.
pub struct Mailer {
    target: String,
    settings: RawEmail,
    from: Mailbox,
    to: Vec<Mailbox>,
    secrets: Arc<dyn SecretStore>,
}

/// A refused setting (the config is validated first, so this is rare).
#[derive(Debug, thiserror::Error)]
#[error("crm `{target}`: e-mail: {message}")]
pub struct MailerError {
    target: String,
    message: String,
}

fn error(class: ErrorClass, message: String) -> PluginError {
    PluginError {
        class,
        message,
        retry_after_ms: None,
        field: None,
    }
}

impl Mailer {
    /// Resolve `settings` for target `target`.
    pub fn new(
        target: &str,
        settings: &RawEmail,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, MailerError> {
        let bad = |message: String| MailerError {
            target: target.to_string(),
            message,
        };
        let from = settings
            .from
            .get_ref()
            .parse::<Mailbox>()
            .map_err(|e| bad(format!("from: {e}")))?;
        let to = settings
            .to
            .iter()
            .map(|t| t.get_ref().parse::<Mailbox>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("to: {e}")))?;
        Ok(Self {
            target: target.to_string(),
            settings: settings.clone(),
            from,
            to,
            secrets,
        })
    }

    /// The recipients, for reports.
    pub fn recipients(&self) -> Vec<String> {
        self.to.iter().map(|m| m.email.to_string()).collect()
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, PluginError> {
        let host = self.settings.smtp_host.get_ref().clone();
        let tls = match self.settings.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::Starttls | SmtpSecurity::Tls => {
                let params = TlsParameters::new(host.clone()).map_err(|e| {
                    error(ErrorClass::Permanent, format!("TLS set-up for {host}: {e}"))
                })?;
                if self.settings.security == SmtpSecurity::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(self.settings.port())
            .tls(tls)
            .timeout(Some(Duration::from_secs(self.settings.timeout_secs)));
        if let (Some(user), Some(password)) = (
            &self.settings.username_secret,
            &self.settings.password_secret,
        ) {
            let value = |name: &str| {
                self.secrets.get(&self.target, name).ok_or_else(|| {
                    error(
                        ErrorClass::Auth,
                        format!(
                            "the host has no value for secret `{name}` of crm `{}`",
                            self.target
                        ),
                    )
                })
            };
            builder = builder.credentials(Credentials::new(
                value(user)?.expose().to_string(),
                value(password)?.expose().to_string(),
            ));
        }
        Ok(builder.build())
    }

    /// Send one lead's document. `uid` becomes the Message-ID, so a CRM
    /// that de-duplicates on it sees a retried send as the same message.
    pub async fn send(
        &self,
        uid: &str,
        subject: &str,
        document: &Document,
    ) -> Result<(), PluginError> {
        let domain = self.from.email.domain().to_string();
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .message_id(Some(format!("<{uid}@{domain}>")));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let part = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(document.body.clone());
        let mut message = builder.singlepart(part).map_err(|e| {
            error(
                ErrorClass::Permanent,
                format!("cannot build the message: {e}"),
            )
        })?;
        // Machine-readable hints for a CRM's mail parser.
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Forecourt-Enquiry"),
            uid.to_string(),
        ));
        if !document.content_type.is_empty() && document.content_type.is_ascii() {
            message.headers_mut().insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Lead-Content-Type"),
                document.content_type.clone(),
            ));
        }
        let transport = self.transport()?;
        transport.send(message).await.map(drop).map_err(classify)
    }
}

/// What an SMTP failure means for the retry policy.
fn classify(e: lettre::transport::smtp::Error) -> PluginError {
    let class = match e.status() {
        Some(code) if code.to_string() == "535" || code.to_string() == "530" => ErrorClass::Auth,
        Some(_) if e.is_permanent() => ErrorClass::Permanent,
        _ => ErrorClass::Transient,
    };
    // lettre's message has the server's reply text; a server may quote an
    // address, so personal data is removed before it is stored.
    error(class, crate::pii::redact(&format!("SMTP: {e}")).0)
}
