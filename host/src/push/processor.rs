//! Applying stored pushes: `parse-push`, then the same ingest as a pulled
//! page, then the inbox row is marked done. Processing is at least once: a
//! crash between the ingest commit and "done" applies the push again at the
//! next start, which changes nothing (an identical record stops at its
//! content hash; removing a removed vehicle is a no-op).

use super::inbox::{Inbox, PendingPush};
use crate::runtime::types::ErrorClass;
use crate::store::audit::AuditEntry;
use crate::store::now_ms;
use crate::sync::retry::class_name;
use crate::sync::{Engine, PullReport};
use std::time::Duration;
use tokio::sync::Notify;

/// Attempts before a push that keeps failing transiently is set aside.
const MAX_ATTEMPTS: u32 = 10;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Processed pushes are remembered (as replay keys) for a day; any
/// tolerance is at most a day, so a replay older than that is stale anyway.
const RETAIN_MS: i64 = 2 * 24 * 3600 * 1000;
/// Failed pushes are kept a month longer for an operator.
const RETAIN_FAILED_EXTRA_MS: i64 = 30 * 24 * 3600 * 1000;

/// What became of one push.
enum Outcome {
    Done,
    Retry(String),
    Failed(String, &'static str),
}

/// Process due pushes until the engine stops; wakes when a push arrives,
/// and at least every second (for retries and pushes left by a crash).
pub(super) async fn run(inbox: &Inbox, notify: &Notify, engine: &Engine) {
    let mut next_prune = tokio::time::Instant::now();
    while !engine.is_stopping() {
        if let Err(error) = process_due(inbox, engine).await {
            tracing::error!(error = %format!("{error:#}"), "Processing pushes failed; trying again.");
        }
        if tokio::time::Instant::now() >= next_prune {
            match inbox.prune(now_ms() - RETAIN_MS, RETAIN_FAILED_EXTRA_MS) {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "Old pushes forgotten."),
                Err(error) => tracing::warn!(error = %error, "Pruning the push inbox failed."),
            }
            next_prune += Duration::from_secs(3600);
        }
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Process every push that is due now (one per source per round, in
/// arrival order); returns how many were handled.
pub(super) async fn process_due(inbox: &Inbox, engine: &Engine) -> anyhow::Result<usize> {
    let mut handled = 0;
    loop {
        let due = inbox.next_due(now_ms())?;
        if due.is_empty() || engine.is_stopping() {
            return Ok(handled);
        }
        let mut progressed = false;
        for push in due {
            let outcome = apply(&push, engine).await;
            let now = now_ms();
            match outcome {
                Outcome::Done => {
                    inbox.done(push.id, now)?;
                    progressed = true;
                }
                Outcome::Retry(error) if push.attempts + 1 < MAX_ATTEMPTS => {
                    let backoff = Duration::from_secs(1 << push.attempts.min(9)).min(MAX_BACKOFF);
                    tracing::warn!(source = %push.source, inbox_id = push.id, attempt = push.attempts + 1, error = %error, "Push not applied; trying again.");
                    inbox.retry(push.id, &error, now + backoff.as_millis() as i64)?;
                }
                Outcome::Retry(error) => {
                    fail(inbox, engine, &push, &error, "transient", now)?;
                    progressed = true;
                }
                Outcome::Failed(error, class) => {
                    fail(inbox, engine, &push, &error, class, now)?;
                    progressed = true;
                }
            }
            handled += 1;
        }
        if !progressed {
            // Everything due is now waiting for a retry.
            return Ok(handled);
        }
    }
}

fn fail(
    inbox: &Inbox,
    engine: &Engine,
    push: &PendingPush,
    error: &str,
    class: &str,
    now: i64,
) -> anyhow::Result<()> {
    inbox.fail(push.id, error, now)?;
    tracing::error!(source = %push.source, inbox_id = push.id, event_id = push.event_id.as_deref().unwrap_or("-"), class, error = %crate::pii::redact(error).0, "Push cannot be applied; kept in the inbox as failed.");
    engine.store().audit(
        &AuditEntry::new("push", &format!("source:{}", push.source))
            .step("failed")
            .error_class(class)
            .detail(serde_json::json!({"inbox_id": push.id, "event_id": push.event_id})),
        now,
    )?;
    Ok(())
}

async fn apply(push: &PendingPush, engine: &Engine) -> Outcome {
    let Some(source) = engine.sources().iter().find(|s| s.id == push.source) else {
        return Outcome::Failed(
            format!("source `{}` is no longer configured", push.source),
            "permanent",
        );
    };
    let page = match source
        .plugin
        .parse_push(&source.config, &push.headers, &push.body)
        .await
    {
        Ok(Ok(page)) => page,
        Ok(Err(error)) => {
            let message = match &error.field {
                Some(field) => format!("{field}: {}", error.message),
                None => error.message.clone(),
            };
            return match error.class {
                ErrorClass::Transient | ErrorClass::RateLimited => Outcome::Retry(message),
                _ => Outcome::Failed(message, class_name(&error.class)),
            };
        }
        // A trap or a timeout: maybe a hang that passes, maybe a bug that
        // ends as a failed push once the attempts run out.
        Err(call_error) => return Outcome::Retry(call_error.to_string()),
    };
    // A push never moves the pull cursor, never continues or closes a snapshot.
    let cursor = match engine.store().cursor(&source.id) {
        Ok(c) => c,
        Err(error) => return Outcome::Retry(error.to_string()),
    };
    let page = crate::runtime::source_api::PullPage {
        next_cursor: cursor,
        has_more: false,
        full_snapshot: false,
        ..page
    };
    let mut report = PullReport {
        source: source.id.clone(),
        ..Default::default()
    };
    match engine.ingest_page(source, page, &mut report) {
        Ok(_) => {
            tracing::info!(source = %source.id, inbox_id = push.id, created = report.created, updated = report.updated, removed = report.removed, row_issues = report.row_issues.len(), "Push applied.");
            Outcome::Done
        }
        Err(error) => Outcome::Retry(format!("{error:#}")),
    }
}
