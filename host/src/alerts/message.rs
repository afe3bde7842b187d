//! The text of an alert message: a subject, a plain-text body that lists
//! every alert the message carries, and a short form for SMS.

use super::rules::duration;
use super::state::{Entry, EntryKind};

/// A message as channels send it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// E-mail subject; first line of a webhook text.
    pub subject: String,
    /// Plain text.
    pub body: String,
    /// One line for SMS (cut to 160 characters by the channel).
    pub short: String,
}

/// `2025-06-01 10:02 UTC`
pub fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| format!("{ms} ms"))
}

fn label(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Firing => "FIRING",
        EntryKind::Reminder => "STILL FIRING",
        EntryKind::Resolved => "RESOLVED",
    }
}

/// Cut `text` to at most `max` characters, marking the cut with `...`.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// This machine's name, so a message says which hub sent it.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this host".into())
}

/// One message listing `entries` (new and still-firing alerts first, then recoveries).
pub fn render(entries: &[Entry], host: &str, now: i64) -> Message {
    let firing = entries
        .iter()
        .filter(|e| e.kind != EntryKind::Resolved)
        .count();
    let resolved = entries.len() - firing;
    let first = entries
        .first()
        .map(|e| e.record.headline.as_str())
        .unwrap_or("");
    let subject = match entries {
        [only] => format!("[forecourt] {}: {}", label(only.kind), only.record.headline),
        _ => {
            let mut counts = Vec::new();
            if firing > 0 {
                counts.push(format!("{firing} firing"));
            }
            if resolved > 0 {
                counts.push(format!("{resolved} resolved"));
            }
            format!(
                "[forecourt] {}: {first} (+{} more)",
                counts.join(", "),
                entries.len() - 1
            )
        }
    };
    let mut body = format!("forecourt alerts from {host}, {}\n", time(now));
    for e in entries {
        let r = &e.record;
        body.push('\n');
        body.push_str(&format!("{}: {}\n", label(e.kind), r.headline));
        match (e.kind, r.resolved_at) {
            (EntryKind::Resolved, Some(at)) => body.push_str(&format!(
                "  was firing from {} to {} ({})\n",
                time(r.firing_since),
                time(at),
                duration(at - r.firing_since)
            )),
            (EntryKind::Reminder, _) => body.push_str(&format!(
                "  firing since {} ({})\n",
                time(r.firing_since),
                duration(now - r.firing_since)
            )),
            _ => body.push_str(&format!("  since {}\n", time(r.firing_since))),
        }
        if e.kind != EntryKind::Resolved {
            for line in &r.details {
                body.push_str(&format!("  {line}\n"));
            }
        }
    }
    body.push_str(
        "\n--\n`forecourt alerts status` lists what is firing; `forecourt status` shows every platform.\n",
    );
    let short = format!(
        "forecourt: {}",
        entries
            .iter()
            .map(|e| format!("{} {}", label(e.kind), e.record.headline))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Message {
        subject,
        body,
        short,
    }
}

/// The message `forecourt alerts test` sends.
pub fn test_message(channel: &str, kind: &str, host: &str, now: i64) -> Message {
    Message {
        subject: format!("[forecourt] Test alert through channel {channel}"),
        body: format!(
            "forecourt alerts from {host}, {}\n\nThis is a test. Alerts sent through the {kind} channel `{channel}` reach you.\nNo action is needed.\n",
            time(now)
        ),
        short: format!("forecourt: test alert through {channel}. No action needed."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::state::AlertRecord;

    const T0: i64 = 1_750_000_000_000; // 2025-06-15 15:06:40 UTC

    fn entry(kind: EntryKind, headline: &str, resolved_at: Option<i64>) -> Entry {
        Entry {
            kind,
            record: AlertRecord {
                key: format!("k:{headline}"),
                rule: "platform_paused".into(),
                subject: "autotrader".into(),
                headline: headline.into(),
                details: vec!["detail line".into()],
                firing_since: T0,
                resolved_at,
                updated_at: T0,
            },
        }
    }

    #[test]
    fn one_alert_names_itself_in_the_subject() {
        let m = render(
            &[entry(EntryKind::Firing, "autotrader is paused", None)],
            "hub-1",
            T0 + 60_000,
        );
        assert_eq!(m.subject, "[forecourt] FIRING: autotrader is paused");
        assert!(m
            .body
            .starts_with("forecourt alerts from hub-1, 2025-06-15 15:07 UTC\n"));
        assert!(m.body.contains(
            "FIRING: autotrader is paused\n  since 2025-06-15 15:06 UTC\n  detail line\n"
        ));
        assert_eq!(m.short, "forecourt: FIRING autotrader is paused");
    }

    #[test]
    fn several_alerts_are_counted_and_recoveries_say_how_long() {
        let m = render(
            &[
                entry(EntryKind::Firing, "a", None),
                entry(EntryKind::Reminder, "b", None),
                entry(EntryKind::Resolved, "c", Some(T0 + 65 * 60_000)),
            ],
            "hub-1",
            T0 + 70 * 60_000,
        );
        assert_eq!(m.subject, "[forecourt] 2 firing, 1 resolved: a (+2 more)");
        assert!(m
            .body
            .contains("STILL FIRING: b\n  firing since 2025-06-15 15:06 UTC (1 h 10 min)\n"));
        assert!(m.body.contains(
            "RESOLVED: c\n  was firing from 2025-06-15 15:06 UTC to 2025-06-15 16:11 UTC (1 h 5 min)\n"
        ));
        assert_eq!(m.short, "forecourt: FIRING a; STILL FIRING b; RESOLVED c");
    }

    #[test]
    fn cut_counts_characters_not_bytes() {
        assert_eq!(cut("short", 160), "short");
        let long = "£".repeat(200);
        let c = cut(&long, 160);
        assert_eq!(c.chars().count(), 160);
        assert!(c.ends_with("..."));
    }
}
