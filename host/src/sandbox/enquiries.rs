//! Buyers' enquiries about listed vehicles: kept per advertiser in arrival
//! order, read by the API page by page after a cursor, and pushed to a
//! signed webhook when one is set (the forecourt push format, see
//! docs/enquiries.md), as a platform that notifies its partners would.

use super::clock;
use super::json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::SystemTime;

/// Where the sandbox pushes new enquiries, and the key it signs with.
#[derive(Clone, Debug)]
pub struct EnquiryWebhook {
    /// `http://host:port/path` (plain HTTP: the sandbox is a local test tool).
    pub url: String,
    /// The HMAC-SHA256 signing key.
    pub secret: String,
}

/// A buyer's enquiry to add (`POST /_sandbox/enquiries`, [`super::Sandbox::add_enquiry`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewEnquiry {
    /// The advertiser whose stock it is about.
    pub advertiser_id: String,
    /// The platform's id of the stock item…
    #[serde(default)]
    pub stock_id: Option<String>,
    /// …or the dealer's reference of it.
    #[serde(default)]
    pub external_stock_reference: Option<String>,
    /// The buyer.
    #[serde(default)]
    pub buyer: Buyer,
    /// What the buyer wrote.
    #[serde(default)]
    pub message: Option<String>,
    /// `EMAIL` (default), `CALLBACK`, `VIDEO_VIEWING`, `PART_EXCHANGE`.
    #[serde(default)]
    pub r#type: Option<String>,
}

/// The buyer of an enquiry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buyer {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Postcode.
    #[serde(default)]
    pub postcode: Option<String>,
}

/// Why an enquiry could not be added.
#[derive(Debug, PartialEq)]
pub(crate) enum EnquiryError {
    UnknownAdvertiser,
    /// Neither id names a live stock item.
    UnknownStock,
    Invalid(String),
}

/// Every advertiser's enquiries.
#[derive(Default)]
pub(crate) struct Enquiries {
    by_advertiser: HashMap<String, Vec<Value>>,
    sequence: u64,
}

impl Enquiries {
    /// Add an enquiry about `item` (the stock item as stored); the enquiry as the API shows it.
    pub(crate) fn add(
        &mut self,
        new: &NewEnquiry,
        item: &Value,
        now: SystemTime,
    ) -> Result<Value, EnquiryError> {
        let kind = new.r#type.clone().unwrap_or_else(|| "EMAIL".into());
        if !["EMAIL", "CALLBACK", "VIDEO_VIEWING", "PART_EXCHANGE"].contains(&kind.as_str()) {
            return Err(EnquiryError::Invalid(format!(
                "type `{kind}` is not EMAIL, CALLBACK, VIDEO_VIEWING or PART_EXCHANGE"
            )));
        }
        if new.buyer.email.is_none() && new.buyer.phone.is_none() {
            return Err(EnquiryError::Invalid(
                "buyer needs an email or a phone".into(),
            ));
        }
        self.sequence += 1;
        let enquiry = json!({
            "enquiryId": format!("ENQ-{:06}", self.sequence),
            "sequence": self.sequence,
            "createdAt": clock::rfc3339(now),
            "advertiserId": new.advertiser_id,
            "type": kind,
            "stock": {
                "stockId": json::get_str(item, "metadata.stockId"),
                "externalStockReference": json::get_str(item, "metadata.externalStockReference"),
            },
            "buyer": {
                "name": new.buyer.name,
                "email": new.buyer.email,
                "phone": new.buyer.phone,
                "postcode": new.buyer.postcode,
            },
            "message": new.message,
        });
        self.by_advertiser
            .entry(new.advertiser_id.clone())
            .or_default()
            .push(enquiry.clone());
        Ok(enquiry)
    }

    /// Up to `page_size` enquiries after cursor `after` (a sequence number),
    /// the cursor to continue from, and whether more are waiting.
    pub(crate) fn page(
        &self,
        advertiser: &str,
        after: u64,
        page_size: usize,
    ) -> (Vec<Value>, u64, bool) {
        let all = self
            .by_advertiser
            .get(advertiser)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let newer: Vec<&Value> = all
            .iter()
            .filter(|e| e["sequence"].as_u64().unwrap_or(0) > after)
            .collect();
        let results: Vec<Value> = newer.iter().take(page_size).map(|e| (*e).clone()).collect();
        let cursor = results
            .last()
            .and_then(|e| e["sequence"].as_u64())
            .unwrap_or(after);
        (results, cursor, newer.len() > page_size)
    }

    /// Every enquiry of an advertiser.
    pub(crate) fn all(&self, advertiser: &str) -> Vec<Value> {
        self.by_advertiser
            .get(advertiser)
            .cloned()
            .unwrap_or_default()
    }

    /// Forget everything.
    pub(crate) fn clear(&mut self) {
        *self = Enquiries::default();
    }
}

/// An enquiry in the forecourt push format.
pub(crate) fn push_body(enquiry: &Value) -> Value {
    let text = |path: &str| json::get_str(enquiry, path).map(str::to_owned);
    json!({"enquiries": [{
        "id": text("enquiryId"),
        "stock_id": text("stock.externalStockReference"),
        "remote_id": text("stock.stockId"),
        "received_at": text("createdAt"),
        "customer": {
            "name": text("buyer.name"),
            "email": text("buyer.email"),
            "phone": text("buyer.phone"),
            "address": text("buyer.postcode"),
        },
        "message": text("message"),
    }]})
}

/// POST `body` to the webhook, signed; a few tries, as platforms do.
pub(crate) async fn push(webhook: EnquiryWebhook, body: Value) -> bool {
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let signature = crate::webhook_signature::sign(webhook.secret.as_bytes(), now, &bytes);
        match post(&webhook.url, &signature, bytes.clone()).await {
            Ok(status) if (200..300).contains(&status) => return true,
            Ok(status) if (400..500).contains(&status) && status != 429 => {
                tracing::warn!(status, "sandbox enquiry push refused");
                return false;
            }
            Ok(status) => tracing::debug!(status, "sandbox enquiry push failed; retrying"),
            Err(error) => tracing::debug!(%error, "sandbox enquiry push failed; retrying"),
        }
    }
    false
}

async fn post(url: &str, signature: &str, body: Vec<u8>) -> anyhow::Result<u16> {
    use http_body_util::{BodyExt, Full};
    let uri: hyper::Uri = url.parse()?;
    anyhow::ensure!(
        uri.scheme_str() == Some("http"),
        "the sandbox pushes over plain http only"
    );
    let host = uri
        .host()
        .ok_or_else(|| anyhow::anyhow!("no host in {url}"))?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port)).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let request = hyper::Request::post(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header(hyper::header::HOST, format!("{host}:{port}"))
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(crate::webhook_signature::DEFAULT_HEADER, signature)
        .body(Full::new(bytes::Bytes::from(body)))?;
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sender.send_request(request),
    )
    .await??;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(stock_id: &str, reference: &str) -> Value {
        json!({"metadata": {"stockId": stock_id, "externalStockReference": reference}})
    }

    fn new(advertiser: &str) -> NewEnquiry {
        NewEnquiry {
            advertiser_id: advertiser.into(),
            buyer: Buyer {
                name: Some("Sam Buyer".into()),
                email: Some("sam@example.com".into()),
                ..Buyer::default()
            },
            message: Some("Is it still for sale?".into()),
            ..NewEnquiry::default()
        }
    }

    #[test]
    fn pages_after_a_cursor() {
        let mut e = Enquiries::default();
        let now = SystemTime::UNIX_EPOCH;
        for i in 0..5 {
            e.add(&new("1"), &item(&format!("s{i}"), &format!("R{i}")), now)
                .unwrap();
        }
        e.add(&new("2"), &item("x", "X"), now).unwrap();
        let (page, cursor, more) = e.page("1", 0, 2);
        assert_eq!(page.len(), 2);
        assert_eq!(page[0]["enquiryId"], "ENQ-000001");
        assert_eq!(page[0]["stock"]["externalStockReference"], "R0");
        assert!(more);
        let (page, cursor, more) = e.page("1", cursor, 2);
        assert_eq!(page[1]["enquiryId"], "ENQ-000004");
        assert!(more);
        let (page, cursor, more) = e.page("1", cursor, 2);
        assert_eq!(page.len(), 1);
        assert!(!more);
        let (page, same, _) = e.page("1", cursor, 2);
        assert!(page.is_empty());
        assert_eq!(same, cursor, "an empty page keeps the cursor");
        assert_eq!(e.page("2", 0, 10).0.len(), 1);
    }

    #[test]
    fn bad_enquiries_are_refused() {
        let mut e = Enquiries::default();
        let mut n = new("1");
        n.buyer = Buyer::default();
        assert!(matches!(
            e.add(&n, &item("s", "R"), SystemTime::now()),
            Err(EnquiryError::Invalid(_))
        ));
        let mut n = new("1");
        n.r#type = Some("FAX".into());
        assert!(matches!(
            e.add(&n, &item("s", "R"), SystemTime::now()),
            Err(EnquiryError::Invalid(_))
        ));
    }

    #[test]
    fn the_push_body_is_the_forecourt_format() {
        let mut e = Enquiries::default();
        let added = e
            .add(&new("1"), &item("abc", "STK-9"), SystemTime::now())
            .unwrap();
        let body = push_body(&added);
        let parsed =
            crate::enquiries::collect::parse_push(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(parsed[0].platform_enquiry_id, "ENQ-000001");
        assert_eq!(parsed[0].stock_id.as_deref(), Some("STK-9"));
        assert_eq!(parsed[0].remote_id.as_deref(), Some("abc"));
    }
}
