//! The sandbox marketplace: a local server that behaves like an Auto
//! Trader-style listing API (tokens, stock create/patch/read, pagination,
//! lifecycle and advert states), with faults injected on demand, that
//! remembers what it was sent.
//!
//! Tests, the demo and the benchmarks start one in-process
//! ([`Sandbox::start`] on `127.0.0.1:0`) and assert on [`Sandbox::stats`] and
//! [`Sandbox::stock`]; operators run `forecourt sandbox` as the test
//! environment before going live. docs/sandbox.md describes the HTTP API.

mod api;
mod auth;
mod clock;
mod command;
mod enquiries;
mod faults;
mod json;
mod partner;
mod stats;
mod store;
mod validate;

#[cfg(test)]
mod tests;

pub use command::{run, SandboxArgs};
pub use enquiries::{Buyer, EnquiryWebhook, NewEnquiry as NewSandboxEnquiry};
pub use faults::Faults;
pub use stats::SandboxStats;

use anyhow::Context;
use auth::Tokens;
use faults::Injector;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use store::Store;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How long in-flight requests get to finish when the sandbox shuts down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// How to start a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free one (see [`Sandbox::addr`]).
    pub listen: SocketAddr,
    /// The advertiser (dealer) ids on this integration; others get 403.
    pub advertisers: Vec<String>,
    /// `(key, secret)` pairs that may authenticate.
    pub credentials: Vec<(String, String)>,
    /// How long an access token lives (Auto Trader: 15 minutes).
    pub token_lifetime: Duration,
    /// Faults from the start.
    pub faults: Faults,
    /// Seeds fault decisions and stock ids, so a run can be replayed.
    pub seed: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            advertisers: vec!["10008899".into()],
            credentials: vec![("sandbox-key".into(), "sandbox-secret".into())],
            token_lifetime: Duration::from_secs(900),
            faults: Faults::default(),
            seed: 0,
        }
    }
}

/// A running sandbox. Dropping it stops the server too; [`Sandbox::shutdown`]
/// also waits until it has stopped.
pub struct Sandbox {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Bind and start serving.
    pub async fn start(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        config
            .faults
            .check()
            .map_err(|e| anyhow::anyhow!("sandbox faults: {e}"))?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(&config));
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, state.clone(), stopped));
        tracing::info!(%addr, advertisers = ?config.advertisers, "sandbox marketplace listening");
        Ok(Sandbox {
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

    /// `http://127.0.0.1:PORT`, to configure a platform plugin with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replace the faults (rates outside 0..=1 are clamped).
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// The faults in force now.
    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    /// Revoke every access token: the next stock call with one gets 401.
    pub fn revoke_tokens(&self) {
        self.state.revoke_tokens();
    }

    /// Calls counted since start or the last reset.
    pub fn stats(&self) -> SandboxStats {
        lock(&self.state.stats).clone()
    }

    /// Everything stored for an advertiser, deleted items included, in
    /// creation order, as `GET /stock/{id}` returns each.
    pub fn stock(&self, advertiser: &str) -> Vec<serde_json::Value> {
        lock(&self.state.store).all(advertiser)
    }

    /// The newest stock item with this `externalStockReference`.
    pub fn find_by_reference(
        &self,
        advertiser: &str,
        external_ref: &str,
    ) -> Option<serde_json::Value> {
        lock(&self.state.store)
            .find_by_reference(advertiser, external_ref)
            .cloned()
    }

    /// Listings the webhook partner (`/partner/listings`) holds for a stock
    /// id and has not removed: more than one means a client created twice.
    pub fn partner_listings(&self, stock_id: &str) -> usize {
        lock(&self.state.partner).live_count(stock_id)
    }

    /// Add a buyer's enquiry about a listed vehicle (named by `stock_id` or
    /// `external_stock_reference`); when a webhook is set, push it there,
    /// signed, before returning. The enquiry as `GET /enquiries` shows it.
    pub async fn add_enquiry(
        &self,
        enquiry: NewSandboxEnquiry,
    ) -> anyhow::Result<serde_json::Value> {
        let added = self
            .state
            .add_enquiry(&enquiry)
            .map_err(|e| anyhow::anyhow!("sandbox enquiry refused: {e:?}"))?;
        self.state.push_enquiry(&added).await;
        Ok(added)
    }

    /// Every enquiry of an advertiser, oldest first.
    pub fn enquiries(&self, advertiser: &str) -> Vec<serde_json::Value> {
        lock(&self.state.enquiries).all(advertiser)
    }

    /// Push new enquiries to this signed webhook (or stop pushing).
    pub fn set_enquiry_webhook(&self, webhook: Option<EnquiryWebhook>) {
        *lock(&self.state.enquiry_webhook) = webhook;
    }

    /// Forget all stock and counts and go back to the start faults and seed.
    /// Tokens stay valid, so a client need not notice.
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

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Everything the server and the handle share.
struct State {
    credentials: Vec<(String, String)>,
    start_faults: Faults,
    seed: u64,
    injector: Mutex<Injector>,
    tokens: Mutex<Tokens>,
    store: Mutex<Store>,
    stats: Mutex<SandboxStats>,
    partner: Mutex<partner::PartnerStore>,
    enquiries: Mutex<enquiries::Enquiries>,
    enquiry_webhook: Mutex<Option<EnquiryWebhook>>,
}

impl State {
    fn new(config: &SandboxConfig) -> Self {
        State {
            credentials: config.credentials.clone(),
            start_faults: config.faults.clone(),
            seed: config.seed,
            injector: Mutex::new(Injector::new(config.faults.clone(), config.seed)),
            tokens: Mutex::new(Tokens::new(config.token_lifetime)),
            store: Mutex::new(Store::new(&config.advertisers, config.seed)),
            stats: Mutex::new(SandboxStats::default()),
            partner: Mutex::new(partner::PartnerStore::default()),
            enquiries: Mutex::new(enquiries::Enquiries::default()),
            enquiry_webhook: Mutex::new(None),
        }
    }

    /// Record an enquiry about a live stock item of its advertiser.
    fn add_enquiry(
        &self,
        new: &NewSandboxEnquiry,
    ) -> Result<serde_json::Value, enquiries::EnquiryError> {
        use enquiries::EnquiryError;
        let item = {
            let store = lock(&self.store);
            if !store.has_advertiser(&new.advertiser_id) {
                return Err(EnquiryError::UnknownAdvertiser);
            }
            let item = match (&new.stock_id, &new.external_stock_reference) {
                (Some(id), _) => store.get(&new.advertiser_id, id),
                (None, Some(reference)) => store.find_by_reference(&new.advertiser_id, reference),
                (None, None) => {
                    return Err(EnquiryError::Invalid(
                        "name the vehicle: stockId or externalStockReference".into(),
                    ))
                }
            };
            item.filter(|i| json::get_str(i, "metadata.lifecycleState") != Some("DELETED"))
                .cloned()
                .ok_or(EnquiryError::UnknownStock)?
        };
        lock(&self.enquiries).add(new, &item, std::time::SystemTime::now())
    }

    /// Push an enquiry to the webhook, if one is set; counted in the stats.
    async fn push_enquiry(&self, enquiry: &serde_json::Value) {
        let Some(webhook) = lock(&self.enquiry_webhook).clone() else {
            return;
        };
        let ok = enquiries::push(webhook, enquiries::push_body(enquiry)).await;
        self.with_stats(|s| {
            if ok {
                s.enquiry_pushes += 1
            } else {
                s.enquiry_push_failures += 1
            }
        });
    }

    fn faults(&self) -> Faults {
        lock(&self.injector).faults().clone()
    }

    fn set_faults(&self, faults: Faults) {
        tracing::info!(?faults, "sandbox faults changed");
        lock(&self.injector).set(faults);
    }

    fn revoke_tokens(&self) -> usize {
        let revoked = lock(&self.tokens).revoke_all(Instant::now());
        tracing::info!(revoked, "sandbox tokens revoked");
        revoked
    }

    fn reset(&self) {
        lock(&self.store).clear();
        lock(&self.partner).clear();
        lock(&self.enquiries).clear();
        *lock(&self.stats) = SandboxStats::default();
        *lock(&self.injector) = Injector::new(self.start_faults.clone(), self.seed);
        tracing::info!("sandbox reset");
    }

    fn with_stats(&self, update: impl FnOnce(&mut SandboxStats)) {
        update(&mut lock(&self.stats));
    }
}

/// A lock that survives a panic elsewhere: the sandbox's state stays usable
/// for the assertions a failing test still wants to make.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accept connections until told to stop, then give in-flight requests a
/// moment and drop the rest (an injected hang must not hold up a test).
async fn serve(listener: TcpListener, state: Arc<State>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, state.clone(), stop.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(%error, "sandbox accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drained).await;
    connections.abort_all();
    tracing::info!("sandbox marketplace stopped");
}

async fn connection(stream: TcpStream, state: Arc<State>, mut stop: watch::Receiver<bool>) {
    let service = service_fn(move |request| api::handle(state.clone(), request));
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(error) = result {
        // Includes the connections dropped on purpose by an injected timeout.
        tracing::debug!(%error, "sandbox connection ended");
    }
}
