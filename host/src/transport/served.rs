//! Feeds the host serves over HTTP: the last successfully rendered feed of
//! each platform, kept durably under `<data_dir>/served/<platform>/` so a
//! restart serves it straight away. A re-render with identical bytes does
//! not touch the file, so its `Last-Modified` (and the platforms' caches)
//! stay valid.

use super::auth::{CredentialKeys, Credentials, Scheme};
use super::{safe_file_name, sha256_hex, FeedFile, FeedSink, Invalid, TransportError};
use bytes::Bytes;
use futures::future::BoxFuture;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use toml::Spanned;

/// `[platform.feed.serve]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// `none`, `basic` or `bearer`: required, so a public feed is a decision.
    pub auth: Spanned<Scheme>,
    /// Basic: the user name platforms send.
    #[serde(default)]
    pub username: Option<Spanned<String>>,
    /// Basic: the secret holding the password platforms send.
    #[serde(default)]
    pub password_secret: Option<Spanned<String>>,
    /// Bearer: the secret holding the token platforms send.
    #[serde(default)]
    pub token_secret: Option<Spanned<String>>,
    /// Also serve each vehicle's listing body (e.g. schema.org JSON-LD) at
    /// `/feeds/<platform>/vehicles/<stock-id>.<feed extension>`.
    #[serde(default)]
    pub vehicle_documents: bool,
}

impl ServeConfig {
    /// The credentials platforms must present.
    pub fn credentials(&self) -> Result<Credentials, Invalid> {
        CredentialKeys {
            auth: &self.auth,
            username: self.username.as_ref(),
            password_secret: self.password_secret.as_ref(),
            token_secret: self.token_secret.as_ref(),
        }
        .validate()
    }

    /// Check the settings; keys are relative to this table.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.credentials().map(|_| ())
    }
}

/// Where a platform's served feed lives.
pub fn served_dir(data_dir: &Path, platform: &str) -> PathBuf {
    data_dir.join("served").join(platform)
}

fn type_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.content-type"))
}

/// The sink that keeps a platform's feed for the server.
pub struct ServedSink {
    dir: PathBuf,
}

impl ServedSink {
    /// Feeds of one platform, kept in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn deliver_now(&self, feed: FeedFile<'_>) -> Result<(), TransportError> {
        if !safe_file_name(feed.file_name) {
            return Err(TransportError::permanent(format!(
                "the plugin named its feed {:?}, which is not a plain file name",
                feed.file_name
            )));
        }
        let path = self.dir.join(feed.file_name);
        let unchanged = std::fs::read(&path)
            .map(|old| sha256_hex(&old) == sha256_hex(feed.body))
            .unwrap_or(false);
        let type_path = type_file(&self.dir, feed.file_name);
        let write = |p: &Path, b: &[u8]| {
            crate::files::write_atomic(p, b)
                .map_err(|e| TransportError::transient(format!("{e:#}")))
        };
        if std::fs::read(&type_path).ok().as_deref() != Some(feed.content_type.as_bytes()) {
            write(&type_path, feed.content_type.as_bytes())?;
        }
        if !unchanged {
            write(&path, feed.body)?;
        }
        Ok(())
    }
}

impl FeedSink for ServedSink {
    fn describe(&self) -> String {
        format!("served from {}", self.dir.display())
    }

    fn deliver<'a>(&'a self, feed: FeedFile<'a>) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move { self.deliver_now(feed) })
    }
}

/// One servable document.
#[derive(Debug, Clone)]
pub struct Served {
    /// The bytes.
    pub body: Bytes,
    /// Strong entity tag (quoted).
    pub etag: String,
    /// Last change, whole seconds.
    pub modified: SystemTime,
    /// MIME type.
    pub content_type: String,
}

impl Served {
    /// A document from bytes.
    pub fn new(body: Bytes, modified: SystemTime, content_type: String) -> Self {
        let etag = format!("\"{}\"", &sha256_hex(&body)[..32]);
        Self {
            body,
            etag,
            modified,
            content_type,
        }
    }
}

/// Reads served feeds, caching each file until it changes on disk, so a
/// large feed is hashed once per render, not once per request.
#[derive(Default)]
pub struct ServedCache {
    files: Mutex<HashMap<PathBuf, (Fingerprint, Arc<Served>)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: SystemTime,
    #[cfg(unix)]
    inode: u64,
}

fn fingerprint(meta: &std::fs::Metadata) -> Fingerprint {
    Fingerprint {
        len: meta.len(),
        modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        #[cfg(unix)]
        inode: std::os::unix::fs::MetadataExt::ino(meta),
    }
}

impl ServedCache {
    /// The feed `name` in `dir`, if it has been rendered.
    pub fn get(&self, dir: &Path, name: &str) -> std::io::Result<Option<Arc<Served>>> {
        use std::io::Read;
        if !safe_file_name(name) {
            return Ok(None);
        }
        let path = dir.join(name);
        // Open first and stat the open file: a rename in between cannot mix
        // one version's bytes with another's metadata.
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(None);
        }
        let print = fingerprint(&meta);
        if let Some((seen, served)) = self
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&path)
        {
            if *seen == print {
                return Ok(Some(served.clone()));
            }
        }
        let mut body = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut body)?;
        let content_type = std::fs::read_to_string(type_file(dir, name))
            .unwrap_or_else(|_| "application/octet-stream".into());
        let served = Arc::new(Served::new(
            Bytes::from(body),
            print.modified,
            content_type.trim().to_string(),
        ));
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path, (print, served.clone()));
        Ok(Some(served))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_last_feed_and_leaves_identical_renders_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let sink = ServedSink::new(dir.path().join("google"));
        let cache = ServedCache::default();
        assert!(cache
            .get(&dir.path().join("google"), "feed.tsv")
            .unwrap()
            .is_none());
        let feed = |body: &'static [u8]| FeedFile {
            file_name: "feed.tsv",
            content_type: "text/tab-separated-values",
            body,
        };
        sink.deliver(feed(b"one")).await.unwrap();
        let first = cache
            .get(&dir.path().join("google"), "feed.tsv")
            .unwrap()
            .unwrap();
        assert_eq!(&first.body[..], b"one");
        assert_eq!(first.content_type, "text/tab-separated-values");
        let modified = std::fs::metadata(dir.path().join("google/feed.tsv"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        sink.deliver(feed(b"one")).await.unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join("google/feed.tsv"))
                .unwrap()
                .modified()
                .unwrap(),
            modified,
            "an identical render does not touch the file"
        );
        sink.deliver(feed(b"two")).await.unwrap();
        let second = cache
            .get(&dir.path().join("google"), "feed.tsv")
            .unwrap()
            .unwrap();
        assert_eq!(&second.body[..], b"two");
        assert_ne!(first.etag, second.etag);
        // Hidden companions and escaping names are never served.
        assert!(cache
            .get(&dir.path().join("google"), ".feed.tsv.content-type")
            .unwrap()
            .is_none());
        assert!(cache.get(dir.path(), "../x").unwrap().is_none());
    }
}
