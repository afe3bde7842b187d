//! Delivering leads by HTTP, as pure logic with the transport passed in:
//! one POST of the ADF document per lead, and what each answer means.
//!
//! | answer | outcome |
//! |---|---|
//! | 2xx | delivered; the CRM's reference from `Location`, a JSON `id`/`leadId`, else the lead id |
//! | 409 | delivered before (the CRM de-duplicated on `Idempotency-Key`): success, the lead id |
//! | 429 | `rate-limited`, `Retry-After` honoured; the rest of the batch is not sent |
//! | 401, 403 | `auth`; the rest of the batch is not sent |
//! | 400, 422 | `validation` |
//! | 5xx, timeouts | `transient` |
//! | other 4xx | `permanent` |

use std::time::Duration;

use forecourt_sdk::http::{self, Response};
use forecourt_sdk::{DeliveryResult, ErrorClass, Lead, PluginError};

use crate::adf;
use crate::config::Config;

/// Longest wait for one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A request starts only if it can time out within this much of a call (the manifest allows 30 s).
pub const CALL_BUDGET: Duration = Duration::from_secs(25);

/// One POST to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The endpoint.
    pub url: String,
    /// Headers (never credentials: the host injects those).
    pub headers: Vec<(String, String)>,
    /// The ADF document.
    pub body: String,
}

/// Sends a request; the time spent so far decides whether another may start.
pub trait Transport {
    /// Send one POST.
    fn send(&mut self, post: &Post) -> Result<Response, PluginError>;
    /// Time since the call began.
    fn elapsed(&self) -> Duration;
}

/// The request for one lead.
pub fn post_for(config: &Config, lead: &Lead) -> Result<Post, PluginError> {
    let url = config.endpoint.clone().ok_or_else(|| {
        PluginError::validation(
            "config",
            "no `endpoint` is configured: this CRM target can only be used for e-mail delivery",
        )
    })?;
    Ok(Post {
        url,
        headers: vec![
            (
                "content-type".into(),
                format!("{}; charset=utf-8", config.content_type),
            ),
            ("accept".into(), "application/json, */*".into()),
            ("idempotency-key".into(), lead.id.clone()),
            ("x-forecourt-lead-id".into(), lead.id.clone()),
        ],
        body: adf::render(config, lead)?,
    })
}

/// The CRM's reference for a lead it accepted.
fn reference(response: &Response, lead: &Lead) -> String {
    if let Some(location) = response.header("location").filter(|l| !l.trim().is_empty()) {
        return location.trim().to_string();
    }
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(&response.body) {
        for key in ["id", "leadId", "lead_id", "reference"] {
            match &body[key] {
                serde_json::Value::String(s) if !s.is_empty() => return s.clone(),
                serde_json::Value::Number(n) => return n.to_string(),
                _ => {}
            }
        }
    }
    lead.id.clone()
}

/// What one answer means for its lead.
pub fn outcome(response: &Response, lead: &Lead) -> Result<String, PluginError> {
    if response.is_success() {
        return Ok(reference(response, lead));
    }
    if response.status == 409 {
        return Ok(lead.id.clone());
    }
    let mut e = match http::error_for_status(response.clone()) {
        Err(e) => e,
        Ok(r) => PluginError::permanent(format!("unexpected HTTP {} from the CRM", r.status)),
    };
    // The SDK quotes the body; a CRM may echo the lead, so keep only the status line.
    e.message = format!(
        "the CRM answered HTTP {} ({})",
        response.status,
        match e.class {
            ErrorClass::Transient => "temporary failure",
            ErrorClass::RateLimited => "rate limited",
            ErrorClass::Auth => "credentials refused",
            ErrorClass::Validation => "lead refused",
            ErrorClass::Permanent => "refused",
        }
    );
    Err(e)
}

fn stops_batch(e: &PluginError) -> bool {
    matches!(e.class, ErrorClass::Auth | ErrorClass::RateLimited)
}

/// Deliver a batch: one result per lead, in order.
pub fn deliver(
    config: &Config,
    leads: &[Lead],
    transport: &mut dyn Transport,
) -> Vec<DeliveryResult> {
    let mut stop: Option<PluginError> = None;
    leads
        .iter()
        .map(|lead| {
            let outcome = if let Some(e) = &stop {
                Err(PluginError {
                    message: format!("not sent: {}", e.message),
                    ..e.clone()
                })
            } else if transport.elapsed() + REQUEST_TIMEOUT > CALL_BUDGET {
                Err(PluginError::transient(
                    "not sent: this deliver call used its time budget; retried in the next batch",
                ))
            } else {
                post_for(config, lead)
                    .and_then(|post| transport.send(&post))
                    .and_then(|response| outcome(&response, lead))
            };
            if let Err(e) = &outcome {
                if stops_batch(e) && stop.is_none() {
                    stop = Some(e.clone());
                }
            }
            DeliveryResult {
                id: lead.id.clone(),
                outcome,
            }
        })
        .collect()
}
