//! Mileage rules: a reading lower than the last one the hub accepted for
//! the vehicle (a clocked car or a typing error), and a reading implausible
//! for the vehicle's age.

use super::rules::{id, Finding, RuleSet};
use super::MileageReading;
use crate::runtime::types::{Condition, MileageUnit, Vehicle};

/// The vehicle's reading in miles.
pub fn miles(v: &Vehicle) -> Option<u32> {
    v.mileage.as_ref().map(|m| match m.unit {
        MileageUnit::Miles => m.value,
        MileageUnit::Kilometres => (m.value as f64 / 1.609_344).round() as u32,
    })
}

/// Age in years (fractional) from first registration, or the model year.
pub fn age_years(v: &Vehicle, today: jiff::civil::Date) -> Option<f64> {
    let from = match &v.first_registration {
        Some(d) => jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok()?,
        None => jiff::civil::Date::new(v.model_year? as i16, 7, 1).ok()?,
    };
    let days = from.until((jiff::Unit::Day, today)).ok()?.get_days() as f64;
    Some((days / 365.25).max(0.0))
}

/// The mileage findings for `v`.
pub fn check(
    v: &Vehicle,
    rules: &RuleSet,
    last: Option<&MileageReading>,
    today: Option<jiff::civil::Date>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(m) = miles(v) else { return out };
    if let Some(last) = last {
        if rules.on(id::MILEAGE_REGRESSION) && m < last.miles {
            out.push(Finding::new(
                id::MILEAGE_REGRESSION,
                "mileage",
                format!(
                    "{m} miles is lower than the {} miles recorded earlier for this vehicle; correct the DMS, or confirm with `forecourt quality reset-mileage`",
                    last.miles
                ),
            ));
        }
    }
    if rules.on(id::MILEAGE_IMPLAUSIBLE) {
        let new_max = rules.int(id::MILEAGE_IMPLAUSIBLE, "new_max") as u32;
        let per_year = rules.int(id::MILEAGE_IMPLAUSIBLE, "max_per_year") as f64;
        if matches!(v.condition, Condition::New) {
            if m > new_max {
                out.push(Finding::new(
                    id::MILEAGE_IMPLAUSIBLE,
                    "mileage",
                    format!("{m} miles on a vehicle sold as new (more than {new_max})"),
                ));
            }
        } else if let Some(age) = today.and_then(|t| age_years(v, t)) {
            // A vehicle in its first year may have done a year's miles already.
            let allowed = per_year * age.max(1.0);
            if m as f64 > allowed {
                out.push(Finding::new(
                    id::MILEAGE_IMPLAUSIBLE,
                    "mileage",
                    format!(
                        "{m} miles in {age:.1} years is more than {per_year:.0} a year; check the reading and the unit"
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::types::{Date, Mileage};

    fn car(miles: u32, registered: (u16, u8)) -> Vehicle {
        let mut v = crate::sample::sample_stock(1, 6).remove(0);
        v.condition = Condition::Used;
        v.mileage = Some(Mileage {
            value: miles,
            unit: MileageUnit::Miles,
        });
        v.first_registration = Some(Date {
            year: registered.0,
            month: registered.1,
            day: 1,
        });
        v
    }

    fn today() -> Option<jiff::civil::Date> {
        Some(jiff::civil::date(2026, 11, 28))
    }

    fn reading(miles: u32) -> MileageReading {
        MileageReading {
            stock_id: "x".into(),
            vin: None,
            miles,
            at: 1,
        }
    }

    #[test]
    fn lower_than_the_last_reading() {
        let rules = RuleSet::default();
        let f = check(
            &car(20_000, (2020, 1)),
            &rules,
            Some(&reading(25_000)),
            today(),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, id::MILEAGE_REGRESSION);
        assert!(f[0].message.contains("25000"));
        assert!(check(
            &car(25_000, (2020, 1)),
            &rules,
            Some(&reading(25_000)),
            today()
        )
        .is_empty());
        assert!(check(
            &car(25_001, (2020, 1)),
            &rules,
            Some(&reading(25_000)),
            today()
        )
        .is_empty());
    }

    #[test]
    fn implausible_for_age_and_for_new_cars() {
        let rules = RuleSet::default();
        // Six years at 35,000 a year is 210,000.
        assert!(check(&car(200_000, (2020, 11)), &rules, None, today()).is_empty());
        assert_eq!(
            check(&car(250_000, (2020, 11)), &rules, None, today())[0].rule,
            id::MILEAGE_IMPLAUSIBLE
        );
        // A three-month-old car may have done a year's worth.
        assert!(check(&car(30_000, (2026, 8)), &rules, None, today()).is_empty());
        let mut new = car(1_500, (2026, 9));
        new.condition = Condition::New;
        assert!(check(&new, &rules, None, today())[0]
            .message
            .contains("sold as new"));
        new.mileage.as_mut().unwrap().value = 10;
        assert!(check(&new, &rules, None, today()).is_empty());
        // Kilometres are converted.
        let mut km = car(20_000, (2020, 1));
        km.mileage.as_mut().unwrap().unit = MileageUnit::Kilometres;
        assert_eq!(miles(&km), Some(12_427));
    }
}
