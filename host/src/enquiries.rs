//! Buyers' enquiries: collected from listing platforms (pulled through each
//! platform plugin's `fetch-enquiries`, or pushed to a signed webhook),
//! stored once per (platform, enquiry id) with the vehicle they concern, and
//! delivered to the dealer's CRM through `crm` plugins or by e-mail, with
//! the same retries, dead letters and audit as listings.
//!
//! Enquiries carry personal data. It lives in the store's `enquiries` rows
//! only, never in logs or the audit trail (which name the enquiry by its
//! hub id), and is deleted after the configured retention period.
//! docs/enquiries.md is the user's guide.
//!
//! Layers: [`config`] (the `[enquiries]` and `[[crm]]` sections),
//! [`collect`] (pull and push into the store), [`receiver`] (the webhook
//! endpoint), [`deliver`] and [`email`] (the CRM side), [`service`] (the
//! scheduler that runs them), [`command`] (`forecourt enquiries ...`).

pub mod collect;
pub mod command;
pub mod config;
pub mod deliver;
pub mod email;
pub mod receiver;
pub mod service;

use crate::runtime::types::Person;
use crate::store::StoreResult;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The permission a role needs to read enquiries (they hold buyers' personal
/// data). The admin API checks it before calling [`EnquiryStore::enquiries`].
pub const READ_PERMISSION: &str = "enquiries:read";

/// How an enquiry reached the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// `fetch-enquiries` on a schedule.
    Pull,
    /// A signed webhook push.
    Push,
}

impl Via {
    /// As stored.
    pub fn name(self) -> &'static str {
        match self {
            Via::Pull => "pull",
            Via::Push => "push",
        }
    }
}

/// An enquiry as a platform reported it.
#[derive(Clone)]
pub struct NewEnquiry {
    /// The platform's id of the enquiry.
    pub platform_enquiry_id: String,
    /// The dealer's stock id, if the platform gave it.
    pub stock_id: Option<String>,
    /// The platform's id of the listing, if it gave it.
    pub remote_id: Option<String>,
    /// When the platform received it (ms since the epoch).
    pub received_at_ms: i64,
    /// The buyer.
    pub customer: Person,
    /// What the buyer wrote.
    pub message: Option<String>,
}

/// Personal data is never printed, not even in debug output.
impl std::fmt::Debug for NewEnquiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewEnquiry")
            .field("platform_enquiry_id", &self.platform_enquiry_id)
            .field("stock_id", &self.stock_id)
            .field("remote_id", &self.remote_id)
            .field("received_at_ms", &self.received_at_ms)
            .finish_non_exhaustive()
    }
}

/// An enquiry as stored.
#[derive(Clone, Serialize)]
pub struct StoredEnquiry {
    /// Row id.
    pub id: i64,
    /// The hub's id (the CRM's de-duplication key).
    pub uid: String,
    /// Platform id.
    pub platform: String,
    /// The platform's id of the enquiry.
    pub platform_enquiry_id: String,
    /// The vehicle, when known.
    pub stock_id: Option<String>,
    /// The platform's id of the listing.
    pub remote_id: Option<String>,
    /// How it arrived.
    pub via: String,
    /// When the platform received it.
    pub received_at: i64,
    /// When the hub stored it.
    pub stored_at: i64,
    /// The buyer; `None` once retention deleted it.
    pub customer: Option<Person>,
    /// The buyer's message; `None` once deleted or if there was none.
    pub message: Option<String>,
    /// When retention deleted the personal data.
    pub purged_at: Option<i64>,
}

impl std::fmt::Debug for StoredEnquiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEnquiry")
            .field("uid", &self.uid)
            .field("platform", &self.platform)
            .field("platform_enquiry_id", &self.platform_enquiry_id)
            .field("stock_id", &self.stock_id)
            .field("received_at", &self.received_at)
            .field("purged_at", &self.purged_at)
            .finish_non_exhaustive()
    }
}

/// What storing a batch of enquiries did.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct EnquiryIngest {
    /// New enquiries stored (and queued for every CRM target).
    pub stored: usize,
    /// Enquiries the hub already had (the same platform id again).
    pub duplicates: usize,
}

/// One CRM delivery job.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryJob {
    /// Row id.
    pub id: i64,
    /// The enquiry's row id.
    pub enquiry_id: i64,
    /// The enquiry's hub id.
    pub uid: String,
    /// The `[[crm]]` target.
    pub target: String,
    /// Attempts so far (including a claimed one).
    pub attempts: i64,
    /// An operator asked to send it again.
    pub resend: bool,
    /// available | running | completed | dead | discarded
    pub state: String,
    /// Last error (personal data removed).
    pub last_error: Option<String>,
    /// Last error class.
    pub error_class: Option<String>,
    /// The CRM's reference, once delivered.
    pub crm_ref: Option<String>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// The CRM took it.
    Done {
        /// The CRM's reference for the lead.
        crm_ref: Option<String>,
    },
    /// Try again at `run_at`.
    Retry {
        /// When.
        run_at: i64,
        /// Error class.
        class: String,
        /// Message (personal data removed).
        message: String,
        /// Whether this attempt counts towards the maximum.
        counts: bool,
    },
    /// Give up: dead-letter.
    Dead {
        /// Error class.
        class: String,
        /// Message (personal data removed).
        message: String,
    },
}

/// A filter for reading enquiries (the admin API's list).
#[derive(Debug, Clone, Default)]
pub struct EnquiryQuery {
    /// Only this platform.
    pub platform: Option<String>,
    /// Only this vehicle.
    pub stock_id: Option<String>,
    /// Received at or after (ms).
    pub since_ms: Option<i64>,
    /// At most this many, newest first (default 100).
    pub limit: Option<usize>,
}

/// The store's side of enquiries. Every method is one transaction; every
/// write appends to the audit trail without personal data.
pub trait EnquiryStore: Send + Sync {
    /// Store new enquiries of `platform` (duplicates by platform id are
    /// skipped), queue one delivery per CRM target for each new one, and,
    /// for a pull, advance the platform's cursor, all in one transaction.
    fn store_enquiries(
        &self,
        platform: &str,
        via: Via,
        enquiries: &[NewEnquiry],
        cursor: Option<&str>,
        targets: &[String],
        now: i64,
    ) -> StoreResult<EnquiryIngest>;
    /// Where `platform`'s fetch-enquiries continues.
    fn enquiry_cursor(&self, platform: &str) -> StoreResult<Option<String>>;
    /// One enquiry by row id.
    fn enquiry(&self, id: i64) -> StoreResult<Option<StoredEnquiry>>;
    /// Enquiries matching `query`, newest first. Holds personal data: the
    /// caller must have checked [`READ_PERMISSION`].
    fn enquiries(&self, query: &EnquiryQuery) -> StoreResult<Vec<StoredEnquiry>>;
    /// Claim up to `limit` due deliveries of `target` for `lease_ms`.
    fn claim_deliveries(
        &self,
        target: &str,
        worker: &str,
        limit: usize,
        lease_ms: i64,
        now: i64,
    ) -> StoreResult<Vec<DeliveryJob>>;
    /// Record how claimed deliveries ended, in one transaction.
    fn finish_deliveries(
        &self,
        results: &[(DeliveryJob, DeliveryOutcome)],
        now: i64,
    ) -> StoreResult<()>;
    /// Earliest `run_at` of a waiting delivery of `target`.
    fn next_delivery_at(&self, target: &str) -> StoreResult<Option<i64>>;
    /// Deliveries waiting or running.
    fn delivery_queue_depth(&self, target: Option<&str>) -> StoreResult<i64>;
    /// Dead-lettered deliveries, newest first.
    fn delivery_dead_letters(&self, target: Option<&str>) -> StoreResult<Vec<DeliveryJob>>;
    /// Every delivery of one enquiry.
    fn deliveries_of(&self, enquiry_id: i64) -> StoreResult<Vec<DeliveryJob>>;
    /// Put a dead delivery back in the queue.
    fn retry_delivery(&self, id: i64, actor: &str, now: i64) -> StoreResult<bool>;
    /// Discard a dead delivery.
    fn discard_delivery(&self, id: i64, actor: &str, now: i64) -> StoreResult<bool>;
    /// Delete the personal data of enquiries stored before `before` (and
    /// the error texts of their deliveries); returns how many.
    fn purge_enquiries(&self, before: i64, now: i64) -> StoreResult<usize>;
}

/// The hub's id of an enquiry: stable for (platform, platform's id), so a
/// CRM can de-duplicate on it across retries and redeliveries.
pub fn enquiry_uid(platform: &str, platform_enquiry_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(platform.as_bytes());
    h.update([0]);
    h.update(platform_enquiry_id.as_bytes());
    format!("enq-{}", &hex::encode(h.finalize())[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_stable_and_distinct() {
        assert_eq!(
            enquiry_uid("autotrader", "E1"),
            enquiry_uid("autotrader", "E1")
        );
        assert_ne!(
            enquiry_uid("autotrader", "E1"),
            enquiry_uid("website", "E1")
        );
        // No ambiguity between ("a", "bc") and ("ab", "c").
        assert_ne!(enquiry_uid("a", "bc"), enquiry_uid("ab", "c"));
        assert!(enquiry_uid("x", "y").starts_with("enq-"));
    }

    #[test]
    fn debug_output_has_no_personal_data() {
        let e = NewEnquiry {
            platform_enquiry_id: "E1".into(),
            stock_id: None,
            remote_id: None,
            received_at_ms: 1,
            customer: Person {
                name: Some("Jane Buyer".into()),
                email: Some("jane@example.com".into()),
                phone: Some("07700 900123".into()),
                address: None,
            },
            message: Some("call me".into()),
        };
        let text = format!("{e:?}");
        assert!(!text.contains("Jane") && !text.contains("example.com") && !text.contains("07700"));
        assert!(!text.contains("call me"));
    }
}
