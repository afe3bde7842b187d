//! Alerting: rules evaluated periodically inside `forecourt run` over what the
//! store shows, grouped per rule and subject, sent through e-mail, webhook
//! and SMS channels with a cooldown, and followed by a recovery message when
//! the condition clears.
//!
//! - [`config`]: `[alerts]` in `forecourt.toml`;
//! - [`signals`]: what the rules look at, gathered from the store;
//! - [`rules`]: pure functions from signals to conditions;
//! - [`state`]: what was sent to whom (SQLite), and what to send now;
//! - [`message`]: the text; [`channels`]: delivery;
//! - [`command`]: `forecourt alerts test|status`.
//!
//! Messages carry ids, registrations, counts, error classes and times only:
//! never personal data, never a secret, never a plugin's free-text error.

pub mod channels;
pub mod command;
pub mod config;
pub mod message;
pub mod rules;
pub mod signals;
pub mod state;

use crate::config::RawConfig;
use crate::runtime::secrets::{EnvSecrets, FileSecrets, LayeredSecrets, SecretStore};
use crate::store::{now_ms, StoreError};
use channels::{ChannelError, ChannelSpec, Retry};
use config::AlertSettings;
use signals::{AlertBackend, LoginFailures, Watched};
use state::{ChannelFilter, EntryKind};
use std::future::Future;
use std::sync::Arc;

/// Why an evaluation or a start check failed.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The failed-logins provider failed.
    #[error("alerts: reading failed logins: {0}")]
    Logins(String),
    /// A channel cannot work as configured.
    #[error("alert channel `{channel}`: {source}")]
    Channel {
        /// Channel name.
        channel: String,
        /// Why.
        source: ChannelError,
    },
}

/// What one evaluation did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RoundReport {
    /// Keys of the alerts firing now.
    pub firing: Vec<String>,
    /// Channels that accepted a message, with how many alerts it listed.
    pub sent: Vec<(String, usize)>,
    /// Channels that did not, with the reason.
    pub failed: Vec<(String, String)>,
}

/// The alerting service.
pub struct Alerting {
    settings: AlertSettings,
    watched: Watched,
    store: Arc<dyn AlertBackend>,
    secrets: Arc<dyn SecretStore>,
    logins: Option<Arc<dyn LoginFailures>>,
    watching_since: i64,
    host: String,
    retry: Retry,
}

/// The secret stores alert channels read: environment first, then the secrets file.
pub fn secrets_for(config: &RawConfig) -> anyhow::Result<Arc<dyn SecretStore>> {
    let mut layers: Vec<Box<dyn SecretStore>> = vec![Box::new(EnvSecrets)];
    if let Some(file) = &config.secrets_file {
        FileSecrets::load(file)?;
        layers.push(Box::new(FileSecrets::new(file)));
    }
    Ok(Arc::new(LayeredSecrets(layers)))
}

/// The platforms and sources of a configuration, as alerting watches them.
pub fn watched(config: &RawConfig) -> Watched {
    Watched {
        platforms: config
            .platforms
            .iter()
            .map(|p| {
                (
                    p.id.get_ref().clone(),
                    p.deadvertise_delay_secs as i64 * 1000,
                )
            })
            .collect(),
        sources: config
            .sources
            .iter()
            .map(|s| {
                (
                    s.id.get_ref().clone(),
                    *s.interval_secs.get_ref() as i64 * 1000,
                )
            })
            .collect(),
    }
}

impl Alerting {
    /// A service over `store`.
    pub fn new(
        settings: AlertSettings,
        watched: Watched,
        store: Arc<dyn AlertBackend>,
        secrets: Arc<dyn SecretStore>,
    ) -> Self {
        Self {
            settings,
            watched,
            store,
            secrets,
            logins: None,
            watching_since: now_ms(),
            host: message::host_name(),
            retry: Retry::default(),
        }
    }

    /// The service a configuration describes, or `None` without `[alerts]`.
    pub fn from_config(
        config: &RawConfig,
        store: Arc<dyn AlertBackend>,
        secrets: Arc<dyn SecretStore>,
    ) -> Option<Self> {
        let settings = config.alerts.as_ref()?.settings();
        Some(Self::new(settings, watched(config), store, secrets))
    }

    /// Read failed admin-API logins from `provider` (the admin API's access log).
    pub fn with_login_failures(mut self, provider: Arc<dyn LoginFailures>) -> Self {
        self.logins = Some(provider);
        self
    }

    /// Change how deliveries are retried within one evaluation.
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &AlertSettings {
        &self.settings
    }

    /// Fail now, not at the first alert, if a channel's secret is missing.
    pub fn check_secrets(&self) -> Result<(), AlertError> {
        for ch in &self.settings.channels {
            for name in ch.secret_names() {
                channels::secret(self.secrets.as_ref(), name).map_err(|source| {
                    AlertError::Channel {
                        channel: ch.name.clone(),
                        source,
                    }
                })?;
            }
        }
        Ok(())
    }

    fn filters(&self) -> Vec<ChannelFilter> {
        self.settings
            .channels
            .iter()
            .map(|c| ChannelFilter {
                name: c.name.clone(),
                rules: c.rules.clone(),
            })
            .collect()
    }

    /// Evaluate every rule at `now`, store the alerts, send what is due and
    /// record what each channel accepted.
    pub async fn evaluate(&self, now: i64) -> Result<RoundReport, AlertError> {
        let rules = &self.settings.rules;
        let signals = signals::gather(
            self.store.as_ref(),
            &self.watched,
            rules,
            self.logins.as_deref(),
            now,
            self.watching_since,
        )?;
        let conditions = rules.evaluate(&signals);
        let names: Vec<String> = self
            .settings
            .channels
            .iter()
            .map(|c| c.name.clone())
            .collect();
        self.store.prune_alerts(&names)?;
        let round = state::plan_round(
            &conditions,
            &self.store.alert_records()?,
            &self.store.alert_notices()?,
            &self.filters(),
            |rule| rules::RuleName::parse(rule).map_or(3_600_000, |r| rules.cooldown_ms(r)),
            now,
        );
        self.store.save_alert_records(&round.records)?;
        for r in &round.records {
            match r.resolved_at {
                None if r.firing_since == now => {
                    tracing::warn!(alert = %r.key, "Alert firing.")
                }
                Some(_) => tracing::info!(alert = %r.key, "Alert resolved."),
                None => {}
            }
        }
        let mut report = RoundReport {
            firing: conditions.iter().map(|c| c.key()).collect(),
            ..Default::default()
        };
        let sends = round.outgoing.iter().map(|out| async move {
            let spec = self
                .settings
                .channels
                .iter()
                .find(|c| c.name == out.channel)
                .expect("outgoing messages are for configured channels");
            let message = message::render(&out.entries, &self.host, now);
            (
                out,
                spec.deliver(&message, self.secrets.as_ref(), self.retry)
                    .await,
            )
        });
        for (out, result) in futures::future::join_all(sends).await {
            match result {
                Ok(()) => {
                    self.store.record_notices(&out.notices)?;
                    report.sent.push((out.channel.clone(), out.entries.len()));
                    tracing::info!(
                        channel = %out.channel,
                        firing = out.entries.iter().filter(|e| e.kind != EntryKind::Resolved).count(),
                        resolved = out.entries.iter().filter(|e| e.kind == EntryKind::Resolved).count(),
                        "Alert message sent."
                    );
                }
                Err(error) => report.failed.push((out.channel.clone(), error.to_string())),
            }
        }
        self.store.prune_alerts(&names)?;
        Ok(report)
    }

    /// Evaluate every `interval_secs` until dropped. Errors are logged and
    /// the next evaluation tries again.
    pub async fn run(&self) {
        let mut ticker = tokio::time::interval(self.settings.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate: give the engine one interval to pull first.
        ticker.tick().await;
        loop {
            ticker.tick().await;
            if let Err(error) = self.evaluate(now_ms()).await {
                tracing::error!(%error, "Alert evaluation failed; trying again next interval.");
            }
        }
    }

    /// Send a test message through every channel (or the one named), once each.
    pub async fn send_test(&self, only: Option<&str>) -> Vec<(String, Result<(), ChannelError>)> {
        let now = now_ms();
        let sends = self
            .settings
            .channels
            .iter()
            .filter(|c| only.is_none_or(|n| n == c.name))
            .map(|c: &ChannelSpec| async move {
                let m = message::test_message(&c.name, c.kind.name(), &self.host, now);
                let once = Retry {
                    attempts: 1,
                    ..self.retry
                };
                (
                    c.name.clone(),
                    c.deliver(&m, self.secrets.as_ref(), once).await,
                )
            });
        futures::future::join_all(sends).await
    }
}

/// Alerting for `forecourt run`: `None` without `[alerts]`; a missing channel
/// secret is a configuration error (exit code 3) at start.
pub fn for_run(config: &RawConfig, app: &crate::app::App) -> anyhow::Result<Option<Alerting>> {
    let Some(alerting) = Alerting::from_config(config, app.store.clone(), secrets_for(config)?)
    else {
        return Ok(None);
    };
    alerting
        .check_secrets()
        .map_err(|e| crate::cli::ConfigError(e.to_string()))?;
    // The admin API's access log counts failed logins for the `failed_logins` rule.
    let alerting = alerting.with_login_failures(Arc::new(AccessLogLogins(app.store.clone())));
    if alerting.settings.channels.is_empty() {
        tracing::warn!("[alerts] has no channels: alerts are evaluated and shown by `forecourt alerts status`, but not sent.");
    }
    Ok(Some(alerting))
}

/// Failed logins as the admin API's access log records them.
struct AccessLogLogins(Arc<crate::store::SqliteStore>);

impl LoginFailures for AccessLogLogins {
    fn failed_logins_since(&self, since_ms: i64) -> anyhow::Result<u64> {
        Ok(self.0.failed_logins_since(since_ms)?.max(0) as u64)
    }
}

/// Run `work` with `alerting` evaluating beside it; alerting stops when `work` ends.
pub async fn beside<F: Future>(alerting: Option<&Alerting>, work: F) -> F::Output {
    match alerting {
        None => work.await,
        Some(alerting) => {
            tokio::pin!(work);
            tokio::select! {
                out = &mut work => out,
                _ = alerting.run() => unreachable!("alerting runs until dropped"),
            }
        }
    }
}
