//! Enrichment: an `enricher` plugin (contract 1.1) adds data to each
//! vehicle, after hub-only data is removed and pricing applied, before the
//! platform plugin validates and transforms it. It is called per platform so
//! it can respect what each platform allows (description length, whether
//! search terms are welcome). A failing enricher never blocks a listing:
//! the vehicle goes out as it was, with a warning on the listing.

use crate::config::{line_of, plugin_config_json, ConfigError, RawConfig};
use crate::contract::World;
use crate::runtime::egress::OperatorGrants;
use crate::runtime::enricher_api::{EnricherInfo, Target};
use crate::runtime::types::{Severity, ValidationIssue, Vehicle};
use crate::runtime::Plugin;
use anyhow::Context;
use serde::Deserialize;
use toml::Spanned;

/// `[enricher]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnricher {
    /// Plugin id of an `enricher` plugin.
    pub plugin: Spanned<String>,
    /// The plugin's configuration, handed to it as JSON.
    #[serde(default = "empty_table")]
    pub config: toml::Table,
    /// The operator's grants to this plugin.
    #[serde(default)]
    pub grants: OperatorGrants,
}

fn empty_table() -> toml::Table {
    toml::Table::new()
}

/// Check `[enricher]`.
pub fn validate(config: &RawConfig, text: &str, file: &str) -> Result<(), ConfigError> {
    if let Some(e) = &config.enricher {
        let id = e.plugin.get_ref();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ConfigError {
                file: file.to_string(),
                line: line_of(text, e.plugin.span()),
                key: "enricher.plugin".into(),
                message: format!(
                    "`{id}` is not a plugin id (lower-case letters, digits and dashes)"
                ),
            });
        }
    }
    Ok(())
}

/// A loaded enricher.
pub struct EnricherSetup {
    /// The plugin.
    pub plugin: Plugin,
    /// Its configuration (JSON).
    pub config: String,
    /// What it said in describe().
    pub info: EnricherInfo,
}

impl EnricherSetup {
    /// Load `[enricher]`, if configured.
    pub async fn build(
        config: &RawConfig,
        loader: &crate::app::PluginLoader<'_>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(raw) = &config.enricher else {
            return Ok(None);
        };
        let plugin = loader
            .load(
                &config.plugin_path(raw.plugin.get_ref()),
                raw.grants.clone(),
            )
            .with_context(|| format!("enricher `{}`", raw.plugin.get_ref()))?;
        anyhow::ensure!(
            plugin.world() == World::Enricher,
            "enricher: plugin `{}` is a {}, not an enricher",
            raw.plugin.get_ref(),
            plugin.world()
        );
        let info = plugin.enricher_info().await?;
        Ok(Some(Self {
            plugin,
            config: plugin_config_json(&raw.config),
            info,
        }))
    }

    /// Enrich `vehicle` for `platform`. On any failure the vehicle comes
    /// back unchanged with a warning saying why.
    pub async fn enrich(
        &self,
        platform: &str,
        max_description_length: Option<u32>,
        vehicle: Vehicle,
    ) -> (Vehicle, Vec<ValidationIssue>) {
        let target = Target {
            platform: platform.to_string(),
            max_description_length,
        };
        let field = format!("enricher:{}", self.plugin.id());
        let warning = |message: String| ValidationIssue {
            field: field.clone(),
            severity: Severity::Warning,
            message,
        };
        match self.plugin.enrich(&self.config, &vehicle, &target).await {
            Ok(Ok(enriched)) => (enriched.vehicle, vec![]),
            Ok(Err(e)) => {
                let message = format!("not enriched: {}", crate::pii::redact(&e.message).0);
                tracing::warn!(plugin = %self.plugin.id(), stock_id = %vehicle.stock_id, %message, "Enrichment failed; the vehicle is listed without it.");
                (vehicle, vec![warning(message)])
            }
            Err(call) => {
                let message = format!("not enriched: {call}");
                tracing::warn!(plugin = %self.plugin.id(), stock_id = %vehicle.stock_id, %message, "Enrichment failed; the vehicle is listed without it.");
                (vehicle, vec![warning(message)])
            }
        }
    }
}
