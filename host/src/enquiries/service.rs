//! The enquiry service: pulls platforms on their schedule, runs the signed
//! webhook, delivers to every CRM target, and deletes personal data after
//! the retention period. `forecourt run` runs [`EnquiryService::run`] beside
//! the sync engine; `forecourt enquiries sync` runs one [`EnquiryService::cycle`].

use super::collect::{self, PullError, PullSource, PullSummary};
use super::config::RawEnquiries;
use super::deliver::{self, CrmTarget, DeliveryReport};
use super::email::Mailer;
use super::receiver::{Receiver, ReceiverState};
use super::{DeliveryOutcome, EnquiryStore};
use crate::config::{plugin_config_json, RawConfig};
use crate::contract::World;
use crate::runtime::secrets::SecretStore;
use crate::runtime::types::Vehicle;
use crate::store::{now_ms, Store, StoreResult};
use crate::sync::PlatformSetup;
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Looks up the vehicle a lead is about, as advertised (pricing applied).
pub type VehicleLookup = Arc<dyn Fn(&str) -> Option<Vehicle> + Send + Sync>;

/// Webhook settings, resolved.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Platforms that may push.
    pub platforms: Vec<String>,
    /// Signature tolerance.
    pub tolerance_secs: u64,
}

/// What one cycle did.
#[derive(Debug, Default, serde::Serialize)]
pub struct EnquiryCycleReport {
    /// Per pulled platform (errors as text).
    pub pulls: Vec<Result<PullSummary, String>>,
    /// Per CRM target.
    pub deliveries: Vec<DeliveryReport>,
    /// Enquiries whose personal data was deleted.
    pub purged: usize,
}

/// The service.
pub struct EnquiryService {
    store: Arc<dyn EnquiryStore>,
    hub: Arc<dyn Store>,
    pulls: Vec<PullSource>,
    targets: Vec<CrmTarget>,
    retention: Duration,
    pull_interval: Duration,
    webhook: Option<WebhookSettings>,
    secrets: Arc<dyn SecretStore>,
    vehicles: VehicleLookup,
    worker: String,
}

/// Everything [`EnquiryService::new`] takes.
pub struct EnquiryParts {
    /// Enquiry side of the store.
    pub store: Arc<dyn EnquiryStore>,
    /// Listing side (pause state, vehicles).
    pub hub: Arc<dyn Store>,
    /// Platforms to pull.
    pub pulls: Vec<PullSource>,
    /// CRM targets.
    pub targets: Vec<CrmTarget>,
    /// How long personal data is kept.
    pub retention: Duration,
    /// Time between pulls.
    pub pull_interval: Duration,
    /// The signed webhook.
    pub webhook: Option<WebhookSettings>,
    /// Secrets (webhook signing keys, SMTP credentials).
    pub secrets: Arc<dyn SecretStore>,
    /// The vehicle of a lead.
    pub vehicles: VehicleLookup,
}

impl EnquiryService {
    /// A service from resolved parts.
    pub fn new(parts: EnquiryParts) -> Self {
        Self {
            store: parts.store,
            hub: parts.hub,
            pulls: parts.pulls,
            targets: parts.targets,
            retention: parts.retention,
            pull_interval: parts.pull_interval,
            webhook: parts.webhook,
            secrets: parts.secrets,
            vehicles: parts.vehicles,
            worker: format!("{}-enquiries-{}", std::process::id(), rand::random::<u32>()),
        }
    }

    /// Resolve `[enquiries]` and `[[crm]]`: load the CRM plugins, find the
    /// pulled platforms among `platforms`. `None` when neither section is set.
    pub async fn build(
        config: &RawConfig,
        loader: &crate::app::PluginLoader<'_>,
        platforms: &[std::sync::Arc<PlatformSetup>],
        store: Arc<dyn EnquiryStore>,
        hub: Arc<dyn Store>,
        secrets: Arc<dyn SecretStore>,
        vehicles: VehicleLookup,
    ) -> anyhow::Result<Option<Self>> {
        if config.enquiries.is_none() && config.crm.is_empty() {
            return Ok(None);
        }
        let defaults = RawEnquiries {
            retention_days: toml::Spanned::new(0..0, 90),
            pull: vec![],
            pull_interval_secs: toml::Spanned::new(0..0, 300),
            webhook: None,
        };
        let section = config.enquiries.as_ref().unwrap_or(&defaults);
        let mut targets = Vec::new();
        for (i, raw) in config.crm.iter().enumerate() {
            let id = raw.id.get_ref().clone();
            let plugin = loader
                .load(
                    &config.plugin_path(raw.plugin.get_ref()),
                    raw.grants.clone(),
                )
                .with_context(|| format!("crm[{i}] `{id}`"))?;
            anyhow::ensure!(
                plugin.world() == World::Crm,
                "crm[{i}] `{id}`: plugin `{}` is a {}, not a crm plugin",
                raw.plugin.get_ref(),
                plugin.world()
            );
            let info = plugin.crm_info().await?;
            let mailer = match &raw.email {
                Some(email) => Some(Mailer::new(&id, email, secrets.clone())?),
                None => None,
            };
            targets.push(CrmTarget {
                id,
                plugin,
                config: plugin_config_json(&raw.config),
                info,
                retry: raw.retry.clone(),
                mailer,
            });
        }
        let pulls = section
            .pull
            .iter()
            .map(|id| {
                let p = platforms
                    .iter()
                    .find(|p| &p.id == id.get_ref())
                    .expect("validated: a configured platform");
                PullSource {
                    platform: p.id.clone(),
                    plugin: p.plugin.clone(),
                    config: p.config.clone(),
                }
            })
            .collect();
        let webhook = section.webhook.as_ref().map(|w| WebhookSettings {
            listen: w.listen.get_ref().parse().expect("validated: an address"),
            platforms: w.platforms.iter().map(|p| p.get_ref().clone()).collect(),
            tolerance_secs: *w.tolerance_secs.get_ref(),
        });
        Ok(Some(Self::new(EnquiryParts {
            store,
            hub,
            pulls,
            targets,
            retention: Duration::from_secs(u64::from(*section.retention_days.get_ref()) * 86_400),
            pull_interval: Duration::from_secs(*section.pull_interval_secs.get_ref()),
            webhook,
            secrets,
            vehicles,
        })))
    }

    /// The CRM target ids.
    pub fn target_ids(&self) -> Vec<String> {
        self.targets.iter().map(|t| t.id.clone()).collect()
    }

    /// The CRM targets.
    pub fn targets(&self) -> &[CrmTarget] {
        &self.targets
    }

    /// The enquiry store.
    pub fn store(&self) -> &Arc<dyn EnquiryStore> {
        &self.store
    }

    /// Pull every configured platform once.
    pub async fn pull_all(&self) -> Vec<Result<PullSummary, PullError>> {
        let targets = self.target_ids();
        let mut out = Vec::with_capacity(self.pulls.len());
        for source in &self.pulls {
            out.push(collect::pull(source, self.store.as_ref(), &targets).await);
        }
        out
    }

    /// Start the signed webhook, if configured; `listen` overrides the
    /// configured address (tests use port 0).
    pub async fn start_receiver(
        &self,
        listen: Option<SocketAddr>,
    ) -> anyhow::Result<Option<Receiver>> {
        let Some(w) = &self.webhook else {
            return Ok(None);
        };
        let receiver = Receiver::start(
            listen.unwrap_or(w.listen),
            ReceiverState {
                platforms: w.platforms.clone(),
                secrets: self.secrets.clone(),
                tolerance_secs: w.tolerance_secs,
                store: self.store.clone(),
                targets: self.target_ids(),
                replays: Default::default(),
            },
        )
        .await?;
        Ok(Some(receiver))
    }

    /// Deliver what is due on one target until nothing is (or it is paused).
    pub async fn deliver(&self, target: &CrmTarget) -> anyhow::Result<DeliveryReport> {
        let mut report = DeliveryReport {
            target: target.id.clone(),
            ..Default::default()
        };
        loop {
            if let Some(reason) = self.hub.paused(&target.id)? {
                report.held = Some(format!("paused: {reason}"));
                return Ok(report);
            }
            let lease = target.plugin.manifest().limits.call_timeout_ms as i64 * 3 + 30_000;
            let jobs = self.store.claim_deliveries(
                &target.id,
                &self.worker,
                target.batch_size(),
                lease,
                now_ms(),
            )?;
            if jobs.is_empty() {
                return Ok(report);
            }
            let mut results = Vec::with_capacity(jobs.len());
            let mut batch = Vec::with_capacity(jobs.len());
            for job in jobs {
                let Some(enquiry) = self.store.enquiry(job.enquiry_id)? else {
                    results.push((
                        job,
                        DeliveryOutcome::Dead {
                            class: "permanent".into(),
                            message: "the enquiry is gone".into(),
                        },
                    ));
                    continue;
                };
                let vehicle = enquiry.stock_id.as_deref().and_then(|s| (self.vehicles)(s));
                match deliver::lead(&enquiry, vehicle, job.resend) {
                    Ok(lead) => batch.push((job, lead)),
                    Err(outcome) => results.push((job, outcome)),
                }
            }
            let answers = match &target.mailer {
                Some(mailer) if !batch.is_empty() => deliver::by_email(target, mailer, batch).await,
                None if !batch.is_empty() => deliver::through_plugin(target, batch).await,
                _ => Vec::new(),
            };
            let mut rng = rand::rng();
            let mut pause = None;
            for (job, answer) in answers {
                let outcome = match answer {
                    Ok(crm_ref) => DeliveryOutcome::Done {
                        crm_ref: Some(crm_ref),
                    },
                    Err(error) => {
                        let (outcome, pause_now) =
                            deliver::outcome_of(target, &job, &error, &mut rng);
                        if pause_now {
                            pause = Some(crate::pii::redact(&error.message).0);
                        }
                        outcome
                    }
                };
                results.push((job, outcome));
            }
            for (_, outcome) in &results {
                match outcome {
                    DeliveryOutcome::Done { .. } => report.delivered += 1,
                    DeliveryOutcome::Retry { .. } => report.retried += 1,
                    DeliveryOutcome::Dead { .. } => report.dead += 1,
                }
            }
            self.store.finish_deliveries(&results, now_ms())?;
            if let Some(reason) = pause {
                self.hub.set_paused(&target.id, Some(&reason), now_ms())?;
                tracing::error!(target = %target.id, "The CRM refused our credentials; delivery paused until an operator resumes it.");
            }
        }
    }

    /// Deliver on every target concurrently.
    pub async fn deliver_all(&self) -> Vec<anyhow::Result<DeliveryReport>> {
        futures::future::join_all(self.targets.iter().map(|t| self.deliver(t))).await
    }

    /// Delete the personal data of enquiries older than the retention period.
    pub fn purge(&self, now: i64) -> StoreResult<usize> {
        self.store
            .purge_enquiries(now - self.retention.as_millis() as i64, now)
    }

    /// Pull, deliver, purge once.
    pub async fn cycle(&self) -> anyhow::Result<EnquiryCycleReport> {
        let mut report = EnquiryCycleReport::default();
        for pull in self.pull_all().await {
            report.pulls.push(pull.map_err(|e| e.to_string()));
        }
        for delivery in self.deliver_all().await {
            report.deliveries.push(delivery?);
        }
        report.purged = self.purge(now_ms())?;
        Ok(report)
    }

    /// Run until `stopping()` says so: pull each platform every interval,
    /// deliver what is due, purge hourly. A failed step is logged and tried
    /// again on the next turn.
    pub async fn run(&self, stopping: &(dyn Fn() -> bool + Sync)) {
        let receiver = match self.start_receiver(None).await {
            Ok(r) => r,
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "Enquiry webhook not started.");
                None
            }
        };
        let mut next_pull = tokio::time::Instant::now();
        let mut next_purge = tokio::time::Instant::now();
        while !stopping() {
            let now = tokio::time::Instant::now();
            if now >= next_pull {
                for (source, result) in self.pulls.iter().zip(self.pull_all().await) {
                    match result {
                        Ok(s) if s.stored > 0 => {
                            tracing::info!(platform = %source.platform, stored = s.stored, duplicates = s.duplicates, "Enquiries pulled.")
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::error!(platform = %source.platform, error = %error, "Enquiry pull failed; trying again next interval.")
                        }
                    }
                }
                next_pull = now + self.pull_interval;
            }
            for (target, result) in self.targets.iter().zip(self.deliver_all().await) {
                if let Err(error) = result {
                    tracing::error!(target = %target.id, error = %format!("{error:#}"), "Enquiry delivery failed; trying again.");
                }
            }
            if now >= next_purge {
                match self.purge(now_ms()) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        enquiries = n,
                        "Personal data of old enquiries deleted (retention)."
                    ),
                    Err(error) => {
                        tracing::error!(error = %error, "Enquiry retention failed; trying again.")
                    }
                }
                next_purge = now + Duration::from_secs(3600);
            }
            let mut wait = Duration::from_secs(1)
                .min(next_pull.saturating_duration_since(tokio::time::Instant::now()));
            for target in &self.targets {
                if let Ok(Some(at)) = self.store.next_delivery_at(&target.id) {
                    wait = wait.min(Duration::from_millis((at - now_ms()).max(0) as u64));
                }
            }
            tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
        }
        if let Some(receiver) = receiver {
            receiver.shutdown().await;
        }
    }
}
