//! E-mail over SMTP with lettre: STARTTLS (required) by default, implicit
//! TLS, or plain text for a relay on this machine. The password is read from
//! the secret store for each message, so rotating it needs no restart.

use super::{secret, ChannelError, EmailSpec, SmtpTls};
use crate::alerts::message::Message;
use crate::runtime::secrets::SecretStore;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

fn settings(message: String) -> ChannelError {
    ChannelError::Settings(message)
}

fn tls_parameters(spec: &EmailSpec) -> Result<TlsParameters, ChannelError> {
    let mut builder = TlsParameters::builder(spec.host.clone());
    if let Some(path) = &spec.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| settings(format!("cannot read ca_file {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| settings(format!("ca_file {}: {e}", path.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| settings(format!("TLS settings: {e}")))
}

/// Build the e-mail (plain text, UTF-8).
pub fn build(spec: &EmailSpec, message: &Message) -> Result<lettre::Message, ChannelError> {
    let from: Mailbox = spec
        .from
        .parse()
        .map_err(|e| settings(format!("`from`: {e}")))?;
    let mut builder = lettre::Message::builder()
        .from(from)
        .subject(message.subject.clone())
        .header(ContentType::TEXT_PLAIN);
    for to in &spec.to {
        builder = builder.to(to.parse().map_err(|e| settings(format!("`to`: {e}")))?);
    }
    builder
        .body(message.body.clone())
        .map_err(|e| settings(format!("the e-mail could not be built: {e}")))
}

/// Send one message to every recipient in one SMTP transaction.
pub async fn send(
    spec: &EmailSpec,
    message: &Message,
    secrets: &dyn SecretStore,
) -> Result<(), ChannelError> {
    let email = build(spec, message)?;
    let tls = match spec.tls {
        SmtpTls::StartTls => Tls::Required(tls_parameters(spec)?),
        SmtpTls::Tls => Tls::Wrapper(tls_parameters(spec)?),
        SmtpTls::None => Tls::None,
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(spec.host.as_str())
        .port(spec.port)
        .tls(tls)
        .timeout(Some(spec.timeout));
    if let (Some(user), Some(secret_name)) = (&spec.username, &spec.password_secret) {
        let password = secret(secrets, secret_name)?;
        transport = transport.credentials(Credentials::new(
            user.clone(),
            password.expose().to_string(),
        ));
    }
    let transport = transport.build();
    // lettre's own timeout covers each command; this one covers the whole exchange.
    let deadline = spec.timeout * 3;
    match tokio::time::timeout(deadline, transport.send(email)).await {
        Err(_) => Err(ChannelError::Timeout(deadline)),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(ChannelError::Smtp {
            permanent: e.is_permanent(),
            message: e.to_string(),
        }),
    }
}
