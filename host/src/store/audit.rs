//! The audit trail: append-only and hash-chained.
//!
//! Each entry's hash covers its fields and the previous entry's hash, so an
//! edited, inserted or deleted entry breaks the chain at that point and
//! `forecourt audit verify` reports where. Entries carry ids, steps and error
//! classes; never personal data or secrets (details are built by the host
//! from fixed vocabulary, never from free text a source supplied).

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry to append.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditEntry {
    /// What happened: ingest, plan, transmit, result, config, operator, snapshot, reconcile, strip.
    pub kind: String,
    /// Who: `engine`, `source:<id>`, `operator:<token name>`.
    pub actor: String,
    /// The vehicle, if any.
    pub stock_id: Option<String>,
    /// The platform, if any.
    pub platform: Option<String>,
    /// The step (create, update, remove, pull, ...).
    pub step: Option<String>,
    /// The error class, on failure.
    pub error_class: Option<String>,
    /// Structured detail (ids, counts, hashes; no personal data).
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// A new entry of `kind` by `actor`.
    pub fn new(kind: &str, actor: &str) -> Self {
        Self {
            kind: kind.into(),
            actor: actor.into(),
            detail: serde_json::Value::Null,
            ..Default::default()
        }
    }

    /// With a vehicle.
    pub fn stock(mut self, stock_id: &str) -> Self {
        self.stock_id = Some(stock_id.into());
        self
    }

    /// With a platform.
    pub fn platform(mut self, platform: &str) -> Self {
        self.platform = Some(platform.into());
        self
    }

    /// With a step.
    pub fn step(mut self, step: &str) -> Self {
        self.step = Some(step.into());
        self
    }

    /// With an error class.
    pub fn error_class(mut self, class: &str) -> Self {
        self.error_class = Some(class.into());
        self
    }

    /// With detail.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// An entry as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredAudit {
    /// Sequence number.
    pub seq: i64,
    /// When.
    pub at: i64,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The result of checking the chain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub enum Verification {
    /// Every entry checks out.
    Intact {
        /// Entries checked.
        entries: i64,
    },
    /// The chain breaks at `seq`.
    Broken {
        /// The first entry that does not check out.
        seq: i64,
        /// What is wrong.
        reason: String,
    },
}

/// The hash of an entry given the previous hash.
pub fn entry_hash(prev_hash: &str, seq: i64, at: i64, entry: &AuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    // serde_json serialises struct fields in declaration order: stable.
    h.update(serde_json::to_vec(entry).expect("audit entries serialise"));
    hex::encode(h.finalize())
}
