//! Moving bytes between forecourt and the outside world for file-based
//! plugins, which have no filesystem or network of their own.
//!
//! - **Pickups** fetch a source's export document (a watched directory, an
//!   HTTP(S) URL, an SFTP server) and hand the bytes to the source plugin.
//! - **Feed sinks** deliver a platform's rendered feed (a directory, the
//!   host's feed server, an SFTP upload).
//!
//! Every transport follows one shape: a configuration struct deserialised
//! from `forecourt.toml` that `validate`s itself (naming the key at fault)
//! and then `build`s the running part, so a running part never sees a
//! configuration that was not checked. See docs/feeds.md.

pub mod auth;
pub mod directory;
pub mod feed_dir;
pub mod http;
pub mod http_client;
pub mod pull;
pub mod served;
pub mod server;
pub mod setup;
pub mod sftp_pickup;
pub mod sftp_upload;
pub mod ssh;
pub mod state;

use crate::runtime::secrets::SecretStore;
use crate::runtime::types::{ErrorClass, PluginError};
use futures::future::BoxFuture;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A transport failure, classed so the engine knows what to do next.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// Transient (retry with backoff), auth (credentials or host key refused:
    /// an operator must act) or permanent (will not work as configured).
    pub class: ErrorClass,
    /// What went wrong, naming the endpoint; never a secret.
    pub message: String,
}

impl TransportError {
    /// A failure that may pass (connection refused, timeout, 5xx).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Transient,
            message: message.into(),
        }
    }

    /// Credentials, permissions or the server's identity were refused.
    pub fn auth(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Auth,
            message: message.into(),
        }
    }

    /// Will not work until the configuration or the other side changes.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Permanent,
            message: message.into(),
        }
    }

    /// Whether trying again soon may help.
    pub fn is_transient(&self) -> bool {
        matches!(self.class, ErrorClass::Transient)
    }

    /// The same failure as the engine records it for a job.
    pub fn to_plugin_error(&self) -> PluginError {
        PluginError {
            class: self.class,
            message: self.message.clone(),
            retry_after_ms: None,
            field: None,
        }
    }
}

/// A document a pickup fetched, with what it needs to settle it afterwards.
#[derive(Debug, Clone)]
pub struct Document {
    /// Where it came from, for logs (a path or URL; never credentials).
    pub label: String,
    /// The bytes handed to the plugin.
    pub bytes: Vec<u8>,
    /// Hex sha256 of `bytes`.
    pub sha256: String,
    /// Pickup-specific facts needed to settle it.
    pub origin: Origin,
}

/// Where a fetched document lives, for [`Pickup::settle`].
#[derive(Debug, Clone)]
pub enum Origin {
    /// A file in a watched directory.
    Local {
        /// Its path.
        path: PathBuf,
        /// Its modification time, in milliseconds since the epoch.
        mtime_ms: u64,
    },
    /// An HTTP response, with the validators for the next conditional GET.
    Http {
        /// `ETag` of the response.
        etag: Option<String>,
        /// `Last-Modified` of the response.
        last_modified: Option<String>,
    },
    /// A file on an SFTP server.
    Remote {
        /// Its path.
        path: String,
        /// Its size.
        size: u64,
        /// Its modification time (seconds).
        mtime: u64,
    },
}

/// How a fetched document ended.
#[derive(Debug, Clone)]
pub enum Settlement {
    /// The plugin parsed it and the store has it.
    Ingested,
    /// The plugin refused it as a whole (it cannot be parsed); nothing was stored.
    Rejected(String),
}

/// Fetches a source's export document.
pub trait Pickup: Send + Sync {
    /// Where it picks up from, for logs and errors.
    fn describe(&self) -> String;
    /// The newest complete document, or `None` when there is nothing new
    /// (no file yet, or the same export as last time).
    fn fetch(&self) -> BoxFuture<'_, Result<Option<Document>, TransportError>>;
    /// Record how a fetched document ended, so the same document is not
    /// parsed again (and a refused file is set aside).
    fn settle<'a>(
        &'a self,
        document: &'a Document,
        outcome: &'a Settlement,
    ) -> BoxFuture<'a, Result<(), TransportError>>;
}

impl std::fmt::Debug for dyn Pickup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A rendered feed file, borrowed from the plugin's answer.
#[derive(Debug, Clone, Copy)]
pub struct FeedFile<'a> {
    /// The file name the plugin chose (checked with [`safe_file_name`]).
    pub file_name: &'a str,
    /// Its MIME type.
    pub content_type: &'a str,
    /// Its bytes.
    pub body: &'a [u8],
}

/// Delivers a rendered feed somewhere.
pub trait FeedSink: Send + Sync {
    /// Where it delivers, for logs and errors.
    fn describe(&self) -> String;
    /// Deliver the whole feed; on error nothing half-written is visible.
    fn deliver<'a>(&'a self, feed: FeedFile<'a>) -> BoxFuture<'a, Result<(), TransportError>>;
}

impl std::fmt::Debug for dyn FeedSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// What building a transport needs from the host.
#[derive(Clone)]
pub struct BuildContext {
    /// The source or platform id: the namespace of its secrets and state.
    pub owner: String,
    /// The data directory (pickup state, served feeds).
    pub data_dir: PathBuf,
    /// Where secrets come from.
    pub secrets: Arc<dyn SecretStore>,
}

impl BuildContext {
    /// A secret of this owner, or an error naming where it is expected.
    pub fn secret(
        &self,
        name: &str,
    ) -> Result<crate::runtime::secrets::SecretValue, TransportError> {
        self.secrets.get(&self.owner, name).ok_or_else(|| {
            TransportError::auth(format!(
                "secret `{name}` of `{}` is not set (secrets file table [{}] or environment variable {})",
                self.owner,
                self.owner,
                crate::runtime::secrets::EnvSecrets::variable(&self.owner, name)
            ))
        })
    }
}

/// A configuration key that is wrong: the key (relative to the transport's
/// table), its span in the file when known, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Byte range in the configuration text (`0..0` when unknown).
    pub span: Range<usize>,
    /// The key, e.g. `sftp.known_hosts`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    /// An error at `span` on `key`.
    pub fn new(span: Range<usize>, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            span,
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Resolve a relative path against the configuration file's directory.
pub fn resolve(base: &Path, path: &mut PathBuf) {
    if path.is_relative() {
        *path = base.join(&*path);
    }
}

/// Whether `name` is a plain file name (no directories, not hidden, not
/// `.`/`..`): plugin-chosen names must never climb out of a directory.
pub fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.chars().all(|c| !c.is_control())
}

/// Shell-style matching of a file name: `*` any run, `?` one character.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Milliseconds since the epoch of a file time (0 when unknown).
pub fn unix_ms(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_match("*.csv", "stock.csv"));
        assert!(glob_match("stock-*.csv", "stock-2024-01-02.csv"));
        assert!(!glob_match("stock-*.csv", "stock.csv"));
        assert!(glob_match("stock-????.tsv", "stock-0102.tsv"));
        assert!(!glob_match("stock-????.tsv", "stock-010.tsv"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("exact.csv", "exact.csv"));
        assert!(!glob_match("exact.csv", "exact.csv.part"));
    }

    #[test]
    fn plugin_file_names_cannot_escape() {
        assert!(safe_file_name("vehicles.tsv"));
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a\nb"] {
            assert!(!safe_file_name(bad), "{bad:?}");
        }
    }
}
