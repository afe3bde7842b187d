//! The audit chain's head, kept outside the database.
//!
//! The hash chain detects an edited, inserted or deleted entry, but not the
//! newest entries being cut off the end: the shorter chain is still a valid
//! chain. So after every commit that appended to the trail the store writes
//! the head (sequence number and hash) to a small file beside the database,
//! and `audit verify` checks that the trail still reaches it. The head is
//! also logged after each sync cycle, so a copy lives wherever logs are
//! shipped; an attacker would have to rewrite both.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// The newest entry of the trail when it was anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Sequence number of the newest entry.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// The anchor file of one database, written by a thread of its own.
///
/// Writing a file and renaming it over the old one can block for
/// milliseconds (the file system may flush the new file's blocks before the
/// rename), and it followed every commit that appended to the trail: on a
/// tokio worker that stalled the other tasks. So [`Anchor::advance`] only
/// records the newest head and wakes the writer, which writes whatever is
/// newest when it gets to it. The anchor may lag the trail by a write, never
/// lead it: it is written after the commit it names.
pub struct Anchor {
    path: PathBuf,
    shared: Arc<Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The newest head not yet being written.
    pending: Option<Head>,
    /// The head being written now.
    writing: Option<i64>,
    /// The newest head written (or given up on) by this process.
    written: i64,
    stop: bool,
}

impl Anchor {
    /// The anchor beside the database at `db` (`<db>.audit-head`).
    pub fn beside(db: &Path) -> Self {
        let mut name = db.as_os_str().to_owned();
        name.push(".audit-head");
        let path = PathBuf::from(name);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let writer = {
            let (path, shared) = (path.clone(), shared.clone());
            std::thread::Builder::new()
                .name("audit-anchor".into())
                .spawn(move || write_loop(&path, &shared))
                .ok()
        };
        Self {
            path,
            shared,
            writer,
        }
    }

    /// Where the anchor lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded head, if any, after this process's pending write. A
    /// file that cannot be read or parsed is an error: silently ignoring it
    /// would switch the check off.
    pub fn read(&self) -> Result<Option<Head>, String> {
        self.flush();
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{}: not a valid audit anchor: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    /// Record `head` if it is newer than what this process last recorded;
    /// the writer thread writes it soon after.
    ///
    /// Written to a temporary file and renamed, without an fsync: the store
    /// commits with `synchronous = NORMAL`, so after a power loss both the
    /// newest commits and the newest anchor may be lost together; a failed
    /// write is logged and retried at the next commit, never fails the commit.
    pub fn advance(&self, head: &Head) {
        if self.writer.is_none() {
            // No thread could be started: write here, as before.
            return write_head(&self.path, head).unwrap_or_else(|e| warn_unwritten(&self.path, &e));
        }
        let mut state = lock(&self.shared.state);
        let newest = state.pending.as_ref().map_or(state.written, |p| p.seq);
        if head.seq > newest.max(state.writing.unwrap_or(0)) {
            state.pending = Some(head.clone());
            self.shared.changed.notify_all();
        }
    }

    /// Wait until every head recorded so far has been written (or failed).
    pub fn flush(&self) {
        let mut state = lock(&self.shared.state);
        while self.writer.is_some() && (state.pending.is_some() || state.writing.is_some()) {
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for Anchor {
    /// The last head recorded is written before the store goes away.
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.changed.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The writer thread: the newest pending head, until stopped with nothing pending.
fn write_loop(path: &Path, shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        match state.pending.take() {
            Some(head) => {
                state.writing = Some(head.seq);
                drop(state);
                let result = write_head(path, &head);
                state = lock(&shared.state);
                state.writing = None;
                match result {
                    Ok(()) => state.written = state.written.max(head.seq),
                    Err(e) => warn_unwritten(path, &e),
                }
                shared.changed.notify_all();
            }
            None if state.stop => return,
            None => {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner())
            }
        }
    }
}

fn write_head(path: &Path, head: &Head) -> std::io::Result<()> {
    let tmp = path.with_extension("audit-head.tmp");
    let bytes = serde_json::to_vec(head).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn warn_unwritten(path: &Path, e: &std::io::Error) {
    tracing::warn!(path = %path.display(), error = %e, "cannot write the audit anchor");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_only_forward_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let anchor = Anchor::beside(&dir.path().join("forecourt.db"));
        assert_eq!(anchor.read().unwrap(), None);
        let head = |seq| Head {
            seq,
            hash: format!("h{seq}"),
        };
        anchor.advance(&head(3));
        anchor.advance(&head(2));
        assert_eq!(anchor.read().unwrap(), Some(head(3)));
        assert!(anchor.path().ends_with("forecourt.db.audit-head"));
    }

    #[test]
    fn a_garbled_anchor_is_an_error_not_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        let anchor = Anchor::beside(&dir.path().join("forecourt.db"));
        std::fs::write(anchor.path(), b"{nope").unwrap();
        assert!(anchor
            .read()
            .unwrap_err()
            .contains("not a valid audit anchor"));
    }
}
