//! The push inbox: every verified push is stored here, in one transaction
//! synced to disk (`synchronous = FULL`), before the DMS is told 202. A
//! processor then parses and ingests it and marks it done; a push stored
//! before a crash is processed at the next start. The table doubles as the
//! replay memory: an event id or signature seen before is refused, and rows
//! are kept (without their bodies once processed) for longer than any
//! timestamp tolerance.
//!
//! The table is created by the store's migrations (`store/push_inbox.sql`);
//! the inbox uses its own connection to the same database file so its
//! durability setting does not slow every other write.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What can go wrong storing or reading a push.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// This event id or signature was accepted before.
    #[error("replay: this {what} was already received")]
    Replay {
        /// `event id` or `signature`.
        what: &'static str,
    },
    /// The database failed.
    #[error("push inbox: {0}")]
    Db(#[from] rusqlite::Error),
}

/// A push as it arrived and was verified.
#[derive(Debug, Clone)]
pub struct NewPush<'a> {
    /// Source id (from the path).
    pub source: &'a str,
    /// The `X-Forecourt-Event-Id`, if sent.
    pub event_id: Option<&'a str>,
    /// Hex of the signature that verified (the replay key).
    pub signature: &'a str,
    /// The sender's timestamp, Unix seconds.
    pub signed_at: i64,
    /// Headers handed to `parse-push`.
    pub headers: &'a [(String, String)],
    /// The raw body.
    pub body: &'a [u8],
}

/// A stored push waiting to be processed.
#[derive(Debug, Clone)]
pub struct PendingPush {
    /// Inbox row id.
    pub id: i64,
    /// Source id.
    pub source: String,
    /// Event id, if the DMS sent one.
    pub event_id: Option<String>,
    /// Headers for `parse-push`.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// One inbox row's state (for status output and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    /// Row id.
    pub id: i64,
    /// Source id.
    pub source: String,
    /// Event id.
    pub event_id: Option<String>,
    /// `pending`, `done` or `failed`.
    pub state: String,
    /// Failed attempts.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Whether the body is still kept.
    pub has_body: bool,
}

/// The inbox over one SQLite connection.
pub struct Inbox {
    conn: Mutex<Connection>,
}

impl Inbox {
    /// Open the inbox in the store's database (migrated by the store).
    pub fn open(database: &Path) -> Result<Inbox, InboxError> {
        let conn = Connection::open(database)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // A 202 promises the DMS the push will not be lost: sync every commit.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(Inbox {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Store a verified push, or refuse it as a replay; returns the row id.
    /// When this returns `Ok`, the push is on disk.
    pub fn accept(&self, push: &NewPush<'_>, now_ms: i64) -> Result<i64, InboxError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seen: Option<bool> = tx
            .query_row(
                "SELECT signature = ?2 FROM push_inbox
                 WHERE source = ?1 AND (signature = ?2 OR (?3 IS NOT NULL AND event_id = ?3))
                 LIMIT 1",
                params![push.source, push.signature, push.event_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(same_signature) = seen {
            return Err(InboxError::Replay {
                what: if same_signature {
                    "signature"
                } else {
                    "event id"
                },
            });
        }
        let headers = serde_json::to_string(push.headers).expect("headers serialise");
        tx.execute(
            "INSERT INTO push_inbox (source, event_id, signature, signed_at, received_at, headers, body, state, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?5)",
            params![
                push.source,
                push.event_id,
                push.signature,
                push.signed_at,
                now_ms,
                headers,
                push.body
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// For each source, its oldest pending push, if it is due: pushes of one
    /// source are applied in the order they arrived, and one that waits for
    /// a retry holds back the later ones.
    pub fn next_due(&self, now_ms: i64) -> Result<Vec<PendingPush>, InboxError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT p.id, p.source, p.event_id, p.headers, p.body, p.attempts, p.next_attempt_at
             FROM push_inbox p
             JOIN (SELECT source, MIN(id) AS id FROM push_inbox WHERE state = 'pending' GROUP BY source) o
               ON o.id = p.id
             ORDER BY p.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let headers: String = r.get(3)?;
            Ok((
                PendingPush {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    event_id: r.get(2)?,
                    headers: serde_json::from_str(&headers).unwrap_or_default(),
                    body: r.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default(),
                    attempts: r.get(5)?,
                },
                r.get::<_, i64>(6)?,
            ))
        })?;
        let mut due = Vec::new();
        for row in rows {
            let (push, at) = row?;
            if at <= now_ms {
                due.push(push);
            }
        }
        Ok(due)
    }

    /// The push was ingested: keep only its replay keys.
    pub fn done(&self, id: i64, now_ms: i64) -> Result<(), InboxError> {
        self.conn().execute(
            "UPDATE push_inbox SET state = 'done', body = NULL, last_error = NULL, processed_at = ?2 WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// The push can never be applied: kept, with its body, for an operator.
    pub fn fail(&self, id: i64, error: &str, now_ms: i64) -> Result<(), InboxError> {
        self.conn().execute(
            "UPDATE push_inbox SET state = 'failed', attempts = attempts + 1, last_error = ?2, processed_at = ?3 WHERE id = ?1",
            params![id, error, now_ms],
        )?;
        Ok(())
    }

    /// Try the push again at `at_ms`.
    pub fn retry(&self, id: i64, error: &str, at_ms: i64) -> Result<(), InboxError> {
        self.conn().execute(
            "UPDATE push_inbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
            params![id, error, at_ms],
        )?;
        Ok(())
    }

    /// Forget processed pushes received before `before_ms` (replays of them
    /// are stale by then); failed ones are kept `failed_extra_ms` longer.
    pub fn prune(&self, before_ms: i64, failed_extra_ms: i64) -> Result<usize, InboxError> {
        Ok(self.conn().execute(
            "DELETE FROM push_inbox WHERE (state = 'done' AND received_at < ?1)
                OR (state = 'failed' AND received_at < ?1 - ?2)",
            params![before_ms, failed_extra_ms],
        )?)
    }

    /// Per source: pushes pending and failed.
    pub fn counts(&self) -> Result<Vec<(String, i64, i64)>, InboxError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT source, SUM(state = 'pending'), SUM(state = 'failed')
             FROM push_inbox GROUP BY source ORDER BY source",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every row, newest first (at most `limit`).
    pub fn rows(&self, limit: usize) -> Result<Vec<InboxRow>, InboxError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, source, event_id, state, attempts, last_error, body IS NOT NULL
             FROM push_inbox ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(InboxRow {
                id: r.get(0)?,
                source: r.get(1)?,
                event_id: r.get(2)?,
                state: r.get(3)?,
                attempts: r.get(4)?,
                last_error: r.get(5)?,
                has_body: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbox() -> (tempfile::TempDir, Inbox) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forecourt.db");
        crate::store::SqliteStore::open(&path).unwrap();
        let inbox = Inbox::open(&path).unwrap();
        (dir, inbox)
    }

    fn push<'a>(event: Option<&'a str>, signature: &'a str) -> NewPush<'a> {
        NewPush {
            source: "dms",
            event_id: event,
            signature,
            signed_at: 1,
            headers: &[],
            body: b"{}",
        }
    }

    #[test]
    fn replays_by_signature_or_event_id_are_refused() {
        let (_dir, inbox) = inbox();
        let id = inbox.accept(&push(Some("e1"), "aa"), 10).unwrap();
        assert!(matches!(
            inbox.accept(&push(Some("e2"), "aa"), 11),
            Err(InboxError::Replay { what: "signature" })
        ));
        assert!(matches!(
            inbox.accept(&push(Some("e1"), "bb"), 11),
            Err(InboxError::Replay { what: "event id" })
        ));
        // Another source may use the same event ids.
        let other = NewPush {
            source: "other",
            ..push(Some("e1"), "aa")
        };
        assert!(inbox.accept(&other, 12).is_ok());
        // Without an event id only the signature counts.
        assert!(inbox.accept(&push(None, "cc"), 13).is_ok());
        assert!(inbox.accept(&push(None, "dd"), 13).is_ok());
        inbox.done(id, 20).unwrap();
        assert!(matches!(
            inbox.accept(&push(Some("e1"), "ee"), 21),
            Err(InboxError::Replay { .. })
        ));
        assert!(!inbox.rows(10).unwrap().last().unwrap().has_body);
    }

    #[test]
    fn one_pending_push_per_source_in_arrival_order_and_retries_wait() {
        let (_dir, inbox) = inbox();
        let a1 = inbox.accept(&push(None, "a1"), 1).unwrap();
        let a2 = inbox.accept(&push(None, "a2"), 2).unwrap();
        let b1 = inbox
            .accept(
                &NewPush {
                    source: "b",
                    ..push(None, "b1")
                },
                3,
            )
            .unwrap();
        let due: Vec<i64> = inbox.next_due(5).unwrap().iter().map(|p| p.id).collect();
        assert_eq!(due, [a1, b1]);
        inbox.retry(a1, "transient", 100).unwrap();
        let due: Vec<i64> = inbox.next_due(50).unwrap().iter().map(|p| p.id).collect();
        assert_eq!(due, [b1], "a2 waits behind a1");
        inbox.done(a1, 101).unwrap();
        let due: Vec<i64> = inbox.next_due(101).unwrap().iter().map(|p| p.id).collect();
        assert_eq!(due, [a2, b1]);
        inbox.fail(a2, "bad body", 102).unwrap();
        let rows = inbox.rows(10).unwrap();
        let failed = rows.iter().find(|r| r.id == a2).unwrap();
        assert_eq!((failed.state.as_str(), failed.has_body), ("failed", true));
        assert_eq!(
            inbox.counts().unwrap(),
            [("b".to_string(), 1, 0), ("dms".to_string(), 0, 1)]
        );
        assert_eq!(inbox.prune(200, 1_000).unwrap(), 1, "only the done row");
        assert_eq!(inbox.prune(2_000, 1_000).unwrap(), 1, "then the failed one");
    }
}
