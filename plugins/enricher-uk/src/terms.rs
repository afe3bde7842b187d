//! Standard search terms buyers type, derived from the vehicle's data, and
//! appending them to a description within a platform's length limit.

use forecourt_sdk::{FuelType, ServiceHistory, Transmission, Vehicle};

/// Whether the vehicle meets London's ULEZ standard: Euro 4 petrol, Euro 6
/// diesel, or electric. The emissions standard decides when the DMS gives
/// it; otherwise the registration date does (Euro 4 was mandatory for new
/// petrol cars from January 2006, Euro 6 diesel from September 2015).
pub fn ulez_compliant(v: &Vehicle) -> Option<bool> {
    let fuel = v.fuel_type.as_ref()?;
    if matches!(fuel, FuelType::Electric | FuelType::Hydrogen) {
        return Some(true);
    }
    let euro = v.emissions_standard.as_deref().and_then(|s| {
        s.to_ascii_lowercase()
            .trim_start_matches("euro")
            .trim()
            .chars()
            .next()?
            .to_digit(10)
    });
    let diesel = matches!(fuel, FuelType::Diesel)
        || v.variant
            .as_deref()
            .is_some_and(|s| s.to_lowercase().contains("diesel"));
    if let Some(euro) = euro {
        return Some(if diesel { euro >= 6 } else { euro >= 4 });
    }
    let d = v.first_registration.as_ref()?;
    Some(if diesel {
        (d.year, d.month) >= (2015, 9)
    } else {
        d.year >= 2006
    })
}

/// The terms that apply, most useful first.
pub fn terms(v: &Vehicle, insurance_group: Option<u32>, mpg: Option<f64>) -> Vec<String> {
    let mut out = Vec::new();
    match v.fuel_type.as_ref() {
        Some(FuelType::Electric) => out.push("Electric".to_string()),
        Some(FuelType::Hybrid | FuelType::MildHybrid) => out.push("Hybrid".to_string()),
        Some(FuelType::PlugInHybrid) => out.push("Plug-in hybrid".to_string()),
        _ => {}
    }
    if ulez_compliant(v) == Some(true) {
        out.push("ULEZ compliant".into());
    }
    if matches!(
        v.transmission,
        Some(Transmission::Automatic | Transmission::SemiAutomatic | Transmission::Cvt)
    ) {
        out.push("Automatic".into());
    }
    if insurance_group.is_some_and(|g| g <= 15) {
        out.push("Low insurance group".into());
    }
    if mpg.is_some_and(|m| m >= 55.0) {
        out.push("Economical".into());
    }
    if v.co2_g_per_km == Some(0) || matches!(v.fuel_type, Some(FuelType::Electric)) {
        out.push("Zero emissions".into());
    }
    if matches!(
        v.service_history,
        Some(ServiceHistory::FullDealer | ServiceHistory::Full)
    ) {
        out.push("Full service history".into());
    }
    if v.previous_owners == Some(1) {
        out.push("One owner".into());
    }
    out.dedup();
    out
}

/// `description` with "\n\n<label>: t1, t2, ..." appended, keeping as many
/// terms as fit in `max_chars`; `None` when there is no description or no
/// term fits.
pub fn append(
    description: &str,
    label: &str,
    terms: &[String],
    max_chars: Option<u32>,
) -> Option<String> {
    let base = description.trim_end();
    if base.is_empty() || terms.is_empty() {
        return None;
    }
    let limit = max_chars.map_or(usize::MAX, |m| m as usize);
    for keep in (1..=terms.len()).rev() {
        let text = format!("{base}\n\n{label}: {}", terms[..keep].join(", "));
        if text.chars().count() <= limit {
            return Some(text);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_what_fits() {
        let t = vec![
            "Hybrid".to_string(),
            "ULEZ compliant".to_string(),
            "Automatic".to_string(),
        ];
        assert_eq!(
            append("Lovely car.", "Search terms", &t, None).unwrap(),
            "Lovely car.\n\nSearch terms: Hybrid, ULEZ compliant, Automatic"
        );
        let fits_two = "Lovely car.\n\nSearch terms: Hybrid, ULEZ compliant"
            .chars()
            .count() as u32;
        assert_eq!(
            append("Lovely car.", "Search terms", &t, Some(fits_two)).unwrap(),
            "Lovely car.\n\nSearch terms: Hybrid, ULEZ compliant"
        );
        assert_eq!(append("Lovely car.", "Search terms", &t, Some(12)), None);
        assert_eq!(append("  ", "Search terms", &t, None), None);
        assert_eq!(append("x", "Search terms", &[], None), None);
    }
}
