//! The model table shipped with the plugin (`data/uk-models.csv`, compiled
//! in), and finding the row that fits a vehicle best.

use forecourt_sdk::{FuelType, Vehicle};

/// The table, as shipped.
pub const CSV: &str = include_str!("../data/uk-models.csv");

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Make, as written (matched without case).
    pub make: String,
    /// Model (matched without case; "Golf" also matches "Golf GTI").
    pub model: String,
    /// petrol | diesel | hybrid | mild-hybrid | plug-in-hybrid | electric
    pub fuel: String,
    /// Engine size; none for electric cars.
    pub engine_cc: Option<u32>,
    /// First registration years covered.
    pub years: (u16, u16),
    /// Combined WLTP mpg; none for electric cars.
    pub mpg: Option<f64>,
    /// CO2 in g/km.
    pub co2_g_km: u32,
    /// UK insurance group, e.g. "14E".
    pub insurance_group: String,
}

/// Parse the table; a malformed line is a build-time bug, reported with its number.
pub fn parse(csv: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (i, line) in csv.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let n = i + 1;
        if f.len() != 9 {
            return Err(format!("line {n}: {} fields, expected 9", f.len()));
        }
        let num = |s: &str, what: &str| -> Result<Option<f64>, String> {
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse::<f64>()
                    .map(Some)
                    .map_err(|_| format!("line {n}: {what} `{s}` is not a number"))
            }
        };
        let year = |s: &str| {
            s.parse::<u16>()
                .map_err(|_| format!("line {n}: year `{s}`"))
        };
        let group = f[8].to_string();
        let group_number: u32 = group
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse()
            .map_err(|_| format!("line {n}: insurance group `{group}`"))?;
        if !(1..=50).contains(&group_number) {
            return Err(format!(
                "line {n}: insurance group {group_number} is not 1 to 50"
            ));
        }
        rows.push(Row {
            make: f[0].to_string(),
            model: f[1].to_string(),
            fuel: f[2].to_string(),
            engine_cc: num(f[3], "engine_cc")?.map(|v| v as u32),
            years: (year(f[4])?, year(f[5])?),
            mpg: num(f[6], "mpg")?,
            co2_g_km: num(f[7], "co2")?.ok_or(format!("line {n}: no CO2"))? as u32,
            insurance_group: group,
        });
    }
    Ok(rows)
}

/// The table's fuel name for a vehicle's fuel type.
pub fn fuel_name(f: &FuelType) -> Option<&'static str> {
    Some(match f {
        FuelType::Petrol => "petrol",
        FuelType::Diesel => "diesel",
        FuelType::Electric => "electric",
        FuelType::Hybrid => "hybrid",
        FuelType::MildHybrid => "mild-hybrid",
        FuelType::PlugInHybrid => "plug-in-hybrid",
        FuelType::Lpg | FuelType::Hydrogen | FuelType::Other(_) => return None,
    })
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The registration year used for matching.
pub fn year_of(v: &Vehicle) -> Option<u16> {
    v.first_registration
        .as_ref()
        .map(|d| d.year)
        .or(v.model_year)
}

/// The row for this vehicle: same make, model (the table's model is the
/// vehicle's or its first words), fuel and year range, and the engine size
/// within 60 cc (none needed for electric cars); the closest engine size wins.
pub fn lookup<'a>(rows: &'a [Row], v: &Vehicle) -> Option<&'a Row> {
    let make = norm(v.make.as_deref()?);
    let model = norm(v.model.as_deref()?);
    let fuel = fuel_name(v.fuel_type.as_ref()?)?;
    let year = year_of(v)?;
    rows.iter()
        .filter(|r| {
            norm(&r.make) == make
                || (make == "mercedes" && r.make == "Mercedes-Benz")
                || (make == "mini" && r.make == "MINI")
        })
        .filter(|r| {
            let m = norm(&r.model);
            model == m || model.starts_with(&format!("{m} "))
        })
        .filter(|r| r.fuel == fuel)
        .filter(|r| (r.years.0..=r.years.1).contains(&year))
        .filter_map(|r| match (r.engine_cc, v.engine_size_cc) {
            (None, _) => Some((0, r)),
            (Some(cc), Some(vcc)) if cc.abs_diff(vcc) <= 60 => Some((cc.abs_diff(vcc), r)),
            _ => None,
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses() {
        let rows = parse(CSV).unwrap();
        assert!(rows.len() >= 50, "{}", rows.len());
        assert!(rows.iter().all(|r| r.years.0 <= r.years.1));
        assert!(rows
            .iter()
            .filter(|r| r.fuel == "electric")
            .all(|r| r.co2_g_km == 0 && r.mpg.is_none()));
    }

    #[test]
    fn malformed_lines_are_named() {
        assert!(parse("Ford,Fiesta,petrol\n")
            .unwrap_err()
            .starts_with("line 1:"));
        assert!(parse("# c\nFord,Fiesta,petrol,998,2017,2023,x,122,14E\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse("Ford,Fiesta,petrol,998,2017,2023,52.3,122,60E\n").is_err());
    }
}
