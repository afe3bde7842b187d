//! A local DMS API: the stock of a dealer management system served as JSON
//! with an updated-since filter and page or cursor pagination, behind an
//! API key, that tests and the demo change at will (add a vehicle, change a
//! price, sell, delete) and that breaks on demand (5xx, 429).
//!
//! It is what the `dms-rest` source plugin polls in the end-to-end tests
//! and in `forecourt sandbox --dms`. The API (docs/plugins/dms-rest.md):
//!
//! - `GET /api/v1/vehicles?updated_since=<RFC 3339>&page=<n>&per_page=<n>`,
//!   or `?cursor=<next_cursor>&per_page=<n>`: vehicles changed at or after
//!   `updated_since`, oldest first, ties by id; deleted vehicles appear as
//!   `{"id", "updated_at", "deleted": true}`. The answer is
//!   `{"vehicles": [...], "page", "per_page", "total", "has_more", "next_cursor"}`.
//! - `GET /api/v1/vehicles/<id>`: one vehicle.
//! - The key: `X-Api-Key: <key>` or `Authorization: Bearer <key>`; 401 otherwise.
//! - Control, for scripts (no key): `GET /_dms/stats`, `PUT /_dms/vehicles/<id>`
//!   (a JSON record), `POST /_dms/vehicles/<id>/sold`, `DELETE /_dms/vehicles/<id>`,
//!   `PUT /_dms/faults`, `POST /_dms/reset`.

mod api;
mod stock;

#[cfg(test)]
mod tests;

pub use stock::dms_json;

use crate::runtime::types::Vehicle;
use anyhow::Context;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use stock::Stock;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How to start a local DMS.
#[derive(Clone, Debug)]
pub struct DmsConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// API keys that may read stock.
    pub api_keys: Vec<String>,
    /// Seeds the random faults.
    pub seed: u64,
}

impl Default for DmsConfig {
    fn default() -> Self {
        DmsConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_keys: vec!["dms-sandbox-key".into()],
            seed: 0,
        }
    }
}

/// What one stock request is made to suffer, in the order set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmsFault {
    /// Answered normally.
    Pass,
    /// Answered with this status (500, 502, 503…) and a JSON error.
    Status(u16),
    /// 429 with `Retry-After`.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
}

/// Random faults on stock requests, after the script runs out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DmsFaultRates {
    /// Share (0..=1) answered 503.
    pub error_rate: f64,
    /// Share (0..=1) answered 429.
    pub rate_limit_rate: f64,
    /// `Retry-After` seconds on a 429.
    pub retry_after_secs: u64,
}

/// Counts of what the DMS was asked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DmsStats {
    /// Stock requests (list and single), faults included.
    pub stock_requests: usize,
    /// Stock requests refused for a missing or wrong key.
    pub unauthorised: usize,
    /// Stock requests answered with an injected fault.
    pub faults_served: usize,
    /// How accepted requests carried the key: `x-api-key` or `bearer`.
    pub auth_schemes: BTreeMap<String, usize>,
    /// Path and query of the newest list requests (at most 1,000).
    pub list_queries: Vec<String>,
}

/// A running local DMS. Dropping it stops the server.
pub struct DmsSandbox {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
}

struct Faults {
    script: VecDeque<DmsFault>,
    rates: DmsFaultRates,
    rng: StdRng,
}

struct State {
    api_keys: Vec<String>,
    stock: Mutex<Stock>,
    /// When set, every change is stamped with this time (equal timestamps on purpose).
    frozen: Mutex<Option<jiff::Timestamp>>,
    last_stamp: Mutex<jiff::Timestamp>,
    faults: Mutex<Faults>,
    stats: Mutex<DmsStats>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    /// The time of a change now: the frozen time, else the clock, never
    /// earlier than the previous change.
    fn stamp(&self) -> jiff::Timestamp {
        if let Some(at) = *lock(&self.frozen) {
            return at;
        }
        let mut last = lock(&self.last_stamp);
        let now = jiff::Timestamp::now().max(*last);
        *last = now;
        now
    }
}

impl DmsSandbox {
    /// Bind and start serving.
    pub async fn start(config: DmsConfig) -> anyhow::Result<DmsSandbox> {
        anyhow::ensure!(
            config.api_keys.iter().all(|k| !k.trim().is_empty()) && !config.api_keys.is_empty(),
            "the local DMS needs at least one non-empty API key"
        );
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            api_keys: config.api_keys,
            stock: Mutex::default(),
            frozen: Mutex::default(),
            last_stamp: Mutex::new(jiff::Timestamp::UNIX_EPOCH),
            faults: Mutex::new(Faults {
                script: VecDeque::new(),
                rates: DmsFaultRates::default(),
                rng: StdRng::seed_from_u64(config.seed),
            }),
            stats: Mutex::default(),
        });
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, state.clone(), stopped));
        tracing::info!(%addr, "local DMS API listening");
        Ok(DmsSandbox {
            addr,
            state,
            stop,
            server: Some(server),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/api/v1`: the `base_url` of a `dms-rest` source.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// Add or replace a vehicle, as the DMS would describe it.
    pub fn upsert(&self, vehicle: &Vehicle) {
        self.upsert_json(&vehicle.stock_id, dms_json(vehicle));
    }

    /// Add or replace a vehicle's JSON record (without `id` and `updated_at`).
    pub fn upsert_json(&self, id: &str, record: serde_json::Map<String, serde_json::Value>) {
        let at = self.state.stamp();
        lock(&self.state.stock).put(id, record, at);
    }

    /// Change a vehicle's price (in pence); false when there is no such vehicle.
    pub fn set_price(&self, id: &str, amount_minor: i64) -> bool {
        let at = self.state.stamp();
        lock(&self.state.stock).modify(id, at, |e| {
            e.record.insert(
                "price".into(),
                serde_json::json!({"amount": amount_minor as f64 / 100.0, "currency": "GBP"}),
            );
        })
    }

    /// Set a vehicle's status as the DMS words it (`Sold`, `Reserved`…).
    pub fn set_status(&self, id: &str, status: &str) -> bool {
        let at = self.state.stamp();
        lock(&self.state.stock).modify(id, at, |e| {
            e.record.insert("status".into(), status.into());
        })
    }

    /// Mark a vehicle sold.
    pub fn sell(&self, id: &str) -> bool {
        self.set_status(id, "Sold")
    }

    /// Delete a vehicle: it stays listed as a tombstone.
    pub fn delete(&self, id: &str) -> bool {
        let at = self.state.stamp();
        lock(&self.state.stock).modify(id, at, |e| {
            e.deleted = true;
            e.record.clear();
        })
    }

    /// Stamp every change with `at` until called with `None` (to make equal timestamps).
    pub fn freeze_clock(&self, at: Option<jiff::Timestamp>) {
        *lock(&self.state.frozen) = at;
    }

    /// Queue faults for the next stock requests, one each, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = DmsFault>) {
        lock(&self.state.faults).script.extend(faults);
    }

    /// Random faults once the script is used up.
    pub fn set_fault_rates(&self, rates: DmsFaultRates) {
        lock(&self.state.faults).rates = rates;
    }

    /// The API's JSON for one vehicle, deleted ones included.
    pub fn record(&self, id: &str) -> Option<serde_json::Value> {
        lock(&self.state.stock).get(id).map(|e| e.to_json(id))
    }

    /// Vehicles not deleted.
    pub fn live_count(&self) -> usize {
        lock(&self.state.stock).live()
    }

    /// What it was asked so far.
    pub fn stats(&self) -> DmsStats {
        lock(&self.state.stats).clone()
    }

    /// Forget all stock, faults and counts.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Stop serving and wait until the server has stopped.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl State {
    fn reset(&self) {
        lock(&self.stock).clear();
        let mut faults = lock(&self.faults);
        faults.script.clear();
        faults.rates = DmsFaultRates::default();
        *lock(&self.stats) = DmsStats::default();
        *lock(&self.frozen) = None;
    }
}

impl Drop for DmsSandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn serve(listener: TcpListener, state: Arc<State>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| api::handle(state.clone(), request));
                        if let Err(error) = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                        {
                            tracing::debug!(%error, "local DMS connection ended");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "local DMS accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    connections.abort_all();
    tracing::info!("local DMS API stopped");
}
