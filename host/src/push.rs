//! Signed pushes from a DMS: `POST /push/<source-id>`.
//!
//! The path of a push (docs/sync.md, "Pushes"):
//! 1. [`server`]: the route names a source with `[source.push]`; the body is
//!    at most `max_body_kib`; the `X-Forecourt-Signature` HMAC-SHA256 over
//!    `timestamp + "." + body` verifies under the source's secret
//!    ([`signature`]) and the timestamp is within `tolerance_secs`;
//! 2. [`inbox`]: the push is stored in one transaction synced to disk,
//!    refused if its event id or signature was seen before; only then is
//!    the DMS answered 202;
//! 3. [`processor`]: the source plugin's `parse-push` turns the body into a
//!    page, ingested like a pulled page (the pull cursor is left alone),
//!    and the inbox row is marked done. A push stored before a crash is
//!    processed at the next start; one that can never be applied is kept as
//!    `failed` with the reason.

mod config;
pub mod inbox;
mod processor;
mod server;
pub mod signature;

#[cfg(test)]
mod tests;

pub use config::{parse_listen, RawPush, DEFAULT_LISTEN};
pub use inbox::{Inbox, InboxError, InboxRow};

use crate::app::App;
use crate::config::RawConfig;
use crate::runtime::secrets::SecretStore;
use crate::sync::Engine;
use anyhow::Context;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;

/// One source that receives pushes, resolved from the configuration.
#[derive(Debug, Clone)]
pub struct PushRoute {
    /// Source id: the path is `/push/<source>`.
    pub source: String,
    /// The source's plugin id: the secret store namespace of its secrets.
    pub plugin: String,
    /// Name of the signing secret.
    pub secret: String,
    /// Name of a second secret accepted during rotation.
    pub previous_secret: Option<String>,
    /// Seconds a timestamp may be off.
    pub tolerance_secs: u64,
    /// Largest body, in bytes.
    pub max_body: usize,
    /// The listener it is served on.
    pub listen: SocketAddr,
}

/// The push settings of a configuration, checked against its plugins and secrets.
pub struct PushPlan {
    routes: Vec<PushRoute>,
    database: PathBuf,
    secrets: Arc<dyn SecretStore>,
}

impl PushPlan {
    /// The routes of every source with `[source.push]`, or `None` when no
    /// source takes pushes. Fails (as a configuration error) when a source's
    /// plugin does not parse pushes or its secret is not in the secret store.
    pub async fn resolve(config: &RawConfig, app: &App) -> anyhow::Result<Option<PushPlan>> {
        let shared = match &config.push_listen {
            Some(listen) => parse_listen(listen.get_ref()).map_err(crate::cli::ConfigError)?,
            None => DEFAULT_LISTEN
                .parse()
                .expect("the default listen address parses"),
        };
        let secrets = app.runtime.secrets();
        let mut routes = Vec::new();
        for (i, raw) in config.sources.iter().enumerate() {
            let Some(push) = &raw.push else { continue };
            let id = raw.id.get_ref();
            let source = app
                .engine
                .sources()
                .iter()
                .find(|s| &s.id == id)
                .with_context(|| format!("source[{i}] `{id}` was not loaded"))?;
            let info = source.plugin.source_info().await?;
            if !info.push {
                return Err(crate::cli::ConfigError(format!(
                    "source[{i}] `{id}`: plugin `{}` does not parse pushes (describe() says push: false); remove [source.push]",
                    raw.plugin.get_ref()
                ))
                .into());
            }
            let plugin = source.plugin.id().to_string();
            for name in [
                Some(push.secret.get_ref()),
                push.previous_secret.as_ref().map(|s| s.get_ref()),
            ]
            .into_iter()
            .flatten()
            {
                if secrets.get(&plugin, name).is_none() {
                    return Err(crate::cli::ConfigError(format!(
                        "source[{i}] `{id}`: push secret `{name}` is not set; set {} or add `{name}` under [{plugin}] in the secrets file",
                        crate::runtime::secrets::EnvSecrets::variable(&plugin, name)
                    ))
                    .into());
                }
            }
            let listen = match &push.listen {
                Some(l) => parse_listen(l.get_ref()).map_err(crate::cli::ConfigError)?,
                None => shared,
            };
            routes.push(PushRoute {
                source: id.clone(),
                plugin,
                secret: push.secret.get_ref().clone(),
                previous_secret: push.previous_secret.as_ref().map(|s| s.get_ref().clone()),
                tolerance_secs: *push.tolerance_secs.get_ref(),
                max_body: usize::try_from(*push.max_body_kib.get_ref() * 1024)
                    .unwrap_or(usize::MAX),
                listen,
            });
        }
        if routes.is_empty() {
            return Ok(None);
        }
        Ok(Some(PushPlan {
            routes,
            database: crate::app::database_path(config),
            secrets,
        }))
    }

    /// A plan from parts (tests and embedders).
    pub fn new(routes: Vec<PushRoute>, database: PathBuf, secrets: Arc<dyn SecretStore>) -> Self {
        PushPlan {
            routes,
            database,
            secrets,
        }
    }

    /// The routes.
    pub fn routes(&self) -> &[PushRoute] {
        &self.routes
    }

    /// Open the inbox and bind every listener.
    pub async fn start(self) -> anyhow::Result<PushService> {
        let inbox = Arc::new(Inbox::open(&self.database)?);
        let notify = Arc::new(Notify::new());
        let mut by_listener: BTreeMap<SocketAddr, Vec<PushRoute>> = BTreeMap::new();
        for route in self.routes {
            by_listener.entry(route.listen).or_default().push(route);
        }
        let mut listeners = Vec::new();
        for (addr, routes) in by_listener {
            listeners.push(
                server::Listener::start(
                    addr,
                    routes,
                    self.secrets.clone(),
                    inbox.clone(),
                    notify.clone(),
                )
                .await?,
            );
        }
        Ok(PushService {
            listeners,
            inbox,
            notify,
        })
    }
}

/// Apply the pushes stored while nothing was processing them (`sync --once`
/// after downtime); none when no source takes pushes.
pub async fn apply_stored(config: &RawConfig, engine: &Engine) -> anyhow::Result<usize> {
    if !config.sources.iter().any(|s| s.push.is_some()) {
        return Ok(0);
    }
    let inbox = Inbox::open(&crate::app::database_path(config))?;
    processor::process_due(&inbox, engine).await
}

/// Pending and failed pushes per source, for `forecourt status`; `None`
/// when no source takes pushes.
pub fn summary(config: &RawConfig) -> anyhow::Result<Option<Vec<serde_json::Value>>> {
    if !config.sources.iter().any(|s| s.push.is_some()) {
        return Ok(None);
    }
    let inbox = Inbox::open(&crate::app::database_path(config))?;
    Ok(Some(
        inbox
            .counts()?
            .into_iter()
            .map(|(source, pending, failed)| {
                serde_json::json!({"source": source, "pending": pending, "failed": failed})
            })
            .collect(),
    ))
}

/// Running push listeners and their inbox.
pub struct PushService {
    listeners: Vec<server::Listener>,
    inbox: Arc<Inbox>,
    notify: Arc<Notify>,
}

impl PushService {
    /// Where `source` receives pushes (the bound address, with the real port).
    pub fn addr(&self, source: &str) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|l| l.serves(source))
            .map(server::Listener::addr)
    }

    /// Every bound address, with the sources each serves.
    pub fn listeners(&self) -> Vec<(SocketAddr, Vec<String>)> {
        self.listeners
            .iter()
            .map(|l| (l.addr(), l.sources()))
            .collect()
    }

    /// The inbox.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// Process stored pushes with `engine` until it is stopped.
    pub async fn process(&self, engine: &Engine) {
        processor::run(&self.inbox, &self.notify, engine).await;
    }

    /// Process what is due now, once (tests and `sync --once`).
    pub async fn process_due(&self, engine: &Engine) -> anyhow::Result<usize> {
        processor::process_due(&self.inbox, engine).await
    }

    /// Stop the listeners.
    pub async fn shutdown(self) {
        for listener in self.listeners {
            listener.shutdown().await;
        }
    }
}
