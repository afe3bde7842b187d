//! ADF 1.0 leads for the dealer's CRM, as a forecourt `crm` plugin.
//!
//! `render` turns a lead (a buyer's enquiry with the vehicle it concerns)
//! into an ADF document ([`adf`]); the host e-mails it when the operator
//! chose e-mail delivery. `deliver` POSTs each lead's document to the
//! configured endpoint ([`deliver`]); credentials are injected by the host
//! from the manifest's `[[http]]` auth, never seen here.

use std::time::{Duration, Instant};

use forecourt_sdk::http::{Request, Response};
use forecourt_sdk::{export_crm, Crm, CrmInfo, DeliveryResult, Document, Lead, PluginError};

pub mod adf;
pub mod config;
pub mod deliver;

use config::Config;

/// Leads per `deliver` call.
pub const BATCH_SIZE: u32 = 10;

/// The plugin: stateless.
pub struct AdfCrm;

fn parse(config: &str) -> Result<Config, PluginError> {
    Config::parse(config).map_err(|e| PluginError::validation("config", e))
}

struct Wasi {
    started: Instant,
}

impl deliver::Transport for Wasi {
    fn send(&mut self, post: &deliver::Post) -> Result<Response, PluginError> {
        let mut request = Request::post(post.url.clone()).timeout(deliver::REQUEST_TIMEOUT);
        for (name, value) in &post.headers {
            request = request.header(name.clone(), value.clone());
        }
        request.body(post.body.clone().into_bytes()).send()
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Crm for AdfCrm {
    fn describe() -> CrmInfo {
        CrmInfo {
            name: "ADF CRM".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: config::CONFIG_SCHEMA.into(),
            batch_size: BATCH_SIZE,
            content_type: config::ADF_CONTENT_TYPE.into(),
        }
    }

    fn render(config: &str, lead: Lead) -> Result<Document, PluginError> {
        let config = parse(config)?;
        Ok(Document {
            content_type: config.content_type.clone(),
            body: adf::render(&config, &lead)?,
        })
    }

    fn deliver(config: &str, leads: Vec<Lead>) -> Result<Vec<DeliveryResult>, PluginError> {
        let config = parse(config)?;
        Ok(deliver::deliver(
            &config,
            &leads,
            &mut Wasi {
                started: Instant::now(),
            },
        ))
    }
}

export_crm!(AdfCrm);
