//! Alert state and the decision of what to send: new alerts, reminders after
//! the cooldown, and recovery messages, per channel.
//!
//! State lives in SQLite (`alerts_firing`, `alerts_notified`) so a restart
//! neither floods the channels again nor forgets that a recovery is owed.
//! Each channel's notices are written only after that channel accepted the
//! message, so a channel that is down is caught up on the next evaluation.

use super::rules::{Condition, RuleName};
use super::signals::SoldListing;
use crate::store::StoreResult;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An alert that is firing, or has cleared with a recovery still owed to some channel.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertRecord {
    /// `rule:subject`
    pub key: String,
    /// Rule name.
    pub rule: String,
    /// Platform, source or `admin-api`.
    pub subject: String,
    /// Last evaluated headline.
    pub headline: String,
    /// Last evaluated details.
    pub details: Vec<String>,
    /// Since when the condition holds.
    pub firing_since: i64,
    /// When it cleared.
    pub resolved_at: Option<i64>,
    /// Last evaluation that saw it.
    pub updated_at: i64,
}

/// What a channel was last told about an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Told {
    /// That it fires.
    Firing,
    /// That it cleared.
    Resolved,
}

impl Told {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Told::Firing => "firing",
            Told::Resolved => "resolved",
        }
    }
}

/// One row of `alerts_notified`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Notice {
    /// Alert key.
    pub key: String,
    /// Channel name.
    pub channel: String,
    /// What it was told.
    pub told: Told,
    /// When.
    pub sent_at: i64,
}

/// Alert state and the queries the signals need, beside the engine's [`crate::store::Store`].
pub trait AlertStore: Send + Sync {
    /// Every stored alert.
    fn alert_records(&self) -> StoreResult<Vec<AlertRecord>>;
    /// Insert or replace alerts, in one transaction.
    fn save_alert_records(&self, records: &[AlertRecord]) -> StoreResult<()>;
    /// Every notice.
    fn alert_notices(&self) -> StoreResult<Vec<Notice>>;
    /// Insert or replace notices, in one transaction.
    fn record_notices(&self, notices: &[Notice]) -> StoreResult<()>;
    /// Forget notices of channels no longer configured, and cleared alerts
    /// that no configured channel still needs to hear about.
    fn prune_alerts(&self, channels: &[String]) -> StoreResult<()>;
    /// Error classes of the newest delivery outcomes of `platform`, newest
    /// first, at most `limit`; `None` is an acknowledgement.
    fn recent_results(&self, platform: &str, limit: usize) -> StoreResult<Vec<Option<String>>>;
    /// Delivery outcomes of `platform` at or after `since`, counted per error class.
    fn results_since(&self, platform: &str, since: i64) -> StoreResult<Vec<(Option<String>, u64)>>;
    /// Sold, withdrawn or removed vehicles still live or reserved on a platform,
    /// with when they stopped being advertisable.
    fn sold_still_listed(&self) -> StoreResult<Vec<SoldListing>>;
}

/// How an alert appears in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    /// Newly firing (for this channel).
    Firing,
    /// Still firing after the cooldown.
    Reminder,
    /// Cleared.
    Resolved,
}

/// One alert in one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// How it appears.
    pub kind: EntryKind,
    /// The alert.
    pub record: AlertRecord,
}

/// One message for one channel, and the notices to store once it is accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Channel name.
    pub channel: String,
    /// What the message lists.
    pub entries: Vec<Entry>,
    /// Notices to record after delivery.
    pub notices: Vec<Notice>,
}

/// What one evaluation decided.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Round {
    /// Alerts to store (current conditions and newly cleared ones).
    pub records: Vec<AlertRecord>,
    /// One message per channel that has something to say.
    pub outgoing: Vec<Outgoing>,
}

/// A channel's name and the rules it accepts (`None`: all).
#[derive(Debug, Clone)]
pub struct ChannelFilter {
    /// Channel name.
    pub name: String,
    /// Accepted rules.
    pub rules: Option<BTreeSet<RuleName>>,
}

impl ChannelFilter {
    fn accepts(&self, rule: &str) -> bool {
        match (&self.rules, RuleName::parse(rule)) {
            (None, _) => true,
            (Some(set), Some(r)) => set.contains(&r),
            (Some(_), None) => false,
        }
    }
}

/// Decide what to store and send, from the conditions that hold now, the
/// stored alerts and notices, the channels and each rule's cooldown.
pub fn plan_round(
    current: &[Condition],
    stored: &[AlertRecord],
    notices: &[Notice],
    channels: &[ChannelFilter],
    cooldown_ms: impl Fn(&str) -> i64,
    now: i64,
) -> Round {
    let stored: HashMap<&str, &AlertRecord> = stored.iter().map(|r| (r.key.as_str(), r)).collect();
    let mut records: BTreeMap<String, AlertRecord> = BTreeMap::new();
    for c in current {
        let key = c.key();
        let firing_since = match stored.get(key.as_str()) {
            Some(r) if r.resolved_at.is_none() => r.firing_since,
            _ => now,
        };
        records.insert(
            key.clone(),
            AlertRecord {
                key,
                rule: c.rule.as_str().into(),
                subject: c.subject.clone(),
                headline: c.headline.clone(),
                details: c.details.clone(),
                firing_since,
                resolved_at: None,
                updated_at: now,
            },
        );
    }
    let mut changed: Vec<AlertRecord> = records.values().cloned().collect();
    for r in stored.values() {
        if records.contains_key(&r.key) {
            continue;
        }
        let mut r = (*r).clone();
        if r.resolved_at.is_none() {
            r.resolved_at = Some(now);
            r.updated_at = now;
            changed.push(r.clone());
        }
        records.insert(r.key.clone(), r);
    }
    let told: HashMap<(&str, &str), &Notice> = notices
        .iter()
        .map(|n| ((n.key.as_str(), n.channel.as_str()), n))
        .collect();
    let mut outgoing = Vec::new();
    for channel in channels {
        let mut entries = Vec::new();
        let mut to_record = Vec::new();
        for r in records.values() {
            if !channel.accepts(&r.rule) {
                continue;
            }
            let last = told.get(&(r.key.as_str(), channel.name.as_str()));
            let kind = match (r.resolved_at, last) {
                (None, None) => Some(EntryKind::Firing),
                (None, Some(n)) if n.told == Told::Resolved => Some(EntryKind::Firing),
                (None, Some(n)) if now - n.sent_at >= cooldown_ms(&r.rule) => {
                    Some(EntryKind::Reminder)
                }
                (Some(_), Some(n)) if n.told == Told::Firing => Some(EntryKind::Resolved),
                _ => None,
            };
            let Some(kind) = kind else { continue };
            to_record.push(Notice {
                key: r.key.clone(),
                channel: channel.name.clone(),
                told: if kind == EntryKind::Resolved {
                    Told::Resolved
                } else {
                    Told::Firing
                },
                sent_at: now,
            });
            entries.push(Entry {
                kind,
                record: r.clone(),
            });
        }
        if !entries.is_empty() {
            entries.sort_by(|a, b| (a.kind, &a.record.key).cmp(&(b.kind, &b.record.key)));
            outgoing.push(Outgoing {
                channel: channel.name.clone(),
                entries,
                notices: to_record,
            });
        }
    }
    Round {
        records: changed,
        outgoing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const T0: i64 = 1_750_000_000_000;

    fn condition(rule: RuleName, subject: &str, headline: &str) -> Condition {
        Condition {
            rule,
            subject: subject.into(),
            headline: headline.into(),
            details: vec![],
        }
    }

    fn channels() -> Vec<ChannelFilter> {
        vec![
            ChannelFilter {
                name: "mail".into(),
                rules: None,
            },
            ChannelFilter {
                name: "sms".into(),
                rules: Some([RuleName::PlatformPaused].into()),
            },
        ]
    }

    /// A store in memory that applies rounds as the service does.
    #[derive(Default)]
    struct Memory {
        records: Vec<AlertRecord>,
        notices: Vec<Notice>,
    }

    impl Memory {
        /// Evaluate at `now`; channels in `failing` reject their message.
        fn round(&mut self, current: &[Condition], now: i64, failing: &[&str]) -> Round {
            let round = plan_round(
                current,
                &self.records,
                &self.notices,
                &channels(),
                |_| 60 * MIN,
                now,
            );
            for r in &round.records {
                self.records.retain(|x| x.key != r.key);
                self.records.push(r.clone());
            }
            for o in &round.outgoing {
                if failing.contains(&o.channel.as_str()) {
                    continue;
                }
                for n in &o.notices {
                    self.notices
                        .retain(|x| !(x.key == n.key && x.channel == n.channel));
                    self.notices.push(n.clone());
                }
            }
            // prune: cleared alerts nobody is owed a recovery for
            let owed: BTreeSet<String> = self
                .notices
                .iter()
                .filter(|n| n.told == Told::Firing)
                .map(|n| n.key.clone())
                .collect();
            self.records
                .retain(|r| r.resolved_at.is_none() || owed.contains(&r.key));
            round
        }
    }

    fn sent(round: &Round, channel: &str) -> Vec<(EntryKind, String)> {
        round
            .outgoing
            .iter()
            .filter(|o| o.channel == channel)
            .flat_map(|o| o.entries.iter().map(|e| (e.kind, e.record.key.clone())))
            .collect()
    }

    #[test]
    fn fires_once_groups_per_channel_cools_down_reminds_and_recovers() {
        let mut m = Memory::default();
        let paused = condition(RuleName::PlatformPaused, "autotrader", "paused");
        let sold = condition(RuleName::SoldStillListed, "autotrader", "2 sold");

        // Both fire: one message per channel, the SMS channel only gets its rule.
        let r = m.round(&[paused.clone(), sold.clone()], T0, &[]);
        assert_eq!(
            sent(&r, "mail"),
            [
                (EntryKind::Firing, "platform_paused:autotrader".into()),
                (EntryKind::Firing, "sold_still_listed:autotrader".into())
            ]
        );
        assert_eq!(
            sent(&r, "sms"),
            [(EntryKind::Firing, "platform_paused:autotrader".into())]
        );

        // Still firing within the cooldown: nothing.
        let r = m.round(&[paused.clone(), sold.clone()], T0 + 30 * MIN, &[]);
        assert!(r.outgoing.is_empty(), "{r:?}");
        assert_eq!(m.records.len(), 2);
        assert!(m.records.iter().all(|r| r.firing_since == T0));

        // After the cooldown: a reminder.
        let r = m.round(&[paused.clone(), sold.clone()], T0 + 61 * MIN, &[]);
        assert_eq!(
            sent(&r, "mail"),
            [
                (EntryKind::Reminder, "platform_paused:autotrader".into()),
                (EntryKind::Reminder, "sold_still_listed:autotrader".into())
            ]
        );

        // One clears: a recovery message, then the record is gone.
        let r = m.round(std::slice::from_ref(&paused), T0 + 62 * MIN, &[]);
        assert_eq!(
            sent(&r, "mail"),
            [(EntryKind::Resolved, "sold_still_listed:autotrader".into())]
        );
        assert!(sent(&r, "sms").is_empty(), "sms never heard of it");
        assert_eq!(m.records.len(), 1);
        let r = m.round(std::slice::from_ref(&paused), T0 + 63 * MIN, &[]);
        assert!(r.outgoing.is_empty());

        // It fires again: new, with a new start time.
        let r = m.round(&[paused.clone(), sold.clone()], T0 + 64 * MIN, &[]);
        assert_eq!(
            sent(&r, "mail"),
            [(EntryKind::Firing, "sold_still_listed:autotrader".into())]
        );
        let again = m
            .records
            .iter()
            .find(|r| r.rule == "sold_still_listed")
            .unwrap();
        assert_eq!(again.firing_since, T0 + 64 * MIN);
    }

    #[test]
    fn a_channel_that_failed_is_caught_up_and_owed_recoveries_survive() {
        let mut m = Memory::default();
        let paused = condition(RuleName::PlatformPaused, "autotrader", "paused");
        // The SMS gateway is down on the first round.
        m.round(std::slice::from_ref(&paused), T0, &["sms"]);
        let r = m.round(std::slice::from_ref(&paused), T0 + MIN, &[]);
        assert!(sent(&r, "mail").is_empty(), "mail already told");
        assert_eq!(
            sent(&r, "sms"),
            [(EntryKind::Firing, "platform_paused:autotrader".into())]
        );
        // It clears while the mail server is down: mail is owed a recovery.
        let r = m.round(&[], T0 + 2 * MIN, &["mail"]);
        assert_eq!(sent(&r, "mail").len(), 1);
        assert_eq!(m.records.len(), 1, "kept until mail hears of it");
        assert_eq!(m.records[0].resolved_at, Some(T0 + 2 * MIN));
        let r = m.round(&[], T0 + 3 * MIN, &[]);
        assert_eq!(
            sent(&r, "mail"),
            [(EntryKind::Resolved, "platform_paused:autotrader".into())]
        );
        assert!(sent(&r, "sms").is_empty(), "sms already told");
        assert!(m.records.is_empty());
    }

    #[test]
    fn a_condition_that_clears_before_anyone_was_told_sends_nothing() {
        let m_channels: Vec<ChannelFilter> = vec![];
        let round = plan_round(
            &[condition(RuleName::DeadLetters, "google", "1 dead")],
            &[],
            &[],
            &m_channels,
            |_| MIN,
            T0,
        );
        assert!(round.outgoing.is_empty());
        let round2 = plan_round(&[], &round.records, &[], &m_channels, |_| MIN, T0 + MIN);
        assert_eq!(round2.records[0].resolved_at, Some(T0 + MIN));
        assert!(round2.outgoing.is_empty());
    }
}
