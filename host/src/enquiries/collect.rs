//! Getting enquiries into the store: pulled page by page through a platform
//! plugin's `fetch-enquiries`, or parsed from a webhook push. Both end in
//! [`EnquiryStore::store_enquiries`], which de-duplicates by (platform,
//! enquiry id), so an enquiry seen both ways is stored once.

use super::{EnquiryIngest, EnquiryStore, NewEnquiry, Via};
use crate::runtime::platform_api as p;
use crate::runtime::types::Person;
use crate::runtime::Plugin;
use crate::store::now_ms;
use crate::sync::retry::class_name;
use serde::Deserialize;

/// Most pages one pull reads before yielding to the rest of the loop.
pub const MAX_PAGES_PER_PULL: usize = 50;
/// Longest id, stock id or listing id accepted.
const MAX_ID_CHARS: usize = 200;
/// Longest message kept (a buyer's note, not a document).
const MAX_MESSAGE_CHARS: usize = 10_000;
/// Longest name, e-mail address, phone number or address kept.
const MAX_FIELD_CHARS: usize = 500;

/// A platform whose enquiries are pulled.
#[derive(Clone)]
pub struct PullSource {
    /// The platform id.
    pub platform: String,
    /// Its plugin.
    pub plugin: Plugin,
    /// Its configuration (JSON).
    pub config: String,
}

/// What one pull did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct PullSummary {
    /// Platform id.
    pub platform: String,
    /// Pages read.
    pub pages: usize,
    /// New enquiries stored.
    pub stored: usize,
    /// Enquiries the hub already had.
    pub duplicates: usize,
    /// Enquiries refused as malformed (index and reason; never their content).
    pub refused: Vec<String>,
}

/// Why a pull stopped.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The plugin could not be called (trap, timeout, limit).
    #[error("{platform}: fetch-enquiries failed: {source}")]
    Call {
        /// Platform id.
        platform: String,
        /// What happened.
        source: crate::runtime::CallError,
    },
    /// The plugin answered with an error.
    #[error("{platform}: fetch-enquiries failed ({class}): {message}")]
    Plugin {
        /// Platform id.
        platform: String,
        /// Error class.
        class: &'static str,
        /// Message, personal data removed.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn bounded(value: Option<String>, max: usize) -> Option<String> {
    value
        .map(|v| {
            v.chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .collect::<String>()
        })
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .map(|v| v.chars().take(max).collect())
}

fn clean_person(person: Person) -> Person {
    Person {
        name: bounded(person.name, MAX_FIELD_CHARS),
        email: bounded(person.email, MAX_FIELD_CHARS),
        phone: bounded(person.phone, MAX_FIELD_CHARS),
        address: bounded(person.address, MAX_FIELD_CHARS),
    }
}

/// Check and tidy one enquiry a plugin or a push reported.
pub fn accept(
    index: usize,
    id: String,
    stock_id: Option<String>,
    remote_id: Option<String>,
    received_at_ms: i64,
    customer: Person,
    message: Option<String>,
) -> Result<NewEnquiry, String> {
    let id = id.trim().to_string();
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(format!(
            "enquiry {index}: the id is empty, longer than {MAX_ID_CHARS} characters or has control characters"
        ));
    }
    if received_at_ms <= 0 {
        return Err(format!("enquiry {index} ({id}): received-at is not a time"));
    }
    let single = |v: Option<String>, what: &str| -> Result<Option<String>, String> {
        match bounded(v, MAX_ID_CHARS + 1) {
            Some(v) if v.chars().count() > MAX_ID_CHARS || v.contains('\n') => Err(format!(
                "enquiry {index} ({id}): {what} is not a single line of at most {MAX_ID_CHARS} characters"
            )),
            other => Ok(other),
        }
    };
    Ok(NewEnquiry {
        stock_id: single(stock_id, "stock-id")?,
        remote_id: single(remote_id, "remote-id")?,
        platform_enquiry_id: id,
        received_at_ms,
        customer: clean_person(customer),
        message: bounded(message, MAX_MESSAGE_CHARS),
    })
}

/// Pull `source` until it has nothing new: each page is stored with the
/// cursor that follows it in one transaction.
pub async fn pull(
    source: &PullSource,
    store: &dyn EnquiryStore,
    targets: &[String],
) -> Result<PullSummary, PullError> {
    let mut summary = PullSummary {
        platform: source.platform.clone(),
        ..Default::default()
    };
    for _ in 0..MAX_PAGES_PER_PULL {
        let cursor = store.enquiry_cursor(&source.platform)?;
        let page = source
            .plugin
            .fetch_enquiries(&source.config, cursor.as_deref())
            .await
            .map_err(|source_err| PullError::Call {
                platform: source.platform.clone(),
                source: source_err,
            })?
            .map_err(|e| PullError::Plugin {
                platform: source.platform.clone(),
                class: class_name(&e.class),
                message: crate::pii::redact(&e.message).0,
            })?;
        summary.pages += 1;
        let p::EnquiryPage {
            enquiries,
            next_cursor,
        } = page;
        let empty = enquiries.is_empty();
        let mut accepted = Vec::with_capacity(enquiries.len());
        for (i, e) in enquiries.into_iter().enumerate() {
            match accept(
                i,
                e.id,
                e.stock_id,
                e.remote_id,
                e.received_at_ms,
                e.customer,
                e.message,
            ) {
                Ok(e) => accepted.push(e),
                Err(reason) => {
                    tracing::warn!(platform = %source.platform, %reason, "Enquiry refused.");
                    summary.refused.push(reason);
                }
            }
        }
        let EnquiryIngest { stored, duplicates } = store.store_enquiries(
            &source.platform,
            Via::Pull,
            &accepted,
            next_cursor.as_deref(),
            targets,
            now_ms(),
        )?;
        summary.stored += stored;
        summary.duplicates += duplicates;
        if empty || next_cursor.is_none() || next_cursor == cursor {
            break;
        }
    }
    Ok(summary)
}

/// The JSON a platform pushes to the enquiry webhook (docs/enquiries.md).
/// No `Debug`: it holds personal data.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBody {
    /// One or more enquiries.
    pub enquiries: Vec<PushedEnquiry>,
}

/// One pushed enquiry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushedEnquiry {
    /// The platform's id of the enquiry.
    pub id: String,
    /// The dealer's stock id, if the platform knows it.
    #[serde(default)]
    pub stock_id: Option<String>,
    /// The platform's id of the listing.
    #[serde(default)]
    pub remote_id: Option<String>,
    /// RFC 3339, e.g. `2026-11-28T10:15:00Z`.
    pub received_at: String,
    /// The buyer.
    #[serde(default)]
    pub customer: PushedPerson,
    /// What the buyer wrote.
    #[serde(default)]
    pub message: Option<String>,
}

/// The buyer in a push.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushedPerson {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<String>,
}

/// Parse a push body; the error names what is wrong, never the content.
pub fn parse_push(body: &[u8]) -> Result<Vec<NewEnquiry>, String> {
    let parsed: PushBody = serde_json::from_slice(body).map_err(|e| {
        // serde's messages name fields and positions, not values.
        format!("the body is not an enquiry push: {e}")
    })?;
    if parsed.enquiries.is_empty() {
        return Err("the push has no enquiries".into());
    }
    if parsed.enquiries.len() > 1000 {
        return Err("a push carries at most 1000 enquiries".into());
    }
    parsed
        .enquiries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let at = e
                .received_at
                .parse::<jiff::Timestamp>()
                .map_err(|_| format!("enquiries[{i}].received_at is not an RFC 3339 time"))?;
            accept(
                i,
                e.id,
                e.stock_id,
                e.remote_id,
                at.as_millisecond(),
                Person {
                    name: e.customer.name,
                    email: e.customer.email,
                    phone: e.customer.phone,
                    address: e.customer.address,
                },
                e.message,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_parses_and_is_tidied() {
        let body = br#"{"enquiries":[{"id":" E1 ","stock_id":"STK-1","received_at":"2026-11-28T10:15:00Z",
            "customer":{"name":"  Jane Buyer ","email":"jane@example.com","phone":""},"message":"Still available?\u0007"}]}"#;
        let e = parse_push(body).unwrap().remove(0);
        assert_eq!(e.platform_enquiry_id, "E1");
        assert_eq!(e.stock_id.as_deref(), Some("STK-1"));
        assert_eq!(e.received_at_ms, 1_795_860_900_000);
        assert_eq!(e.customer.name.as_deref(), Some("Jane Buyer"));
        assert_eq!(e.customer.phone, None);
        assert_eq!(e.message.as_deref(), Some("Still available?"));
    }

    #[test]
    fn bad_pushes_name_the_problem_not_the_content() {
        let err = parse_push(br#"{"enquiries":[{"id":"E1","received_at":"yesterday","customer":{"email":"jane@example.com"}}]}"#).unwrap_err();
        assert_eq!(err, "enquiries[0].received_at is not an RFC 3339 time");
        let err = parse_push(br#"{"enquiries":[{"id":"","received_at":"2026-11-28T10:15:00Z"}]}"#)
            .unwrap_err();
        assert!(err.contains("the id is empty"), "{err}");
        let err = parse_push(br#"{"enquiries":[{"id":"E1","received_at":"2026-11-28T10:15:00Z","buyer":"jane@example.com"}]}"#).unwrap_err();
        assert!(err.contains("unknown field `buyer`"), "{err}");
        assert!(!err.contains("jane@"), "{err}");
        assert!(parse_push(b"{\"enquiries\":[]}").is_err());
        assert!(parse_push(b"not json").is_err());
    }

    #[test]
    fn long_fields_are_cut_and_multi_line_ids_refused() {
        let long = "x".repeat(20_000);
        let e = accept(
            0,
            "E".into(),
            None,
            None,
            1,
            Person {
                name: Some(long.clone()),
                email: None,
                phone: None,
                address: None,
            },
            Some(long),
        )
        .unwrap();
        assert_eq!(e.customer.name.unwrap().chars().count(), MAX_FIELD_CHARS);
        assert_eq!(e.message.unwrap().chars().count(), MAX_MESSAGE_CHARS);
        assert!(accept(
            0,
            "E".into(),
            Some("a\nb".into()),
            None,
            1,
            Person {
                name: None,
                email: None,
                phone: None,
                address: None
            },
            None
        )
        .is_err());
        assert!(accept(
            0,
            "E".into(),
            None,
            None,
            0,
            Person {
                name: None,
                email: None,
                phone: None,
                address: None
            },
            None
        )
        .is_err());
    }
}
