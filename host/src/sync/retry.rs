//! What to do after a failed delivery: the error class decides.
//!
//! - transient: exponential backoff with full jitter, `rand(0, min(cap, base * 2^attempt))`
//!   (Brooker, "Exponential backoff and jitter"), until `max_attempts`, then dead-letter;
//! - rate-limited: wait what the platform asked (and drain the token bucket), not counted;
//! - auth: pause the platform, alert, keep the job (not counted);
//! - validation, permanent: dead-letter with the reason at once.
//!
//! Also the per-platform token bucket and circuit breaker.

use crate::runtime::types::ErrorClass;
use rand::Rng;
use std::time::{Duration, Instant};

/// Retry settings of one platform.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// First backoff ceiling, in milliseconds.
    #[serde(default = "default_base_ms")]
    pub base_ms: u64,
    /// Largest backoff, in milliseconds.
    #[serde(default = "default_cap_ms")]
    pub cap_ms: u64,
    /// Attempts before a transiently failing job is dead-lettered.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

fn default_base_ms() -> u64 {
    1_000
}
fn default_cap_ms() -> u64 {
    300_000
}
fn default_max_attempts() -> u32 {
    8
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_ms: default_base_ms(),
            cap_ms: default_cap_ms(),
            max_attempts: default_max_attempts(),
        }
    }
}

/// The decision for one failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Retry after this long; `counts` says whether it uses up an attempt.
    Retry {
        /// Delay.
        after: Duration,
        /// Counts towards `max_attempts`.
        counts: bool,
    },
    /// Retry later and pause the platform (credentials refused).
    Pause,
    /// Give up.
    Dead,
}

impl RetryPolicy {
    /// Full-jitter backoff for the `attempt`-th failure (1-based).
    pub fn backoff(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
            .min(self.cap_ms);
        Duration::from_millis(rng.random_range(0..=exp))
    }

    /// Decide what follows a failure of class `class` on attempt `attempt`.
    pub fn decide(
        &self,
        class: &ErrorClass,
        retry_after: Option<Duration>,
        attempt: u32,
        rng: &mut impl Rng,
    ) -> Decision {
        match class {
            ErrorClass::Transient if attempt >= self.max_attempts => Decision::Dead,
            ErrorClass::Transient => Decision::Retry {
                after: self.backoff(attempt, rng),
                counts: true,
            },
            ErrorClass::RateLimited => Decision::Retry {
                after: retry_after.unwrap_or(Duration::from_millis(self.base_ms)),
                counts: false,
            },
            ErrorClass::Auth => Decision::Pause,
            ErrorClass::Validation | ErrorClass::Permanent => Decision::Dead,
        }
    }
}

/// The name of an error class, as stored and shown.
pub fn class_name(class: &ErrorClass) -> &'static str {
    match class {
        ErrorClass::Transient => "transient",
        ErrorClass::RateLimited => "rate-limited",
        ErrorClass::Auth => "auth",
        ErrorClass::Validation => "validation",
        ErrorClass::Permanent => "permanent",
    }
}

/// A token bucket: `rate` tokens a second, up to `burst`.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    blocked_until: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            rate: per_minute as f64 / 60.0,
            burst: burst.max(1) as f64,
            tokens: burst.max(1) as f64,
            last: Instant::now(),
            blocked_until: None,
        }
    }

    /// Take `n` tokens, or say how long to wait for them.
    pub fn take(&mut self, n: u32) -> Result<(), Duration> {
        let now = Instant::now();
        if let Some(until) = self.blocked_until {
            if now < until {
                return Err(until - now);
            }
            self.blocked_until = None;
        }
        self.tokens = (self.tokens + (now - self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        let n = (n as f64).min(self.burst);
        if self.tokens >= n {
            self.tokens -= n;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (n - self.tokens) / self.rate.max(1e-9),
            ))
        }
    }

    /// The platform said 429: empty the bucket until `after` has passed.
    pub fn block_for(&mut self, after: Duration) {
        self.tokens = 0.0;
        self.blocked_until = Some(Instant::now() + after);
    }
}

/// Circuit breaker states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Circuit {
    /// Calls flow.
    Closed,
    /// Calls are held until the cool-down ends.
    Open,
    /// One probe batch is allowed.
    HalfOpen,
}

/// Opens after `threshold` consecutive failed batches, probes after `cool_down`.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cool_down: Duration,
    failures: u32,
    opened_at: Option<Instant>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self {
            threshold,
            cool_down,
            failures: 0,
            opened_at: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> Circuit {
        match self.opened_at {
            None => Circuit::Closed,
            Some(at) if at.elapsed() < self.cool_down => Circuit::Open,
            Some(_) => Circuit::HalfOpen,
        }
    }

    /// How long until a probe is allowed (zero when calls may flow).
    pub fn wait(&self) -> Duration {
        match self.opened_at {
            Some(at) if at.elapsed() < self.cool_down => self.cool_down - at.elapsed(),
            _ => Duration::ZERO,
        }
    }

    /// A batch reached the platform and was answered.
    pub fn success(&mut self) {
        self.failures = 0;
        self.opened_at = None;
    }

    /// A batch failed transiently.
    pub fn failure(&mut self) {
        self.failures += 1;
        if self.failures >= self.threshold || self.state() == Circuit::HalfOpen {
            self.opened_at = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = RetryPolicy {
            base_ms: 100,
            cap_ms: 1_000,
            max_attempts: 5,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for attempt in 1..20 {
            let ceiling = (100u64 << (attempt - 1).min(30)).min(1_000);
            for _ in 0..50 {
                assert!(p.backoff(attempt, &mut rng) <= Duration::from_millis(ceiling));
            }
        }
    }

    #[test]
    fn classes_drive_decisions() {
        let p = RetryPolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert!(matches!(
            p.decide(&ErrorClass::Transient, None, 1, &mut rng),
            Decision::Retry { counts: true, .. }
        ));
        assert_eq!(
            p.decide(&ErrorClass::Transient, None, 8, &mut rng),
            Decision::Dead
        );
        assert_eq!(
            p.decide(
                &ErrorClass::RateLimited,
                Some(Duration::from_secs(7)),
                3,
                &mut rng
            ),
            Decision::Retry {
                after: Duration::from_secs(7),
                counts: false
            }
        );
        assert_eq!(
            p.decide(&ErrorClass::Auth, None, 1, &mut rng),
            Decision::Pause
        );
        assert_eq!(
            p.decide(&ErrorClass::Validation, None, 1, &mut rng),
            Decision::Dead
        );
        assert_eq!(
            p.decide(&ErrorClass::Permanent, None, 1, &mut rng),
            Decision::Dead
        );
    }

    #[test]
    fn bucket_refills_and_blocks() {
        let mut b = TokenBucket::new(60, 2);
        assert!(b.take(1).is_ok());
        assert!(b.take(1).is_ok());
        assert!(b.take(1).is_err());
        b.block_for(Duration::from_secs(30));
        assert!(b.take(1).unwrap_err() > Duration::from_secs(29));
    }

    #[test]
    fn breaker_opens_and_half_opens() {
        let mut c = CircuitBreaker::new(2, Duration::from_millis(20));
        c.failure();
        assert_eq!(c.state(), Circuit::Closed);
        c.failure();
        assert_eq!(c.state(), Circuit::Open);
        std::thread::sleep(Duration::from_millis(25));
        assert_eq!(c.state(), Circuit::HalfOpen);
        c.failure();
        assert_eq!(c.state(), Circuit::Open);
        std::thread::sleep(Duration::from_millis(25));
        c.success();
        assert_eq!(c.state(), Circuit::Closed);
    }
}
