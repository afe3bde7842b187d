//! Slack-compatible webhook: `{"text": "..."}` POSTed as JSON. Slack,
//! Mattermost, Rocket.Chat, Microsoft Teams workflows and most chat tools
//! accept it; the URL may be kept as a secret (Slack's carry their token).

use super::{http, secret, ChannelError, Endpoint};
use crate::alerts::message::Message;
use crate::runtime::secrets::SecretStore;

/// The URL and headers of an endpoint, secrets resolved now.
pub fn resolve(
    endpoint: &Endpoint,
    secrets: &dyn SecretStore,
) -> Result<(String, Vec<(::http::HeaderName, ::http::HeaderValue)>), ChannelError> {
    let url = match (&endpoint.url, &endpoint.url_secret) {
        (Some(url), _) => url.clone(),
        (None, Some(name)) => secret(secrets, name)?.expose().trim().to_string(),
        (None, None) => return Err(ChannelError::Settings("no URL configured".into())),
    };
    let mut headers = Vec::new();
    if let (Some(name), Some(secret_name)) = (&endpoint.auth_header, &endpoint.auth_secret) {
        let name = ::http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ChannelError::Settings(format!("`{name}` is not a header name")))?;
        let value = secret(secrets, secret_name)?;
        let mut value = ::http::HeaderValue::from_str(value.expose().trim()).map_err(|_| {
            ChannelError::Settings(format!(
                "secret `{secret_name}` is not a valid header value"
            ))
        })?;
        value.set_sensitive(true);
        headers.push((name, value));
    }
    Ok((url, headers))
}

/// The JSON body: subject and body as one text.
pub fn body(message: &Message) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "text": format!("{}\n\n{}", message.subject, message.body)
    }))
    .expect("JSON values serialise")
}

/// POST the message.
pub async fn send(
    endpoint: &Endpoint,
    message: &Message,
    secrets: &dyn SecretStore,
) -> Result<(), ChannelError> {
    let (url, mut headers) = resolve(endpoint, secrets)?;
    headers.push((
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static("application/json"),
    ));
    http::post(&url, &headers, body(message), endpoint.timeout).await?;
    Ok(())
}
