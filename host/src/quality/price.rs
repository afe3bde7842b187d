//! Price rules: zero or negative, placeholder-looking numbers, and prices
//! far from the median of comparable stock (same make and model, model
//! year within a band).

use super::rules::{id, Finding, RuleSet};
use crate::runtime::types::Vehicle;
use std::collections::HashMap;

/// Prices of the present stock by (make, model), for comparisons.
#[derive(Debug, Default, Clone)]
pub struct PriceIndex {
    /// (make, model) lower-case -> (stock id, year, pence)
    by_model: HashMap<(String, String), Vec<(String, i32, i64)>>,
}

fn model_key(v: &Vehicle) -> Option<(String, String)> {
    let make = super::normalise::make(v.make.as_deref()?)
        .map(str::to_string)
        .unwrap_or_else(|| v.make.clone().unwrap_or_default());
    Some((
        make.to_lowercase(),
        v.model.as_deref()?.trim().to_lowercase(),
    ))
}

fn year(v: &Vehicle) -> Option<i32> {
    v.model_year
        .or(v.first_registration.as_ref().map(|d| d.year))
        .map(i32::from)
}

impl PriceIndex {
    /// Index these vehicles (advertisable stock with a positive price).
    pub fn new<'a>(stock: impl IntoIterator<Item = &'a Vehicle>) -> Self {
        let mut by_model: HashMap<_, Vec<_>> = HashMap::new();
        for v in stock {
            let (Some(k), Some(y), Some(p)) = (model_key(v), year(v), v.price.as_ref()) else {
                continue;
            };
            if p.amount_minor > 0 {
                by_model
                    .entry(k)
                    .or_default()
                    .push((v.stock_id.clone(), y, p.amount_minor));
            }
        }
        Self { by_model }
    }

    /// The median price and count of comparable vehicles (not `v` itself).
    pub fn median(&self, v: &Vehicle, band: i32) -> Option<(i64, usize)> {
        let (k, y) = (model_key(v)?, year(v)?);
        let mut prices: Vec<i64> = self
            .by_model
            .get(&k)?
            .iter()
            .filter(|(id, yr, _)| *id != v.stock_id && (yr - y).abs() <= band)
            .map(|(_, _, p)| *p)
            .collect();
        if prices.is_empty() {
            return None;
        }
        prices.sort_unstable();
        let n = prices.len();
        let median = if n % 2 == 1 {
            prices[n / 2]
        } else {
            (prices[n / 2 - 1] + prices[n / 2]) / 2
        };
        Some((median, n))
    }
}

/// Whether whole pounds look like a placeholder.
pub fn placeholder(pounds: i64, listed: &[String]) -> bool {
    let digits = pounds.to_string();
    pounds < 10
        || listed.iter().any(|l| l.trim() == digits)
        || (digits.len() >= 2 && digits.chars().all(|c| Some(c) == digits.chars().next()))
}

fn pounds(pence: i64) -> String {
    let p = pence / 100;
    let s = p.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}£{out}", if p < 0 { "-" } else { "" })
}

/// The price findings for `v`.
pub fn check(v: &Vehicle, rules: &RuleSet, index: Option<&PriceIndex>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(price) = v.price.as_ref() else {
        return out; // mandatory-fields reports a missing price
    };
    let pence = price.amount_minor;
    if pence <= 0 {
        if rules.on(id::PRICE_INVALID) {
            out.push(Finding::new(
                id::PRICE_INVALID,
                "price",
                format!("is {}; a listing needs a price above zero", pounds(pence)),
            ));
        }
        return out;
    }
    if rules.on(id::PRICE_PLACEHOLDER)
        && pence % 100 == 0
        && placeholder(pence / 100, rules.list(id::PRICE_PLACEHOLDER, "values"))
    {
        out.push(Finding::new(
            id::PRICE_PLACEHOLDER,
            "price",
            format!(
                "{} looks like a placeholder, not a real price",
                pounds(pence)
            ),
        ));
        return out;
    }
    if rules.on(id::PRICE_PLACEHOLDER) && pence < 1_000 {
        out.push(Finding::new(
            id::PRICE_PLACEHOLDER,
            "price",
            format!(
                "{} is under £10: a placeholder, not a real price",
                pounds(pence)
            ),
        ));
        return out;
    }
    if rules.on(id::PRICE_OUTLIER) {
        let band = rules.int(id::PRICE_OUTLIER, "year_band") as i32;
        let min = rules.int(id::PRICE_OUTLIER, "min_comparables").max(1) as usize;
        let percent = rules.int(id::PRICE_OUTLIER, "percent") as f64;
        if let Some((median, n)) = index.and_then(|i| i.median(v, band)) {
            let off = (pence - median) as f64 / median as f64 * 100.0;
            if n >= min && off.abs() > percent {
                out.push(Finding::new(
                    id::PRICE_OUTLIER,
                    "price",
                    format!(
                        "{} is {:.0}% {} the median {} of {n} comparable vehicles (same make and model, year ±{band})",
                        pounds(pence),
                        off.abs(),
                        if off < 0.0 { "below" } else { "above" },
                        pounds(median)
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
    use crate::runtime::types::Money;

    fn car(id: &str, make: &str, model: &str, year: u16, pounds: i64) -> Vehicle {
        let mut v = crate::sample::sample_stock(1, 4).remove(0);
        v.stock_id = id.into();
        v.make = Some(make.into());
        v.model = Some(model.into());
        v.model_year = Some(year);
        v.price = Some(Money {
            amount_minor: pounds * 100,
            currency: "GBP".into(),
        });
        v
    }

    fn rules() -> RuleSet {
        RuleSet::default()
    }

    #[test]
    fn zero_negative_and_placeholder_prices() {
        for (pounds, rule) in [
            (0, id::PRICE_INVALID),
            (-5, id::PRICE_INVALID),
            (1, id::PRICE_PLACEHOLDER),
            (9999, id::PRICE_PLACEHOLDER),
            (99999, id::PRICE_PLACEHOLDER),
            (123456, id::PRICE_PLACEHOLDER),
            (11111, id::PRICE_PLACEHOLDER),
            (7777, id::PRICE_PLACEHOLDER),
            (5, id::PRICE_PLACEHOLDER),
        ] {
            let f = check(&car("a", "Ford", "Focus", 2020, pounds), &rules(), None);
            assert_eq!(f.len(), 1, "£{pounds}");
            assert_eq!(f[0].rule, rule, "£{pounds}");
            assert_eq!(f[0].field, "price");
        }
        for pounds in [9995, 12995, 10000, 11110, 99998, 15] {
            assert!(
                check(&car("a", "Ford", "Focus", 2020, pounds), &rules(), None).is_empty(),
                "£{pounds}"
            );
        }
        // Pence make it a real price (£9,999.50 is odd but deliberate).
        let mut v = car("a", "Ford", "Focus", 2020, 9999);
        v.price.as_mut().unwrap().amount_minor += 50;
        assert!(check(&v, &rules(), None).is_empty());
        v.price.as_mut().unwrap().amount_minor = 50;
        assert_eq!(check(&v, &rules(), None)[0].rule, id::PRICE_PLACEHOLDER);
    }

    #[test]
    fn outliers_against_the_median_of_comparable_stock() {
        let stock: Vec<Vehicle> = [
            (2020, 12_000),
            (2021, 13_000),
            (2019, 11_000),
            (2020, 12_500),
            (2015, 3_000),
            (2020, 12_200),
        ]
        .iter()
        .enumerate()
        .map(|(i, (y, p))| car(&format!("s{i}"), "Ford", "Focus", *y, *p))
        .chain([car("other", "VW", "Golf", 2020, 40_000)])
        .collect();
        let index = PriceIndex::new(&stock);
        // Comparables for 2020 ±1: 12,000 13,000 11,000 12,500 12,200 -> median 12,200.
        let cheap = car("x", "FORD", "focus", 2020, 6_000);
        assert_eq!(index.median(&cheap, 1), Some((1_220_000, 5)));
        let f = check(&cheap, &rules(), Some(&index));
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("51% below the median £12,200 of 5"),
            "{}",
            f[0].message
        );
        assert!(
            check(
                &car("x", "Ford", "Focus", 2020, 9_000),
                &rules(),
                Some(&index)
            )
            .is_empty(),
            "26% is within 40%"
        );
        assert_eq!(
            check(
                &car("x", "Ford", "Focus", 2020, 20_000),
                &rules(),
                Some(&index)
            )[0]
            .rule,
            id::PRICE_OUTLIER
        );
        // Too few comparables: no verdict.
        assert!(check(&car("x", "VW", "Golf", 2020, 5_000), &rules(), Some(&index)).is_empty());
        // A vehicle is not its own comparable.
        assert_eq!(index.median(&stock[0], 1).unwrap().1, 4);
    }
}
