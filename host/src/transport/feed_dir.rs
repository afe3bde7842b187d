//! Writing a feed atomically into a local directory (which another
//! program, a web server or a sync job, publishes from).

use super::{safe_file_name, FeedFile, FeedSink, TransportError};
use futures::future::BoxFuture;
use std::path::PathBuf;

/// A directory that receives the feed.
pub struct DirectorySink {
    dir: PathBuf,
}

impl DirectorySink {
    /// Feeds go into `dir` (created when missing).
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
        crate::files::write_atomic(&self.dir.join(feed.file_name), feed.body)
            .map_err(|e| TransportError::transient(format!("{e:#}")))
    }
}

impl FeedSink for DirectorySink {
    fn describe(&self) -> String {
        format!("directory {}", self.dir.display())
    }

    fn deliver<'a>(&'a self, feed: FeedFile<'a>) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move { self.deliver_now(feed) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_the_feed_and_refuses_escaping_names() {
        let dir = tempfile::tempdir().unwrap();
        let sink = DirectorySink::new(dir.path().join("feeds"));
        let feed = |name| FeedFile {
            file_name: name,
            content_type: "text/plain",
            body: b"id\tprice\n",
        };
        sink.deliver(feed("vehicles.tsv")).await.unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("feeds/vehicles.tsv")).unwrap(),
            b"id\tprice\n"
        );
        let err = sink.deliver(feed("../escape.tsv")).await.unwrap_err();
        assert!(err.message.contains("not a plain file name"), "{err}");
        assert!(!dir.path().join("escape.tsv").exists());
    }
}
