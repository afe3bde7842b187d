//! The `[pricing]` section of `forecourt.toml`.

use super::rules::{Floor, Rounding, Step};
use crate::config::{line_of, ConfigError, RawConfig};
use serde::Deserialize;
use toml::Spanned;

/// `[pricing]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPricing {
    /// The days-in-stock ladder, e.g. `[{ after_days = 30, percent = 2 }, { after_days = 45, percent = 2 }]`.
    #[serde(default)]
    pub rules: Vec<RawStep>,
    /// `"95"` (default), `"995"` or `"pounds"`.
    #[serde(default)]
    pub rounding: Rounding,
    /// Never below this.
    #[serde(default)]
    pub floor: RawFloor,
    /// Seconds between sweeps for vehicles crossing a threshold (60 to 86,400, default 900).
    #[serde(default = "default_sweep")]
    pub sweep_interval_secs: Spanned<u64>,
}

/// One rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Days in stock after which it applies (1 to 3650).
    pub after_days: Spanned<u32>,
    /// Reduction in percent (0.01 to 50).
    pub percent: Spanned<f64>,
}

/// `[pricing.floor]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFloor {
    /// Never below this percentage of the DMS price (e.g. 90).
    #[serde(default)]
    pub percent_of_dms_price: Option<Spanned<f64>>,
    /// Never below the cost price (from the DMS's hub-only data) plus this many pounds.
    #[serde(default)]
    pub min_margin_over_cost: Option<Spanned<i64>>,
    /// Never below this many pounds.
    #[serde(default)]
    pub minimum: Option<Spanned<i64>>,
}

fn default_sweep() -> Spanned<u64> {
    Spanned::new(0..0, 900)
}

/// Settings, resolved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// Ladder, by `after_days`.
    pub steps: Vec<Step>,
    /// Ending of reduced prices.
    pub rounding: Rounding,
    /// The floor.
    pub floor: Floor,
    /// Between threshold sweeps.
    pub sweep_interval: std::time::Duration,
}

impl Default for Settings {
    /// No rules: the DMS price is advertised, pins still work.
    fn default() -> Self {
        Settings {
            steps: vec![],
            rounding: Rounding::default(),
            floor: Floor::default(),
            sweep_interval: std::time::Duration::from_secs(900),
        }
    }
}

impl RawPricing {
    /// The validated settings.
    pub fn settings(&self) -> Settings {
        let mut steps: Vec<Step> = self
            .rules
            .iter()
            .map(|r| Step {
                after_days: *r.after_days.get_ref(),
                basis_points: (r.percent.get_ref() * 100.0).round() as u32,
            })
            .collect();
        steps.sort_by_key(|s| s.after_days);
        Settings {
            steps,
            rounding: self.rounding,
            floor: Floor {
                of_dms_basis_points: self
                    .floor
                    .percent_of_dms_price
                    .as_ref()
                    .map(|p| (p.get_ref() * 100.0).round() as u32),
                over_cost_minor: self
                    .floor
                    .min_margin_over_cost
                    .as_ref()
                    .map(|m| m.get_ref() * 100),
                minimum_minor: self.floor.minimum.as_ref().map(|m| m.get_ref() * 100),
            },
            sweep_interval: std::time::Duration::from_secs(*self.sweep_interval_secs.get_ref()),
        }
    }
}

/// Check `[pricing]`.
pub fn validate(config: &RawConfig, text: &str, file: &str) -> Result<(), ConfigError> {
    let Some(p) = &config.pricing else {
        return Ok(());
    };
    let err = |span: std::ops::Range<usize>, key: String, message: String| ConfigError {
        file: file.to_string(),
        line: line_of(text, span),
        key,
        message,
    };
    let mut days = std::collections::BTreeSet::new();
    for (i, r) in p.rules.iter().enumerate() {
        let d = *r.after_days.get_ref();
        if !(1..=3650).contains(&d) {
            return Err(err(
                r.after_days.span(),
                format!("pricing.rules[{i}].after_days"),
                format!("is {d}; allowed 1 to 3650 days"),
            ));
        }
        if !days.insert(d) {
            return Err(err(
                r.after_days.span(),
                format!("pricing.rules[{i}].after_days"),
                format!("{d} days is used by two rules"),
            ));
        }
        let pct = *r.percent.get_ref();
        if !(0.01..=50.0).contains(&pct) {
            return Err(err(
                r.percent.span(),
                format!("pricing.rules[{i}].percent"),
                format!("is {pct}; a reduction from 0.01 to 50 percent"),
            ));
        }
    }
    if let Some(pct) = &p.floor.percent_of_dms_price {
        if !(0.0..=100.0).contains(pct.get_ref()) {
            return Err(err(
                pct.span(),
                "pricing.floor.percent_of_dms_price".into(),
                format!("is {}; from 0 to 100", pct.get_ref()),
            ));
        }
    }
    for (key, value) in [
        ("min_margin_over_cost", &p.floor.min_margin_over_cost),
        ("minimum", &p.floor.minimum),
    ] {
        if let Some(v) = value {
            if !(0..=10_000_000).contains(v.get_ref()) {
                return Err(err(
                    v.span(),
                    format!("pricing.floor.{key}"),
                    format!("is {}; pounds from 0 to 10,000,000", v.get_ref()),
                ));
            }
        }
    }
    let sweep = *p.sweep_interval_secs.get_ref();
    if !(60..=86_400).contains(&sweep) {
        return Err(err(
            p.sweep_interval_secs.span(),
            "pricing.sweep_interval_secs".into(),
            format!("is {sweep}; allowed 60 to 86400"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::RawConfig;
    use crate::pricing::rules::Rounding;

    #[test]
    fn parses_and_resolves() {
        let c = RawConfig::parse(
            "[pricing]\nrules = [{ after_days = 45, percent = 2 }, { after_days = 30, percent = 2.5 }]\nrounding = \"995\"\nfloor = { percent_of_dms_price = 90, min_margin_over_cost = 500 }\n",
            "f.toml",
        )
        .unwrap();
        let s = c.pricing.unwrap().settings();
        assert_eq!(s.steps[0].after_days, 30);
        assert_eq!(s.steps[0].basis_points, 250);
        assert_eq!(s.rounding, Rounding::Nine95);
        assert_eq!(s.floor.of_dms_basis_points, Some(9_000));
        assert_eq!(s.floor.over_cost_minor, Some(50_000));
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = RawConfig::parse(
            "[pricing]\nrules = [{ after_days = 30, percent = 80 }]\n",
            "f.toml",
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.line),
            ("pricing.rules[0].percent", Some(2))
        );
        let e = RawConfig::parse("[pricing]\nrules = [{ after_days = 30, percent = 2 }, { after_days = 30, percent = 1 }]\n", "f.toml").unwrap_err();
        assert!(e.message.contains("used by two rules"), "{e}");
        let e = RawConfig::parse("[pricing]\nrounding = \"99\"\n", "f.toml").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = RawConfig::parse("[pricing]\nfloor = { minimum = -5 }\n", "f.toml").unwrap_err();
        assert_eq!(e.key, "pricing.floor.minimum");
    }
}
