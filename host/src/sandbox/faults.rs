//! Fault injection: what to break on `/stock` calls, and the seeded dice
//! that decide which calls it happens to, so a failing test replays exactly.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the sandbox breaks. Set at start ([`super::SandboxConfig::faults`])
/// and changed at run time ([`super::Sandbox::set_faults`], `PUT /_sandbox/faults`).
/// Applies to `/stock` calls only, checked in this order: `down`,
/// `timeout_rate`, `rate_limit_rate`, `error_rate`, then `latency_ms` for
/// calls that get through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share (0..=1) of stock calls answered 503.
    pub error_rate: f64,
    /// Share (0..=1) of stock calls answered 429 with `Retry-After`.
    pub rate_limit_rate: f64,
    /// `Retry-After` seconds on a 429.
    pub retry_after_secs: u64,
    /// Added to every stock call that reaches the API.
    pub latency_ms: u64,
    /// Share (0..=1) of stock calls that hang for `hang_ms`, then lose the connection without a response.
    pub timeout_rate: f64,
    /// How long a timed-out call hangs; longer than a client's timeout makes the client give up first.
    pub hang_ms: u64,
    /// When a call times out, apply it first (the response is what gets lost,
    /// as when a gateway gives up on a slow backend). This is the case that
    /// makes clients' create idempotency matter.
    pub timeout_after_processing: bool,
    /// Every stock call answered 503, as in an outage.
    pub down: bool,
    /// Every stock and partner call answered 401, as when a platform
    /// revokes an integration's access (a fresh token does not help).
    pub unauthorized: bool,
    /// Dotted paths (`"vehicle.colour"`): a create or patch whose body
    /// contains one is refused with 400 naming it, as a platform refusing a field.
    pub reject_fields: Vec<String>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            retry_after_secs: 1,
            latency_ms: 0,
            timeout_rate: 0.0,
            hang_ms: 10_000,
            timeout_after_processing: false,
            down: false,
            unauthorized: false,
            reject_fields: Vec::new(),
        }
    }
}

impl Faults {
    /// The first setting that makes no sense (a rate outside 0..=1), if any.
    pub fn check(&self) -> Result<(), String> {
        for (name, rate) in self.rates() {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        Ok(())
    }

    /// The same settings with every rate forced into 0..=1 (NaN becomes 0),
    /// for settings handed over in code, where there is no one to answer 400 to.
    pub(crate) fn clamped(mut self) -> Self {
        for rate in [
            &mut self.error_rate,
            &mut self.rate_limit_rate,
            &mut self.timeout_rate,
        ] {
            *rate = if rate.is_nan() {
                0.0
            } else {
                rate.clamp(0.0, 1.0)
            };
        }
        self
    }

    fn rates(&self) -> [(&'static str, f64); 3] {
        [
            ("error_rate", self.error_rate),
            ("rate_limit_rate", self.rate_limit_rate),
            ("timeout_rate", self.timeout_rate),
        ]
    }
}

/// What happens to one stock call.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Decision {
    /// 503: the whole service is down.
    Down,
    /// 401: access refused.
    Unauthorized,
    /// Hang for `hang`, then drop the connection; `after_processing`: apply the call first.
    Timeout {
        hang: Duration,
        after_processing: bool,
    },
    /// 429 with `Retry-After`.
    RateLimited { retry_after_secs: u64 },
    /// 503: a transient error.
    Error,
    /// Answer normally after `latency`.
    Pass { latency: Duration },
}

/// The current faults and the seeded dice.
pub(crate) struct Injector {
    faults: Faults,
    rng: StdRng,
}

impl Injector {
    pub(crate) fn new(faults: Faults, seed: u64) -> Self {
        Injector {
            faults: faults.clamped(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    pub(crate) fn set(&mut self, faults: Faults) {
        self.faults = faults.clamped();
    }

    /// Decide one stock call's fate.
    pub(crate) fn decide(&mut self) -> Decision {
        // Three draws on every call whatever the settings, so changing one
        // rate does not shift which calls the other faults land on.
        let draws: [f64; 3] = [self.rng.random(), self.rng.random(), self.rng.random()];
        let f = &self.faults;
        if f.down {
            Decision::Down
        } else if f.unauthorized {
            Decision::Unauthorized
        } else if draws[0] < f.timeout_rate {
            Decision::Timeout {
                hang: Duration::from_millis(f.hang_ms),
                after_processing: f.timeout_after_processing,
            }
        } else if draws[1] < f.rate_limit_rate {
            Decision::RateLimited {
                retry_after_secs: f.retry_after_secs,
            }
        } else if draws[2] < f.error_rate {
            Decision::Error
        } else {
            Decision::Pass {
                latency: Duration::from_millis(f.latency_ms),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(faults: Faults, seed: u64, n: usize) -> Vec<Decision> {
        let mut injector = Injector::new(faults, seed);
        (0..n).map(|_| injector.decide()).collect()
    }

    #[test]
    fn no_faults_means_every_call_passes() {
        let all = outcomes(Faults::default(), 1, 100);
        assert!(all.iter().all(|d| *d
            == Decision::Pass {
                latency: Duration::ZERO
            }));
    }

    #[test]
    fn down_wins_over_everything() {
        let faults = Faults {
            down: true,
            timeout_rate: 1.0,
            ..Faults::default()
        };
        assert!(outcomes(faults, 1, 10).iter().all(|d| *d == Decision::Down));
    }

    #[test]
    fn rates_are_roughly_honoured_and_reproducible() {
        let faults = Faults {
            error_rate: 0.3,
            ..Faults::default()
        };
        let first = outcomes(faults.clone(), 42, 2000);
        assert_eq!(first, outcomes(faults.clone(), 42, 2000));
        assert_ne!(first, outcomes(faults, 43, 2000));
        let errors = first.iter().filter(|d| **d == Decision::Error).count();
        assert!(
            (500..700).contains(&errors),
            "{errors} errors in 2000 at 0.3"
        );
    }

    #[test]
    fn timeout_comes_before_rate_limit() {
        let faults = Faults {
            timeout_rate: 1.0,
            rate_limit_rate: 1.0,
            hang_ms: 5,
            ..Faults::default()
        };
        assert_eq!(
            outcomes(faults, 0, 1)[0],
            Decision::Timeout {
                hang: Duration::from_millis(5),
                after_processing: false
            }
        );
    }

    #[test]
    fn check_and_clamp() {
        let bad = Faults {
            rate_limit_rate: 1.5,
            error_rate: f64::NAN,
            ..Faults::default()
        };
        assert!(bad.check().unwrap_err().contains("error_rate"));
        let clamped = bad.clamped();
        assert_eq!((clamped.error_rate, clamped.rate_limit_rate), (0.0, 1.0));
        assert!(Faults::default().check().is_ok());
    }

    #[test]
    fn partial_json_fills_defaults_and_typos_are_refused() {
        let f: Faults = serde_json::from_str(r#"{"error_rate": 0.5}"#).unwrap();
        assert_eq!(f.retry_after_secs, 1);
        assert_eq!(f.error_rate, 0.5);
        assert!(serde_json::from_str::<Faults>(r#"{"eror_rate": 0.5}"#).is_err());
    }
}
