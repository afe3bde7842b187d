//! What the rules look at, gathered from the store in one pass per
//! evaluation: delivery outcomes, pauses, dead letters, sold vehicles still
//! listed, source freshness and (from a pluggable provider) failed logins.
//!
//! Nothing here carries free text from a plugin or a DMS record beyond stock
//! ids and registrations, so nothing downstream can leak personal data.

use super::rules::Rules;
use super::state::AlertStore;
use super::AlertError;
use crate::store::{Store, StoreResult};

/// Everything the rules need, at one moment.
#[derive(Debug, Clone)]
pub struct Signals {
    /// When gathered (ms since the epoch).
    pub now: i64,
    /// When this alerting service started watching: a source never pulled is
    /// stale only once this is long enough ago.
    pub watching_since: i64,
    /// Per platform.
    pub platforms: Vec<PlatformSignals>,
    /// Per source.
    pub sources: Vec<SourceSignals>,
    /// Failed admin-API logins within the rule's window; `None` when there is
    /// no access log to read.
    pub failed_logins: Option<u64>,
}

/// One platform.
#[derive(Debug, Clone)]
pub struct PlatformSignals {
    /// Platform id.
    pub platform: String,
    /// Failed deliveries since the last acknowledged one (rate limits and
    /// auth pauses neither count nor break the run).
    pub consecutive_failures: u32,
    /// The count stopped at the look-back limit: there may be more.
    pub consecutive_capped: bool,
    /// Error class of the newest failure.
    pub last_failure_class: Option<String>,
    /// Acknowledged deliveries in the error-rate window.
    pub window_succeeded: u64,
    /// Failed deliveries in the error-rate window.
    pub window_failed: u64,
    /// Paused on an auth error.
    pub paused: bool,
    /// The newest dead letters (at most [`DEAD_LETTERS_LISTED`]).
    pub dead_letters: Vec<DeadLetter>,
    /// All dead letters.
    pub dead_letter_count: u64,
    /// Sold, withdrawn or removed vehicles still live or reserved here.
    pub still_listed: Vec<SoldListing>,
    /// The platform's configured delay before de-advertising a sold vehicle.
    pub deadvertise_delay_ms: i64,
}

/// A dead letter, without its error message.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Job id (for `forecourt dead-letters retry`).
    pub job_id: i64,
    /// Stock id.
    pub stock_id: String,
    /// create, update, remove, ...
    pub operation: String,
    /// Error class.
    pub error_class: String,
}

/// A vehicle that should not be advertised but is still published on a platform.
#[derive(Debug, Clone, PartialEq)]
pub struct SoldListing {
    /// Stock id.
    pub stock_id: String,
    /// Registration mark.
    pub registration: Option<String>,
    /// Platform id.
    pub platform: String,
    /// `sold`, `withdrawn` or `removed`.
    pub reason: String,
    /// When it stopped being advertisable.
    pub since: i64,
}

/// One source.
#[derive(Debug, Clone)]
pub struct SourceSignals {
    /// Source id.
    pub source: String,
    /// When a pull last completed.
    pub last_success: Option<i64>,
    /// Its pull interval.
    pub interval_ms: i64,
}

/// Counts failed logins to the admin API. The admin API's access log
/// implements it; without one the `failed_logins` rule stays quiet.
pub trait LoginFailures: Send + Sync {
    /// Failed logins at or after `since_ms`.
    fn failed_logins_since(&self, since_ms: i64) -> anyhow::Result<u64>;
}

/// The store as alerting uses it: the engine's store plus alert state.
pub trait AlertBackend: Store + AlertStore {}
impl<T: Store + AlertStore> AlertBackend for T {}

/// What is watched: platforms with their de-advertising delay, sources with their interval.
#[derive(Debug, Clone, Default)]
pub struct Watched {
    /// `(platform id, deadvertise delay ms)`
    pub platforms: Vec<(String, i64)>,
    /// `(source id, interval ms)`
    pub sources: Vec<(String, i64)>,
}

/// Error classes that count as a failed delivery. Rate limits are flow
/// control and auth has its own rule (the platform is paused).
pub const FAILURE_CLASSES: [&str; 3] = ["transient", "permanent", "validation"];

/// How many newest delivery outcomes are read to count a failure run.
pub const LOOK_BACK: usize = 1_000;

/// How many dead letters are listed per platform.
pub const DEAD_LETTERS_LISTED: usize = 20;

/// Gather the signals the enabled rules need.
pub fn gather(
    store: &dyn AlertBackend,
    watched: &Watched,
    rules: &Rules,
    logins: Option<&dyn LoginFailures>,
    now: i64,
    watching_since: i64,
) -> Result<Signals, AlertError> {
    let still_listed = if rules.sold_still_listed.is_some() {
        store.sold_still_listed()?
    } else {
        Vec::new()
    };
    let mut platforms = Vec::with_capacity(watched.platforms.len());
    for (platform, delay) in &watched.platforms {
        platforms.push(platform_signals(
            store,
            platform,
            *delay,
            rules,
            &still_listed,
            now,
        )?);
    }
    let mut sources = Vec::with_capacity(watched.sources.len());
    for (source, interval) in &watched.sources {
        sources.push(SourceSignals {
            source: source.clone(),
            last_success: store.last_success(source)?,
            interval_ms: *interval,
        });
    }
    let failed_logins = match (&rules.failed_logins, logins) {
        (Some(rule), Some(provider)) => Some(
            provider
                .failed_logins_since(now - rule.params.window_ms)
                .map_err(|e| AlertError::Logins(format!("{e:#}")))?,
        ),
        _ => None,
    };
    Ok(Signals {
        now,
        watching_since,
        platforms,
        sources,
        failed_logins,
    })
}

fn platform_signals(
    store: &dyn AlertBackend,
    platform: &str,
    deadvertise_delay_ms: i64,
    rules: &Rules,
    still_listed: &[SoldListing],
    now: i64,
) -> StoreResult<PlatformSignals> {
    let mut s = PlatformSignals {
        platform: platform.to_string(),
        consecutive_failures: 0,
        consecutive_capped: false,
        last_failure_class: None,
        window_succeeded: 0,
        window_failed: 0,
        paused: store.paused(platform)?.is_some(),
        dead_letters: Vec::new(),
        dead_letter_count: 0,
        still_listed: still_listed
            .iter()
            .filter(|l| l.platform == platform)
            .cloned()
            .collect(),
        deadvertise_delay_ms,
    };
    if rules.delivery_failures.is_some() {
        let recent = store.recent_results(platform, LOOK_BACK)?;
        let (run, capped, last) = failure_run(&recent);
        s.consecutive_failures = run;
        s.consecutive_capped = capped && recent.len() == LOOK_BACK;
        s.last_failure_class = last;
    }
    if let Some(rule) = &rules.error_rate {
        for (class, n) in store.results_since(platform, now - rule.params.window_ms)? {
            match class.as_deref() {
                None => s.window_succeeded += n,
                Some(c) if FAILURE_CLASSES.contains(&c) => s.window_failed += n,
                Some(_) => {}
            }
        }
    }
    if rules.dead_letters.is_some() {
        let dead = store.dead_letters(Some(platform))?;
        s.dead_letter_count = dead.len() as u64;
        s.dead_letters = dead
            .into_iter()
            .take(DEAD_LETTERS_LISTED)
            .map(|j| DeadLetter {
                job_id: j.id,
                stock_id: j.stock_id,
                operation: j.kind,
                error_class: j.error_class.unwrap_or_else(|| "unknown".into()),
            })
            .collect();
    }
    Ok(s)
}

/// Count failures from the newest outcome back to the newest success.
/// `recent` holds error classes, newest first; `None` is an acknowledgement.
/// Returns the run, whether it reached the end of `recent`, and the newest failure's class.
pub fn failure_run(recent: &[Option<String>]) -> (u32, bool, Option<String>) {
    let mut run = 0;
    let mut last = None;
    for outcome in recent {
        match outcome.as_deref() {
            None => return (run, false, last),
            Some(c) if FAILURE_CLASSES.contains(&c) => {
                run += 1;
                last.get_or_insert_with(|| c.to_string());
            }
            Some(_) => {}
        }
    }
    (run, true, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_run_skips_rate_limits_and_stops_at_a_success() {
        let o = |c: Option<&str>| c.map(String::from);
        let recent = vec![
            o(Some("transient")),
            o(Some("rate-limited")),
            o(Some("validation")),
            o(Some("transient")),
            o(None),
            o(Some("transient")),
        ];
        assert_eq!(failure_run(&recent), (3, false, Some("transient".into())));
        assert_eq!(failure_run(&recent[4..]), (0, false, None));
        assert_eq!(
            failure_run(&recent[..2]),
            (1, true, Some("transient".into()))
        );
    }
}
