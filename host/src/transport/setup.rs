//! From configuration to running transports: path resolution and
//! validation of `document` and `feed` tables (called by `config.rs`), and
//! building pickups, feed sinks and the feed server (called by `app.rs`
//! and `forecourt run`).

use super::served::{served_dir, ServedSink};
use super::server::{FeedRoute, FeedServer, RunningServer};
use super::{BuildContext, Invalid};
use crate::config::{RawConfig, RawDocument, RawFeed};
use crate::runtime::secrets::SecretStore;
use crate::store::Store;
use crate::sync::{DocumentSource, FeedOutput, PlatformSetup};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use toml::Spanned;

/// Resolve a document's relative paths (other than `file`).
pub fn resolve_document(document: &mut RawDocument, base: &Path) {
    if let Some(d) = &mut document.directory {
        d.resolve_paths(base);
    }
    if let Some(u) = &mut document.url {
        u.resolve_paths(base);
    }
    if let Some(s) = &mut document.sftp {
        s.resolve_paths(base);
    }
}

/// Resolve a feed's relative paths (other than `directory`).
pub fn resolve_feed(feed: &mut RawFeed, base: &Path) {
    if let Some(s) = &mut feed.sftp {
        s.resolve_paths(base);
    }
}

fn nested(prefix: &str, e: Invalid) -> Invalid {
    Invalid::new(e.span, format!("{prefix}.{}", e.key), e.message)
}

/// Exactly one of `file`, `directory`, `url`, `sftp`, each valid.
pub fn validate_document(document: &Spanned<RawDocument>) -> Result<(), Invalid> {
    let d = document.get_ref();
    let set = [
        d.file.is_some(),
        d.directory.is_some(),
        d.url.is_some(),
        d.sftp.is_some(),
    ]
    .iter()
    .filter(|s| **s)
    .count();
    if set != 1 {
        return Err(Invalid::new(
            document.span(),
            "(table)",
            format!("set exactly one of file, directory, url or sftp (found {set})"),
        ));
    }
    if let Some(x) = &d.directory {
        x.validate().map_err(|e| nested("directory", e))?;
    }
    if let Some(x) = &d.url {
        x.validate().map_err(|e| nested("url", e))?;
    }
    if let Some(x) = &d.sftp {
        x.validate().map_err(|e| nested("sftp", e))?;
    }
    Ok(())
}

/// Each delivery valid; `serve` needs a `[feed_server]`.
pub fn validate_feed(feed: &RawFeed, has_server: bool) -> Result<(), Invalid> {
    if let Some(serve) = &feed.serve {
        serve.validate().map_err(|e| nested("serve", e))?;
        if !has_server {
            return Err(Invalid::new(
                serve.auth.span(),
                "serve",
                "needs a [feed_server] table with `listen` (the address platforms fetch from)",
            ));
        }
    }
    if let Some(sftp) = &feed.sftp {
        sftp.validate().map_err(|e| nested("sftp", e))?;
    }
    Ok(())
}

/// The document source of a validated `document` table.
pub fn build_document(
    document: &RawDocument,
    ctx: &BuildContext,
) -> anyhow::Result<DocumentSource> {
    let pickup: Arc<dyn super::Pickup> = if let Some(file) = &document.file {
        return Ok(DocumentSource::File(file.clone()));
    } else if let Some(d) = &document.directory {
        Arc::new(d.build(ctx))
    } else if let Some(u) = &document.url {
        Arc::new(u.build(ctx)?)
    } else if let Some(s) = &document.sftp {
        Arc::new(s.build(ctx)?)
    } else {
        anyhow::bail!("document: set one of file, directory, url or sftp");
    };
    Ok(DocumentSource::Pickup(pickup))
}

/// The outputs of a validated `feed` table (the directory first, so a
/// failing upload never keeps the local copy from being written).
pub fn build_feed_outputs(feed: &RawFeed, ctx: &BuildContext) -> anyhow::Result<Vec<FeedOutput>> {
    let mut outputs = Vec::new();
    if let Some(dir) = &feed.directory {
        outputs.push(FeedOutput::Sink(Arc::new(
            super::feed_dir::DirectorySink::new(dir.clone()),
        )));
    }
    if let Some(serve) = &feed.serve {
        // The server checks requests against these: fail at start, not at the first fetch.
        serve
            .credentials()
            .map_err(|e| anyhow::anyhow!("serve.{}: {}", e.key, e.message))?
            .check_secrets(ctx)?;
        outputs.push(FeedOutput::Sink(Arc::new(ServedSink::new(served_dir(
            &ctx.data_dir,
            &ctx.owner,
        )))));
    }
    if let Some(sftp) = &feed.sftp {
        outputs.push(FeedOutput::Sink(Arc::new(sftp.build(ctx)?)));
    }
    Ok(outputs)
}

/// The served feeds of a configuration, for the platforms as loaded.
pub fn feed_routes(
    config: &RawConfig,
    platforms: &[std::sync::Arc<PlatformSetup>],
) -> anyhow::Result<Vec<FeedRoute>> {
    let mut routes = Vec::new();
    for raw in &config.platforms {
        let Some(serve) = raw.feed.as_ref().and_then(|f| f.serve.as_ref()) else {
            continue;
        };
        let id = raw.id.get_ref();
        let format = platforms
            .iter()
            .find(|p| p.id == *id)
            .and_then(|p| p.info.feed.clone());
        let (extension, content_type) = match &format {
            Some(f) => (
                f.file_name
                    .rsplit_once('.')
                    .map(|(_, ext)| ext.to_string())
                    .unwrap_or_else(|| "txt".into()),
                f.content_type.clone(),
            ),
            None => ("json".into(), "application/json".into()),
        };
        routes.push(FeedRoute {
            platform: id.clone(),
            credentials: serve.credentials().map_err(|e| {
                anyhow::anyhow!("platform `{id}` feed.serve.{}: {}", e.key, e.message)
            })?,
            vehicle_documents: serve.vehicle_documents,
            document_extension: extension,
            document_type: content_type,
        });
    }
    Ok(routes)
}

/// Start the feed server when the configuration has one and any platform
/// serves its feed.
pub async fn start_feed_server(
    config: &RawConfig,
    platforms: &[std::sync::Arc<PlatformSetup>],
    store: Arc<dyn Store>,
    secrets: Arc<dyn SecretStore>,
) -> anyhow::Result<Option<RunningServer>> {
    let Some(server_config) = &config.feed_server else {
        return Ok(None);
    };
    let routes = feed_routes(config, platforms)?;
    if routes.is_empty() {
        tracing::warn!(
            "[feed_server] is configured but no platform sets feed.serve; not starting it."
        );
        return Ok(None);
    }
    let server =
        FeedServer::new(routes, &config.data_dir, store, secrets).context("feed server")?;
    Ok(Some(Arc::new(server).start(server_config).await?))
}
