//! WAL checkpoints on a thread and connection of their own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold: it copies the log into the database file and fsyncs it while
//! that commit, and so the store's only connection, is held. Measured on a
//! 10,000-vehicle sync, those fsyncs were the largest single reason tokio
//! workers sat blocked. Here the writer only says "something was committed";
//! this thread runs a PASSIVE checkpoint (it never waits for, or blocks,
//! readers and writers) at most every [`INTERVAL`], on its own connection.
//!
//! Durability is unchanged: a commit is in the log before the writer
//! returns, and the log is synced before the database file is written.
//! The writer's connection keeps a much higher automatic threshold as a
//! safety net, should this thread ever fall behind.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// Shortest time between two checkpoints.
pub const INTERVAL: Duration = Duration::from_millis(500);

/// The checkpointing thread of one database file.
pub struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Commits since the last checkpoint started.
    dirty: bool,
    stop: bool,
}

impl Checkpointer {
    /// Start checkpointing the database at `path` (already in WAL mode).
    pub fn start(path: &Path) -> Result<Self, String> {
        let conn = Connection::open(path).map_err(|e| e.to_string())?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("wal-checkpoint".into())
                .spawn(move || run(&conn, &shared))
                .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?
        };
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Something was committed: checkpoint soon.
    pub fn committed(&self) {
        let mut state = lock(&self.shared.state);
        if !state.dirty {
            state.dirty = true;
            self.shared.changed.notify_all();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(conn: &Connection, shared: &Shared) {
    let mut last = Instant::now() - INTERVAL;
    let mut state = lock(&shared.state);
    loop {
        if state.stop {
            return;
        }
        if !state.dirty {
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
            continue;
        }
        // Commits come in bursts: wait out the interval (unless stopped),
        // then checkpoint everything committed by then.
        let due = last + INTERVAL;
        let now = Instant::now();
        if now < due {
            state = shared
                .changed
                .wait_timeout(state, due - now)
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
            continue;
        }
        state.dirty = false;
        drop(state);
        last = Instant::now();
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; retried after the next commit");
        }
        state = lock(&shared.state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_is_copied_into_the_database_file_by_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (zeroblob(1000000));")
            .unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        assert!(size() < 1_000_000, "still only in the log");

        let checkpointer = Checkpointer::start(&path).unwrap();
        checkpointer.committed();
        // Poll rather than sleep a fixed time: the machine may be slow.
        let started = Instant::now();
        while size() < 1_000_000 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the commit never reached the database file"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(checkpointer);
    }
}
