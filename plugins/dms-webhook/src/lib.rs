//! A forecourt DMS source for push notifications: a DMS POSTs JSON vehicle
//! events to the host, which checks their HMAC-SHA256 signature, timestamp
//! and event id, stores them, answers 202, and then hands each body to
//! `parse-push`. This plugin only parses: it has no network access and
//! never sees the signing secret.
//!
//! The event format is in [`event`]; `docs/plugins/dms-webhook.md` describes
//! it and the signature scheme for DMS vendors.

use forecourt_sdk::{export_source, PluginError, PullPage, Source, SourceInfo};

pub mod config;
pub mod event;

/// The plugin: stateless.
pub struct DmsWebhook;

impl Source for DmsWebhook {
    fn describe() -> SourceInfo {
        SourceInfo {
            name: "DMS push notifications".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: config::CONFIG_SCHEMA.into(),
            incremental: false,
            push: true,
            needs_document: false,
        }
    }

    // `pull` stays "not supported": every change arrives by push.

    fn parse_push(
        config: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<PullPage, PluginError> {
        event::parse_push(config, &headers, &body)
    }
}

export_source!(DmsWebhook);
