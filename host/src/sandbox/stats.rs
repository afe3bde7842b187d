//! Call counts, so tests and benchmarks can assert what a platform saw.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the sandbox has been asked since start (or the last reset).
///
/// The per-type counts (`authenticate` to `list`) count every call that
/// arrived, whatever happened to it; `rejected`, `errors`, `rate_limited` and
/// `timeouts` count outcomes. `creates_by_reference` counts create calls that
/// reached the stock logic (not those answered by an injected fault), duplicates
/// and invalid ones included: one entry above 1 means a client created twice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxStats {
    /// `POST /authenticate` calls.
    pub authenticate: u64,
    /// `POST /stock` calls.
    pub create: u64,
    /// `PATCH /stock/{id}` calls.
    pub patch: u64,
    /// `GET /stock/{id}` calls.
    pub get: u64,
    /// `GET /stock` (list) calls.
    pub list: u64,
    /// `GET /enquiries` calls.
    #[serde(default)]
    pub enquiries: u64,
    /// Enquiries pushed to the webhook and acknowledged.
    #[serde(default)]
    pub enquiry_pushes: u64,
    /// Enquiry pushes that failed after their retries.
    #[serde(default)]
    pub enquiry_push_failures: u64,
    /// 4xx answers other than injected 429s (invalid body, bad token, duplicate, unknown item...).
    pub rejected: u64,
    /// Injected 503s (`error_rate` and `down`).
    pub errors: u64,
    /// Injected 429s.
    pub rate_limited: u64,
    /// Injected timeouts (connection dropped without an answer).
    pub timeouts: u64,
    /// Create attempts per `metadata.externalStockReference`.
    pub creates_by_reference: BTreeMap<String, u32>,
}

impl SandboxStats {
    /// Calls to `/stock`, of any type.
    pub fn stock_calls(&self) -> u64 {
        self.create + self.patch + self.get + self.list
    }

    pub(crate) fn count(&mut self, kind: CallKind) {
        let counter = match kind {
            CallKind::Authenticate => &mut self.authenticate,
            CallKind::Create => &mut self.create,
            CallKind::Patch => &mut self.patch,
            CallKind::Get => &mut self.get,
            CallKind::List => &mut self.list,
            CallKind::Enquiries => &mut self.enquiries,
        };
        *counter += 1;
    }
}

/// The kinds of API call the sandbox counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallKind {
    Authenticate,
    Create,
    Patch,
    Get,
    List,
    Enquiries,
}
