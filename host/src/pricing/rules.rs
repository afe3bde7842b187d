//! The arithmetic of pricing rules, pure and in integer minor units (pence):
//! a reduction by a percentage, rounded down to a trade ending (£…95,
//! £…995), never below a floor.

use serde::{Deserialize, Serialize};

/// One step of the days-in-stock ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The step applies once the vehicle has been in stock this many days.
    pub after_days: u32,
    /// Reduction in basis points (200 = 2%).
    pub basis_points: u32,
}

/// Trade endings for reduced prices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rounding {
    /// Whole pounds (pence dropped).
    #[serde(rename = "pounds")]
    Pounds,
    /// Prices end in 95: £7,895, £12,495.
    #[default]
    #[serde(rename = "95")]
    Ninety5,
    /// Prices end in 995: £7,995, £12,995.
    #[serde(rename = "995")]
    Nine95,
}

impl Rounding {
    /// (modulus, ending) in pounds; `None` for whole pounds.
    fn ending(self) -> Option<(i64, i64)> {
        match self {
            Rounding::Pounds => None,
            Rounding::Ninety5 => Some((100, 95)),
            Rounding::Nine95 => Some((1000, 995)),
        }
    }

    /// The largest price with this ending at or below `minor`, if any is above zero.
    pub fn down(self, minor: i64) -> Option<i64> {
        let pounds = minor.div_euclid(100);
        let out = match self.ending() {
            None => pounds,
            Some((m, e)) => (pounds - e).div_euclid(m) * m + e,
        };
        (out > 0).then_some(out * 100)
    }

    /// The smallest price with this ending at or above `minor`.
    pub fn up(self, minor: i64) -> i64 {
        let pounds = (minor + 99).div_euclid(100);
        let out = match self.ending() {
            None => pounds,
            Some((m, e)) => (pounds - e + m - 1).div_euclid(m) * m + e,
        };
        out * 100
    }
}

/// Where a reduction may not go below.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Floor {
    /// Basis points of the DMS price (9000 = 90%).
    pub of_dms_basis_points: Option<u32>,
    /// Minor units above the cost price (hub-only data), when the DMS gives one.
    pub over_cost_minor: Option<i64>,
    /// An absolute minimum, in minor units.
    pub minimum_minor: Option<i64>,
}

impl Floor {
    /// The floor for a vehicle: the highest of the limits that apply.
    pub fn for_vehicle(&self, dms_minor: i64, cost_minor: Option<i64>) -> i64 {
        let of_dms = self
            .of_dms_basis_points
            .map(|bp| dms_minor * i64::from(bp) / 10_000);
        let over_cost = match (self.over_cost_minor, cost_minor) {
            (Some(margin), Some(cost)) => Some(cost + margin),
            _ => None,
        };
        [of_dms, over_cost, self.minimum_minor]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0)
    }
}

/// What one step did to a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reduction {
    /// The price after the step (the same as before when held).
    pub price_minor: i64,
    /// The floor stopped the full reduction (or any reduction).
    pub held_at_floor: bool,
}

/// Reduce `current` by `basis_points`, round down to the ending, and keep it
/// at or above `floor` with the ending; if no price with the ending lies in
/// `[floor, current)`, the price stays as it is.
pub fn reduce(current: i64, basis_points: u32, floor: i64, rounding: Rounding) -> Reduction {
    // A price is never reduced to nothing, whatever the floor says.
    let floor = floor.max(1);
    let target = current - current * i64::from(basis_points) / 10_000;
    match rounding.down(target) {
        Some(rounded) if rounded >= floor && rounded < current => Reduction {
            price_minor: rounded,
            held_at_floor: false,
        },
        // A reduction too small to reach the next ending down: nothing moves.
        Some(rounded) if rounded >= current => Reduction {
            price_minor: current,
            held_at_floor: false,
        },
        // Below the floor (or below any price with the ending): the lowest
        // price with the ending at or above the floor, if that is still a reduction.
        _ => {
            let lowest = rounding.up(floor);
            Reduction {
                price_minor: if lowest < current { lowest } else { current },
                held_at_floor: true,
            }
        }
    }
}

/// The advertised price: `dms` with steps `from..to` of `steps` applied in order.
pub fn advertised(
    dms_minor: i64,
    steps: &[Step],
    from: usize,
    to: usize,
    floor: i64,
    rounding: Rounding,
) -> i64 {
    steps
        .iter()
        .take(to)
        .skip(from)
        .fold(dms_minor, |price, step| {
            reduce(price, step.basis_points, floor, rounding).price_minor
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POUND: i64 = 100;

    #[test]
    fn endings_round_down_and_up() {
        assert_eq!(Rounding::Ninety5.down(12_735 * POUND), Some(12_695 * POUND));
        assert_eq!(Rounding::Ninety5.down(12_695 * POUND), Some(12_695 * POUND));
        assert_eq!(
            Rounding::Ninety5.down(12_694 * POUND + 99),
            Some(12_595 * POUND)
        );
        assert_eq!(Rounding::Nine95.down(12_735 * POUND), Some(11_995 * POUND));
        assert_eq!(Rounding::Nine95.down(12_995 * POUND), Some(12_995 * POUND));
        assert_eq!(
            Rounding::Pounds.down(12_735 * POUND + 40),
            Some(12_735 * POUND)
        );
        assert_eq!(Rounding::Ninety5.down(90 * POUND), None);
        assert_eq!(Rounding::Ninety5.up(12_301 * POUND), 12_395 * POUND);
        assert_eq!(Rounding::Ninety5.up(12_395 * POUND), 12_395 * POUND);
        assert_eq!(Rounding::Nine95.up(12_300 * POUND), 12_995 * POUND);
        assert_eq!(Rounding::Nine95.up(12_995 * POUND + 1), 13_995 * POUND);
        assert_eq!(Rounding::Pounds.up(12_300 * POUND + 1), 12_301 * POUND);
    }

    #[test]
    fn two_percent_twice_with_95_endings() {
        // £12,995 → 2% is £12,735.10 → £12,695; again → £12,441.10 → £12,395.
        let first = reduce(12_995 * POUND, 200, 0, Rounding::Ninety5);
        assert_eq!(
            first,
            Reduction {
                price_minor: 12_695 * POUND,
                held_at_floor: false
            }
        );
        let second = reduce(first.price_minor, 200, 0, Rounding::Ninety5);
        assert_eq!(second.price_minor, 12_395 * POUND);
        let steps = [
            Step {
                after_days: 30,
                basis_points: 200,
            },
            Step {
                after_days: 45,
                basis_points: 200,
            },
        ];
        assert_eq!(
            advertised(12_995 * POUND, &steps, 0, 2, 0, Rounding::Ninety5),
            12_395 * POUND
        );
        assert_eq!(
            advertised(12_995 * POUND, &steps, 1, 2, 0, Rounding::Ninety5),
            12_695 * POUND
        );
        assert_eq!(
            advertised(12_995 * POUND, &steps, 0, 0, 0, Rounding::Ninety5),
            12_995 * POUND
        );
    }

    #[test]
    fn the_floor_holds() {
        // The reduction would go to £12,695; the floor is £12,700: the
        // lowest 95-ending at or above it (£12,795) is still a reduction.
        let r = reduce(12_995 * POUND, 200, 12_700 * POUND, Rounding::Ninety5);
        assert_eq!(
            r,
            Reduction {
                price_minor: 12_795 * POUND,
                held_at_floor: true
            }
        );
        // With 995 endings there is none between £12,700 and £12,995: no change.
        let r = reduce(12_995 * POUND, 200, 12_700 * POUND, Rounding::Nine95);
        assert_eq!(
            r,
            Reduction {
                price_minor: 12_995 * POUND,
                held_at_floor: true
            }
        );
        // Already at the floor: no change.
        let r = reduce(12_795 * POUND, 200, 12_795 * POUND, Rounding::Ninety5);
        assert_eq!(
            r,
            Reduction {
                price_minor: 12_795 * POUND,
                held_at_floor: true
            }
        );
        // The result never goes below the floor, whatever the numbers.
        for price in (1_000..30_000).step_by(37) {
            for floor in [0, 500, 5_000, 9_950, 20_000] {
                for rounding in [Rounding::Pounds, Rounding::Ninety5, Rounding::Nine95] {
                    let r = reduce(price * POUND, 200, floor * POUND, rounding);
                    assert!(
                        r.price_minor <= price * POUND,
                        "{price} {floor} {rounding:?}"
                    );
                    assert!(
                        r.price_minor >= (floor * POUND).min(price * POUND),
                        "{price} {floor} {rounding:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn floors_take_the_highest_limit() {
        let f = Floor {
            of_dms_basis_points: Some(9_000),
            over_cost_minor: Some(500 * POUND),
            minimum_minor: Some(1_000 * POUND),
        };
        assert_eq!(
            f.for_vehicle(10_000 * POUND, Some(9_700 * POUND)),
            10_200 * POUND
        );
        assert_eq!(f.for_vehicle(10_000 * POUND, None), 9_000 * POUND);
        assert_eq!(f.for_vehicle(800 * POUND, None), 1_000 * POUND);
        assert_eq!(Floor::default().for_vehicle(10_000 * POUND, Some(1)), 0);
    }

    #[test]
    fn tiny_reductions_do_not_move_a_price_up() {
        // 0.1% of £12,995 is £13: rounding down to 95 gives £12,895 (below), fine;
        // with pounds rounding, £12,982.
        assert_eq!(
            reduce(12_995 * POUND, 10, 0, Rounding::Pounds).price_minor,
            12_982 * POUND
        );
        // A price already on the ending with a reduction that rounds back up never increases.
        let r = reduce(95 * POUND, 1, 0, Rounding::Ninety5);
        assert!(r.price_minor <= 95 * POUND);
        // A cheap vehicle is never reduced to nothing.
        let r = reduce(50 * POUND, 200, 0, Rounding::Ninety5);
        assert_eq!(
            r,
            Reduction {
                price_minor: 50 * POUND,
                held_at_floor: true
            }
        );
    }
}
