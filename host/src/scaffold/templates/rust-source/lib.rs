//! {{name}}: a forecourt DMS source. The host reads the dealer's export file
//! and hands its bytes to `pull`; this plugin parses a JSON array of
//! `{"stock_id", "make", "model", "price_gbp"}` objects into vehicles. Made by
//! `forecourt plugin new`; see README.md.

use forecourt_sdk::{
    export_source, Change, Condition, Money, PluginError, PullPage, PullRequest, RowIssue, Source,
    SourceInfo, StockStatus, VatStatus, Vehicle, VehicleType,
};

struct Plugin;

#[derive(serde::Deserialize)]
struct Row {
    stock_id: String,
    make: Option<String>,
    model: Option<String>,
    price_gbp: Option<i64>,
}

impl Source for Plugin {
    fn describe() -> SourceInfo {
        SourceInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config_schema: r#"{"type":"object","required":["dealer_id"],"properties":{"dealer_id":{"type":"string"}}}"#.into(),
            incremental: false,
            push: false,
            needs_document: true,
        }
    }

    fn pull(request: PullRequest) -> Result<PullPage, PluginError> {
        let config: serde_json::Value = serde_json::from_str(&request.config)
            .map_err(|e| PluginError::validation("config", e.to_string()))?;
        let dealer = config["dealer_id"].as_str().unwrap_or_default().to_string();
        let document = request
            .document
            .ok_or_else(|| PluginError::permanent("no export file was handed over"))?;
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&document)
            .map_err(|e| PluginError::permanent(format!("the export is not a JSON array: {e}")))?;
        let mut changes = Vec::new();
        let mut issues = Vec::new();
        for (n, value) in rows.into_iter().enumerate() {
            match serde_json::from_value::<Row>(value) {
                Ok(row) => changes.push(Change::Upsert(vehicle(&dealer, row))),
                Err(e) => issues.push(RowIssue {
                    record_number: n as u32 + 1,
                    stock_id: None,
                    field: None,
                    message: e.to_string(),
                }),
            }
        }
        Ok(PullPage {
            changes,
            issues,
            next_cursor: None,
            has_more: false,
            full_snapshot: true,
        })
    }
}

fn vehicle(dealer: &str, row: Row) -> Vehicle {
    Vehicle {
        dealer_id: dealer.to_string(),
        location_id: "main".into(),
        stock_id: row.stock_id,
        registration: None,
        vin: None,
        make: row.make,
        model: row.model,
        variant: None,
        trim: None,
        vehicle_type: VehicleType::Car,
        body_style: None,
        fuel_type: None,
        transmission: None,
        drivetrain: None,
        doors: None,
        seats: None,
        engine_size_cc: None,
        power_bhp: None,
        co2_g_per_km: None,
        emissions_standard: None,
        colour: None,
        first_registration: None,
        model_year: None,
        mileage: None,
        price: row.price_gbp.map(|p| Money {
            amount_minor: p * 100,
            currency: "GBP".into(),
        }),
        vat: VatStatus::NoVat,
        condition: Condition::Used,
        service_history: None,
        previous_owners: None,
        mot_expiry: None,
        features: vec![],
        description: None,
        images: vec![],
        status: StockStatus::InStock,
        date_in_stock: None,
        attributes: vec![],
        hub_only: None,
    }
}

export_source!(Plugin);
