//! SMS through an HTTP gateway: one POST per recipient, the body built from
//! the operator's template with `{to}` and `{message}` escaped for the
//! body's content type, the message cut to 160 characters (one SMS).

use super::{http, ChannelError, SmsSpec};
use crate::alerts::message::Message;
use crate::runtime::secrets::SecretStore;

/// The length of one SMS.
pub const SMS_CHARS: usize = 160;

/// How placeholder values are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Inside a JSON string.
    Json,
    /// Form-encoded.
    Form,
    /// As is.
    Plain,
}

impl Escape {
    /// The escaping for a content type, if supported.
    pub fn for_content_type(content_type: &str) -> Option<Escape> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Some(Escape::Json),
            "application/x-www-form-urlencoded" => Some(Escape::Form),
            "text/plain" => Some(Escape::Plain),
            _ => None,
        }
    }

    fn apply(self, value: &str) -> String {
        match self {
            Escape::Json => {
                let quoted = serde_json::to_string(value).expect("strings serialise");
                quoted[1..quoted.len() - 1].to_string()
            }
            Escape::Form => form_urlencoded::byte_serialize(value.as_bytes()).collect(),
            Escape::Plain => value.to_string(),
        }
    }
}

/// Fill the template. Placeholders are replaced in one pass, so a `{to}`
/// inside the message is never expanded again.
pub fn render(template: &str, escape: Escape, to: &str, message: &str) -> String {
    let mut out = String::with_capacity(template.len() + message.len());
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{to}") {
            out.push_str(&escape.apply(to));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{message}") {
            out.push_str(&escape.apply(message));
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Check a template at configuration time: it must use both placeholders
/// and, for JSON, give valid JSON.
pub fn check_template(template: &str, escape: Escape) -> Result<(), String> {
    for placeholder in ["{to}", "{message}"] {
        if !template.contains(placeholder) {
            return Err(format!("the body template must contain {placeholder}"));
        }
    }
    if escape == Escape::Json {
        let sample = render(template, escape, "+447700900000", "a \"quoted\" message");
        serde_json::from_str::<serde_json::Value>(&sample).map_err(|e| {
            format!("with {{to}} and {{message}} filled in, the body is not JSON: {e} (put the placeholders inside quotes)")
        })?;
    }
    Ok(())
}

/// Send the short form of `message` to every recipient.
pub async fn send(
    spec: &SmsSpec,
    message: &Message,
    secrets: &dyn SecretStore,
) -> Result<(), ChannelError> {
    let (url, mut headers) = super::webhook::resolve(&spec.endpoint, secrets)?;
    let escape = Escape::for_content_type(&spec.content_type)
        .ok_or_else(|| ChannelError::Settings("unsupported content type".into()))?;
    headers.push((
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_str(&spec.content_type)
            .map_err(|_| ChannelError::Settings("invalid content type".into()))?,
    ));
    let text = crate::alerts::message::cut(&message.short, SMS_CHARS);
    for to in &spec.to {
        let body = render(&spec.body, escape, to, &text);
        http::post(&url, &headers, body.into_bytes(), spec.endpoint.timeout).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_escaped_for_the_content_type() {
        let m = "autotrader \"paused\" & {to}";
        assert_eq!(
            render(
                r#"{"to":"{to}","text":"{message}"}"#,
                Escape::Json,
                "+44",
                m
            ),
            r#"{"to":"+44","text":"autotrader \"paused\" & {to}"}"#
        );
        assert_eq!(
            render("to={to}&body={message}", Escape::Form, "+447700900123", m),
            "to=%2B447700900123&body=autotrader+%22paused%22+%26+%7Bto%7D"
        );
        assert_eq!(
            render("{to}: {message} {x}", Escape::Plain, "1", "hi"),
            "1: hi {x}"
        );
    }

    #[test]
    fn templates_are_checked() {
        assert!(check_template(crate::alerts::config::DEFAULT_SMS_BODY, Escape::Json).is_ok());
        assert!(
            check_template(r#"{"to":{to},"m":"{message}"}"#, Escape::Json)
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(check_template("to={to}", Escape::Form)
            .unwrap_err()
            .contains("{message}"));
        assert_eq!(
            Escape::for_content_type("application/json; charset=utf-8"),
            Some(Escape::Json)
        );
        assert_eq!(Escape::for_content_type("application/xml"), None);
    }
}
