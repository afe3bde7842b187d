//! The rules: pure functions from [`Signals`] to the conditions that hold now.
//!
//! One condition per rule and subject (a platform, a source, the admin API),
//! listing everything that rule sees on that subject, so an outage that
//! touches forty vehicles is one alert, not forty. Texts are built from ids,
//! registrations, counts, error classes and times only: never a plugin's
//! free-text message, never personal data.

use super::signals::{PlatformSignals, Signals, SourceSignals};

/// The rules, by the names used in configuration, state and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleName {
    /// N deliveries in a row failed on a platform.
    DeliveryFailures,
    /// Failed share of deliveries over a window above a threshold.
    ErrorRate,
    /// Sold, withdrawn or removed vehicles still listed after N minutes.
    SoldStillListed,
    /// A platform paused because it refused our credentials.
    PlatformPaused,
    /// Dead letters waiting.
    DeadLetters,
    /// A source not refreshed within T.
    SourceStale,
    /// Repeated failed logins to the admin API.
    FailedLogins,
}

impl RuleName {
    /// Every rule.
    pub const ALL: [RuleName; 7] = [
        RuleName::DeliveryFailures,
        RuleName::ErrorRate,
        RuleName::SoldStillListed,
        RuleName::PlatformPaused,
        RuleName::DeadLetters,
        RuleName::SourceStale,
        RuleName::FailedLogins,
    ];

    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleName::DeliveryFailures => "delivery_failures",
            RuleName::ErrorRate => "error_rate",
            RuleName::SoldStillListed => "sold_still_listed",
            RuleName::PlatformPaused => "platform_paused",
            RuleName::DeadLetters => "dead_letters",
            RuleName::SourceStale => "source_stale",
            RuleName::FailedLogins => "failed_logins",
        }
    }

    /// The rule called `name`.
    pub fn parse(name: &str) -> Option<RuleName> {
        RuleName::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for RuleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's parameters and its cooldown.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule<T> {
    /// Thresholds.
    pub params: T,
    /// A still-firing alert is not sent again within this many milliseconds.
    pub cooldown_ms: i64,
}

/// `delivery_failures`
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryFailures {
    /// Failed deliveries in a row.
    pub consecutive: u32,
}

/// `error_rate`
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRate {
    /// Failed share that fires (0..1].
    pub threshold: f64,
    /// Window.
    pub window_ms: i64,
    /// Fewer deliveries than this in the window never fire.
    pub min_operations: u64,
}

/// `sold_still_listed`
#[derive(Debug, Clone, PartialEq)]
pub struct SoldStillListed {
    /// Grace after the sale, on top of the platform's own de-advertising delay.
    pub after_ms: i64,
}

/// `source_stale`
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStale {
    /// Fixed limit; `None`: three of the source's intervals, at least 30 minutes.
    pub after_ms: Option<i64>,
}

/// `failed_logins`
#[derive(Debug, Clone, PartialEq)]
pub struct FailedLogins {
    /// Failed logins in the window that fire.
    pub threshold: u64,
    /// Window.
    pub window_ms: i64,
}

/// Every rule; `None` is switched off.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// `delivery_failures`
    pub delivery_failures: Option<Rule<DeliveryFailures>>,
    /// `error_rate`
    pub error_rate: Option<Rule<ErrorRate>>,
    /// `sold_still_listed`
    pub sold_still_listed: Option<Rule<SoldStillListed>>,
    /// `platform_paused`
    pub platform_paused: Option<Rule<()>>,
    /// `dead_letters`
    pub dead_letters: Option<Rule<()>>,
    /// `source_stale`
    pub source_stale: Option<Rule<SourceStale>>,
    /// `failed_logins`
    pub failed_logins: Option<Rule<FailedLogins>>,
}

/// One condition that holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The rule.
    pub rule: RuleName,
    /// Platform id, source id or `admin-api`.
    pub subject: String,
    /// One line.
    pub headline: String,
    /// What the operator needs: the affected items and where to look.
    pub details: Vec<String>,
}

impl Condition {
    /// `rule:subject`, the alert's identity for grouping and cooldown.
    pub fn key(&self) -> String {
        alert_key(self.rule, &self.subject)
    }
}

/// `rule:subject`
pub fn alert_key(rule: RuleName, subject: &str) -> String {
    format!("{}:{subject}", rule.as_str())
}

/// The subject of the failed-logins rule.
pub const ADMIN_API: &str = "admin-api";

/// Items listed in one alert before "and N more".
const MAX_ITEMS: usize = 20;

/// The default staleness limit of a source pulled every `interval_ms`.
pub fn default_stale_after(interval_ms: i64) -> i64 {
    (interval_ms * 3).max(30 * 60_000)
}

impl Rules {
    /// The cooldown of `rule` (an hour if the rule is off: it cannot fire then anyway).
    pub fn cooldown_ms(&self, rule: RuleName) -> i64 {
        let c = match rule {
            RuleName::DeliveryFailures => self.delivery_failures.as_ref().map(|r| r.cooldown_ms),
            RuleName::ErrorRate => self.error_rate.as_ref().map(|r| r.cooldown_ms),
            RuleName::SoldStillListed => self.sold_still_listed.as_ref().map(|r| r.cooldown_ms),
            RuleName::PlatformPaused => self.platform_paused.as_ref().map(|r| r.cooldown_ms),
            RuleName::DeadLetters => self.dead_letters.as_ref().map(|r| r.cooldown_ms),
            RuleName::SourceStale => self.source_stale.as_ref().map(|r| r.cooldown_ms),
            RuleName::FailedLogins => self.failed_logins.as_ref().map(|r| r.cooldown_ms),
        };
        c.unwrap_or(3_600_000)
    }

    /// Every condition that holds in `signals`.
    pub fn evaluate(&self, signals: &Signals) -> Vec<Condition> {
        let mut out = Vec::new();
        for p in &signals.platforms {
            if let Some(rule) = &self.platform_paused {
                out.extend(platform_paused(&rule.params, p));
            }
            if let Some(rule) = &self.delivery_failures {
                out.extend(delivery_failures(&rule.params, p));
            }
            if let Some(rule) = &self.error_rate {
                out.extend(error_rate(&rule.params, p));
            }
            if let Some(rule) = &self.sold_still_listed {
                out.extend(sold_still_listed(&rule.params, p, signals.now));
            }
            if let Some(rule) = &self.dead_letters {
                out.extend(dead_letters(&rule.params, p));
            }
        }
        if let Some(rule) = &self.source_stale {
            for s in &signals.sources {
                out.extend(source_stale(&rule.params, s, signals));
            }
        }
        if let (Some(rule), Some(count)) = (&self.failed_logins, signals.failed_logins) {
            out.extend(failed_logins(&rule.params, count));
        }
        out
    }
}

fn platform_paused(_: &(), p: &PlatformSignals) -> Option<Condition> {
    p.paused.then(|| Condition {
        rule: RuleName::PlatformPaused,
        subject: p.platform.clone(),
        headline: format!("{} is paused: it refused our credentials", p.platform),
        details: vec![
            format!(
                "Nothing is delivered to {} until the credentials are fixed and the platform is resumed.",
                p.platform
            ),
            "`forecourt status` shows the platform's reason.".into(),
        ],
    })
}

fn delivery_failures(rule: &DeliveryFailures, p: &PlatformSignals) -> Option<Condition> {
    (p.consecutive_failures >= rule.consecutive).then(|| Condition {
        rule: RuleName::DeliveryFailures,
        subject: p.platform.clone(),
        headline: format!(
            "{}: {}{} deliveries in a row failed",
            p.platform,
            if p.consecutive_capped {
                "at least "
            } else {
                ""
            },
            p.consecutive_failures
        ),
        details: vec![
            format!(
                "Last error class: {}. Failed operations are retried with backoff.",
                p.last_failure_class.as_deref().unwrap_or("unknown")
            ),
            format!(
                "`forecourt status` and `forecourt dead-letters list --platform {}` show more.",
                p.platform
            ),
        ],
    })
}

fn error_rate(rule: &ErrorRate, p: &PlatformSignals) -> Option<Condition> {
    let total = p.window_succeeded + p.window_failed;
    if total == 0 || total < rule.min_operations {
        return None;
    }
    let share = p.window_failed as f64 / total as f64;
    (share >= rule.threshold).then(|| Condition {
        rule: RuleName::ErrorRate,
        subject: p.platform.clone(),
        headline: format!(
            "{}: {:.0}% of deliveries failed in the last {} ({} of {})",
            p.platform,
            share * 100.0,
            duration(rule.window_ms),
            p.window_failed,
            total
        ),
        details: vec![format!(
            "The alert threshold is {:.0}% over {}.",
            rule.threshold * 100.0,
            duration(rule.window_ms)
        )],
    })
}

fn sold_still_listed(rule: &SoldStillListed, p: &PlatformSignals, now: i64) -> Option<Condition> {
    let limit = rule.after_ms + p.deadvertise_delay_ms;
    let overdue: Vec<_> = p
        .still_listed
        .iter()
        .filter(|l| now - l.since >= limit)
        .collect();
    if overdue.is_empty() {
        return None;
    }
    let mut details: Vec<String> = overdue
        .iter()
        .take(MAX_ITEMS)
        .map(|l| {
            format!(
                "{}{}: {} {} ago",
                l.stock_id,
                l.registration
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default(),
                l.reason,
                duration(now - l.since)
            )
        })
        .collect();
    if overdue.len() > MAX_ITEMS {
        details.push(format!("... and {} more", overdue.len() - MAX_ITEMS));
    }
    details.push(format!(
        "Buyers may still enquire about these on {}; `forecourt status` lists every discrepancy.",
        p.platform
    ));
    Some(Condition {
        rule: RuleName::SoldStillListed,
        subject: p.platform.clone(),
        headline: format!(
            "{}: {} sold or withdrawn vehicle{} still listed after {}",
            p.platform,
            overdue.len(),
            if overdue.len() == 1 { "" } else { "s" },
            duration(limit)
        ),
        details,
    })
}

fn dead_letters(_: &(), p: &PlatformSignals) -> Option<Condition> {
    if p.dead_letter_count == 0 {
        return None;
    }
    let mut details: Vec<String> = p
        .dead_letters
        .iter()
        .take(MAX_ITEMS)
        .map(|d| {
            format!(
                "job {}: {} {} ({})",
                d.job_id, d.operation, d.stock_id, d.error_class
            )
        })
        .collect();
    if p.dead_letter_count as usize > details.len() {
        details.push(format!(
            "... and {} more",
            p.dead_letter_count as usize - details.len()
        ));
    }
    details.push(format!(
        "Retry or discard them: `forecourt dead-letters list --platform {}`.",
        p.platform
    ));
    Some(Condition {
        rule: RuleName::DeadLetters,
        subject: p.platform.clone(),
        headline: format!(
            "{}: {} operation{} in the dead-letter queue",
            p.platform,
            p.dead_letter_count,
            if p.dead_letter_count == 1 { "" } else { "s" }
        ),
        details,
    })
}

fn source_stale(rule: &SourceStale, s: &SourceSignals, signals: &Signals) -> Option<Condition> {
    let limit = rule
        .after_ms
        .unwrap_or_else(|| default_stale_after(s.interval_ms));
    // A source never pulled counts from when this process started watching,
    // so a fresh start does not alert before the first pull had its chance.
    let reference = s.last_success.unwrap_or(signals.watching_since);
    let age = signals.now - reference;
    (age >= limit).then(|| Condition {
        rule: RuleName::SourceStale,
        subject: s.source.clone(),
        headline: match s.last_success {
            Some(_) => format!("source {} not refreshed for {}", s.source, duration(age)),
            None => format!(
                "source {} has not completed a pull in {}",
                s.source,
                duration(age)
            ),
        },
        details: vec![
            format!(
                "It is pulled every {}; the alert limit is {}.",
                duration(s.interval_ms),
                duration(limit)
            ),
            "Listings keep the last known stock until the source is read again; check the log for pull errors.".into(),
        ],
    })
}

fn failed_logins(rule: &FailedLogins, count: u64) -> Option<Condition> {
    (count >= rule.threshold).then(|| Condition {
        rule: RuleName::FailedLogins,
        subject: ADMIN_API.into(),
        headline: format!(
            "admin API: {count} failed login{} in the last {}",
            if count == 1 { "" } else { "s" },
            duration(rule.window_ms)
        ),
        details: vec![
            format!(
                "The alert threshold is {} in {}.",
                rule.threshold,
                duration(rule.window_ms)
            ),
            "Review the admin API's access log; rotate tokens if one may have leaked.".into(),
        ],
    })
}

/// `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 if (s % 3_600) / 60 == 0 => format!("{} h", s / 3_600),
        3_600..86_400 => format!("{} h {} min", s / 3_600, (s % 3_600) / 60),
        _ if (s % 86_400) / 3_600 == 0 => format!("{} d", s / 86_400),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::signals::{DeadLetter, SoldListing};

    const MIN: i64 = 60_000;
    const NOW: i64 = 1_750_000_000_000;

    pub(crate) fn rules() -> Rules {
        let rule = |params| Rule {
            params,
            cooldown_ms: 60 * MIN,
        };
        Rules {
            delivery_failures: Some(rule(DeliveryFailures { consecutive: 5 })),
            error_rate: Some(Rule {
                params: ErrorRate {
                    threshold: 0.25,
                    window_ms: 15 * MIN,
                    min_operations: 20,
                },
                cooldown_ms: 60 * MIN,
            }),
            sold_still_listed: Some(Rule {
                params: SoldStillListed { after_ms: 30 * MIN },
                cooldown_ms: 60 * MIN,
            }),
            platform_paused: Some(Rule {
                params: (),
                cooldown_ms: 60 * MIN,
            }),
            dead_letters: Some(Rule {
                params: (),
                cooldown_ms: 60 * MIN,
            }),
            source_stale: Some(Rule {
                params: SourceStale { after_ms: None },
                cooldown_ms: 60 * MIN,
            }),
            failed_logins: Some(Rule {
                params: FailedLogins {
                    threshold: 10,
                    window_ms: 15 * MIN,
                },
                cooldown_ms: 60 * MIN,
            }),
        }
    }

    pub(crate) fn healthy(platform: &str) -> PlatformSignals {
        PlatformSignals {
            platform: platform.into(),
            consecutive_failures: 0,
            consecutive_capped: false,
            last_failure_class: None,
            window_succeeded: 100,
            window_failed: 0,
            paused: false,
            dead_letters: vec![],
            dead_letter_count: 0,
            still_listed: vec![],
            deadvertise_delay_ms: 0,
        }
    }

    pub(crate) fn signals(platforms: Vec<PlatformSignals>) -> Signals {
        Signals {
            now: NOW,
            watching_since: NOW - 600 * MIN,
            platforms,
            sources: vec![SourceSignals {
                source: "dms".into(),
                last_success: Some(NOW - 5 * MIN),
                interval_ms: 15 * MIN,
            }],
            failed_logins: Some(0),
        }
    }

    fn keys(conditions: &[Condition]) -> Vec<String> {
        conditions.iter().map(Condition::key).collect()
    }

    #[test]
    fn a_healthy_hub_raises_nothing() {
        assert!(rules()
            .evaluate(&signals(vec![healthy("autotrader"), healthy("google")]))
            .is_empty());
    }

    #[test]
    fn consecutive_failures_fire_at_the_threshold() {
        let mut p = healthy("autotrader");
        p.consecutive_failures = 4;
        p.last_failure_class = Some("transient".into());
        assert!(rules().evaluate(&signals(vec![p.clone()])).is_empty());
        p.consecutive_failures = 5;
        let c = rules().evaluate(&signals(vec![p]));
        assert_eq!(keys(&c), ["delivery_failures:autotrader"]);
        assert_eq!(c[0].headline, "autotrader: 5 deliveries in a row failed");
        assert!(c[0].details[0].contains("transient"));
    }

    #[test]
    fn error_rate_needs_enough_operations_and_the_threshold() {
        let mut p = healthy("autotrader");
        (p.window_succeeded, p.window_failed) = (10, 9); // 47%, but only 19 operations
        assert!(rules().evaluate(&signals(vec![p.clone()])).is_empty());
        (p.window_succeeded, p.window_failed) = (31, 10); // 24%
        assert!(rules().evaluate(&signals(vec![p.clone()])).is_empty());
        (p.window_succeeded, p.window_failed) = (30, 10); // 25%
        let c = rules().evaluate(&signals(vec![p]));
        assert_eq!(keys(&c), ["error_rate:autotrader"]);
        assert_eq!(
            c[0].headline,
            "autotrader: 25% of deliveries failed in the last 15 min (10 of 40)"
        );
    }

    #[test]
    fn sold_vehicles_are_grouped_per_platform_after_the_grace_and_the_platforms_delay() {
        let listing = |id: &str, reg: Option<&str>, minutes: i64| SoldListing {
            stock_id: id.into(),
            registration: reg.map(Into::into),
            platform: "autotrader".into(),
            reason: "sold".into(),
            since: NOW - minutes * MIN,
        };
        let mut a = healthy("autotrader");
        a.still_listed = vec![
            listing("S1", Some("AB12CDE"), 45),
            listing("S2", None, 31),
            listing("S3", Some("XY70ZZZ"), 10),
        ];
        let mut w = healthy("website");
        w.deadvertise_delay_ms = 24 * 60 * MIN; // the dealer's site keeps sold cars a day
        w.still_listed = vec![listing("S1", Some("AB12CDE"), 45)];
        let c = rules().evaluate(&signals(vec![a, w]));
        assert_eq!(keys(&c), ["sold_still_listed:autotrader"]);
        assert_eq!(
            c[0].headline,
            "autotrader: 2 sold or withdrawn vehicles still listed after 30 min"
        );
        assert_eq!(c[0].details[0], "S1 (AB12CDE): sold 45 min ago");
        assert_eq!(c[0].details[1], "S2: sold 31 min ago");
        assert!(!c[0].details.iter().any(|d| d.contains("S3")));
    }

    #[test]
    fn long_lists_are_cut_with_a_count() {
        let mut p = healthy("autotrader");
        p.dead_letter_count = 25;
        p.dead_letters = (0..25)
            .map(|i| DeadLetter {
                job_id: i,
                stock_id: format!("S{i}"),
                operation: "create".into(),
                error_class: "validation".into(),
            })
            .collect();
        let c = rules().evaluate(&signals(vec![p]));
        assert_eq!(keys(&c), ["dead_letters:autotrader"]);
        assert_eq!(
            c[0].headline,
            "autotrader: 25 operations in the dead-letter queue"
        );
        assert_eq!(c[0].details[0], "job 0: create S0 (validation)");
        assert_eq!(c[0].details[20], "... and 5 more");
    }

    #[test]
    fn a_paused_platform_fires_and_disabled_rules_do_not() {
        let mut p = healthy("autotrader");
        p.paused = true;
        let c = rules().evaluate(&signals(vec![p.clone()]));
        assert_eq!(keys(&c), ["platform_paused:autotrader"]);
        let mut off = rules();
        off.platform_paused = None;
        assert!(off.evaluate(&signals(vec![p])).is_empty());
    }

    #[test]
    fn stale_sources_use_three_intervals_or_the_configured_limit() {
        let mut s = signals(vec![]);
        s.sources[0].last_success = Some(NOW - 44 * MIN);
        assert!(rules().evaluate(&s).is_empty(), "3 x 15 min = 45 min");
        s.sources[0].last_success = Some(NOW - 46 * MIN);
        let c = rules().evaluate(&s);
        assert_eq!(keys(&c), ["source_stale:dms"]);
        assert_eq!(c[0].headline, "source dms not refreshed for 46 min");
        let mut r = rules();
        r.source_stale.as_mut().unwrap().params.after_ms = Some(60 * MIN);
        assert!(r.evaluate(&s).is_empty());
        // Never pulled: counted from when watching started.
        s.sources[0].last_success = None;
        s.watching_since = NOW - 10 * MIN;
        assert!(rules().evaluate(&s).is_empty());
        s.watching_since = NOW - 50 * MIN;
        assert_eq!(
            rules().evaluate(&s)[0].headline,
            "source dms has not completed a pull in 50 min"
        );
    }

    #[test]
    fn failed_logins_fire_only_with_an_access_log() {
        let mut s = signals(vec![]);
        s.failed_logins = Some(12);
        let c = rules().evaluate(&s);
        assert_eq!(keys(&c), ["failed_logins:admin-api"]);
        assert_eq!(
            c[0].headline,
            "admin API: 12 failed logins in the last 15 min"
        );
        s.failed_logins = None;
        assert!(rules().evaluate(&s).is_empty());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(59_000), "59 s");
        assert_eq!(duration(30 * MIN), "30 min");
        assert_eq!(duration(60 * MIN), "1 h");
        assert_eq!(duration(185 * MIN), "3 h 5 min");
        assert_eq!(duration(52 * 60 * MIN), "2 d 4 h");
        assert_eq!(duration(48 * 60 * MIN), "2 d");
    }
}
