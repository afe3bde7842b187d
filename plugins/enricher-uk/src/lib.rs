//! A UK enricher for forecourt (`enricher` world, contract 1.1): fills
//! combined fuel economy, the VED CO2 band and the insurance group of common
//! UK models from a table shipped with the plugin ([`table`]), the CO2
//! figure when the DMS gave none, and appends standard search terms to
//! descriptions for the platforms the configuration names ([`terms`]).
//!
//! It only fills gaps: a value the DMS supplied is never overwritten.
//! Deterministic and offline: no HTTP, no state.

use std::sync::OnceLock;

use forecourt_sdk::attributes::{CO2_BAND, FUEL_ECONOMY_MPG, INSURANCE_GROUP};
use forecourt_sdk::{
    export_enricher, Attribute, Enriched, Enricher, EnricherInfo, PluginError, Target, Vehicle,
};

pub mod bands;
pub mod config;
pub mod table;
pub mod terms;

use config::Config;

fn rows() -> &'static [table::Row] {
    static ROWS: OnceLock<Vec<table::Row>> = OnceLock::new();
    ROWS.get_or_init(|| table::parse(table::CSV).expect("the shipped table parses (tested)"))
}

/// The plugin.
pub struct UkEnricher;

fn has_attribute(v: &Vehicle, key: &str) -> Option<String> {
    v.attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
}

fn set_attribute(v: &mut Vehicle, key: &str, value: String, changed: &mut Vec<String>) {
    if has_attribute(v, key).is_none() {
        v.attributes.push(Attribute {
            key: key.into(),
            value,
        });
        changed.push(format!("attributes.{key}"));
    }
}

/// Enrich one vehicle (the logic behind the export, callable natively).
pub fn enrich(config: &Config, mut v: Vehicle, target: &Target) -> Enriched {
    let mut changed = Vec::new();
    let row = table::lookup(rows(), &v);
    if let Some(row) = row {
        if v.co2_g_per_km.is_none() {
            v.co2_g_per_km = Some(row.co2_g_km);
            changed.push("co2-g-per-km".into());
        }
        if let Some(mpg) = row.mpg {
            set_attribute(&mut v, FUEL_ECONOMY_MPG, format!("{mpg:.1}"), &mut changed);
        }
        set_attribute(
            &mut v,
            INSURANCE_GROUP,
            row.insurance_group.clone(),
            &mut changed,
        );
    }
    if let Some(co2) = v.co2_g_per_km {
        if let Some(band) = bands::co2_band(co2, v.first_registration.as_ref()) {
            set_attribute(&mut v, CO2_BAND, band.to_string(), &mut changed);
        }
    }
    let search = &config.search_terms;
    if search.platforms.iter().any(|p| p == &target.platform) {
        let group = has_attribute(&v, INSURANCE_GROUP).and_then(|g| {
            g.trim_end_matches(|c: char| c.is_ascii_alphabetic())
                .parse::<u32>()
                .ok()
        });
        let mpg = has_attribute(&v, FUEL_ECONOMY_MPG).and_then(|m| m.parse::<f64>().ok());
        let mut list = terms::terms(&v, group, mpg);
        list.truncate(search.max_terms);
        if let Some(text) = v
            .description
            .as_deref()
            .and_then(|d| terms::append(d, &search.label, &list, target.max_description_length))
        {
            v.description = Some(text);
            changed.push("description".into());
        }
    }
    Enriched {
        vehicle: v,
        changed,
    }
}

impl Enricher for UkEnricher {
    fn describe() -> EnricherInfo {
        EnricherInfo {
            name: "UK enricher".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: config::CONFIG_SCHEMA.into(),
            fields: vec![
                "co2-g-per-km".into(),
                "description".into(),
                format!("attributes.{FUEL_ECONOMY_MPG}"),
                format!("attributes.{CO2_BAND}"),
                format!("attributes.{INSURANCE_GROUP}"),
            ],
        }
    }

    fn enrich(config: &str, vehicle: Vehicle, target: Target) -> Result<Enriched, PluginError> {
        let config = Config::parse(config).map_err(|e| PluginError::validation("config", e))?;
        Ok(enrich(&config, vehicle, &target))
    }
}

export_enricher!(UkEnricher);
