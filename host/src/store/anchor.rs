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
use std::sync::Mutex;

/// The newest entry of the trail when it was anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Sequence number of the newest entry.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// The anchor file of one database.
pub struct Anchor {
    path: PathBuf,
    written: Mutex<i64>,
}

impl Anchor {
    /// The anchor beside the database at `db` (`<db>.audit-head`).
    pub fn beside(db: &Path) -> Self {
        let mut name = db.as_os_str().to_owned();
        name.push(".audit-head");
        Self {
            path: PathBuf::from(name),
            written: Mutex::new(0),
        }
    }

    /// Where the anchor lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded head, if any. A file that cannot be read or parsed is
    /// an error: silently ignoring it would switch the check off.
    pub fn read(&self) -> Result<Option<Head>, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{}: not a valid audit anchor: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    /// Record `head` if it is newer than what this process last wrote.
    ///
    /// Written to a temporary file and renamed, without an fsync: the store
    /// commits with `synchronous = NORMAL`, so after a power loss both the
    /// newest commits and the newest anchor may be lost together; a failed
    /// write is logged and retried at the next commit, never fails the commit.
    pub fn advance(&self, head: &Head) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if head.seq <= *written {
            return;
        }
        let tmp = self.path.with_extension("audit-head.tmp");
        let result = serde_json::to_vec(head)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        match result {
            Ok(()) => *written = head.seq,
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot write the audit anchor")
            }
        }
    }
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
