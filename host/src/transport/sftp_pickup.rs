//! An export on an SFTP server: a remote path, or a directory and a file
//! pattern (`/exports/stock-*.csv`). On each pull the newest complete
//! matching file is downloaded, unless it is the one settled last time
//! (same path, size and time: no download at all) or its content was seen
//! before (same hash: no parsing). Remote files are left where they are:
//! the DMS owns that folder.

use super::directory::{default_max_bytes, validate_max_bytes, validate_pattern};
use super::ssh::{self, default_port, default_timeout, split_remote, Endpoint, EndpointKeys};
use super::state::StateFile;
use super::{
    glob_match, sha256_hex, BuildContext, Document, Invalid, Origin, Pickup, Settlement,
    TransportError,
};
use futures::future::BoxFuture;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// `[source.document.sftp]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftpPickupConfig {
    /// Host name or address.
    pub host: Spanned<String>,
    /// Port (default 22).
    #[serde(default = "default_port")]
    pub port: Spanned<u16>,
    /// User.
    pub username: Spanned<String>,
    /// Private key file (relative to the configuration file).
    #[serde(default)]
    pub key_file: Option<Spanned<PathBuf>>,
    /// Secret holding the key's passphrase.
    #[serde(default)]
    pub key_passphrase_secret: Option<Spanned<String>>,
    /// Secret holding the password (instead of a key).
    #[serde(default)]
    pub password_secret: Option<Spanned<String>>,
    /// OpenSSH known_hosts file with the server's key.
    #[serde(default)]
    pub known_hosts: Option<Spanned<PathBuf>>,
    /// Or the server key's SHA256 fingerprint.
    #[serde(default)]
    pub host_key_fingerprint: Option<Spanned<String>>,
    /// Deadline per step and request, 1 to 600 seconds (default 30).
    #[serde(default = "default_timeout")]
    pub timeout_secs: Spanned<u64>,
    /// Remote file, or directory and pattern: `/exports/stock-*.csv`.
    pub path: Spanned<String>,
    /// A file must be unchanged for this long to count as complete (default 60).
    #[serde(default = "default_settle")]
    pub settle_secs: Spanned<u64>,
    /// Largest export accepted, in bytes (default 128 MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: Spanned<u64>,
}

fn default_settle() -> Spanned<u64> {
    // Remote clocks and upload speeds are unknown: be patient.
    Spanned::new(0..0, 60)
}

impl SftpPickupConfig {
    /// Resolve relative paths against the configuration file's directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        ssh::resolve_paths(base, self.key_file.as_mut(), self.known_hosts.as_mut());
    }

    fn endpoint(&self) -> Result<Endpoint, Invalid> {
        EndpointKeys {
            host: &self.host,
            port: &self.port,
            username: &self.username,
            key_file: self.key_file.as_ref(),
            key_passphrase_secret: self.key_passphrase_secret.as_ref(),
            password_secret: self.password_secret.as_ref(),
            known_hosts: self.known_hosts.as_ref(),
            host_key_fingerprint: self.host_key_fingerprint.as_ref(),
            timeout_secs: &self.timeout_secs,
        }
        .validate()
    }

    /// Check the settings; keys are relative to this table.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.endpoint()?;
        let (_, pattern) = split_remote(self.path.get_ref());
        validate_pattern(&Spanned::new(self.path.span(), pattern), "path")?;
        if *self.settle_secs.get_ref() > 3600 {
            return Err(Invalid::new(
                self.settle_secs.span(),
                "settle_secs",
                format!("is {}; allowed 0 to 3600", self.settle_secs.get_ref()),
            ));
        }
        validate_max_bytes(&self.max_bytes)
    }

    /// The running pickup (checks the key and secrets now, not at the first pull).
    pub fn build(&self, ctx: &BuildContext) -> Result<SftpPickup, TransportError> {
        let endpoint = self
            .endpoint()
            .map_err(|e| TransportError::permanent(format!("{}: {}", e.key, e.message)))?;
        endpoint.preflight(ctx)?;
        let (dir, pattern) = split_remote(self.path.get_ref());
        Ok(SftpPickup {
            endpoint,
            dir,
            pattern,
            settle_secs: *self.settle_secs.get_ref(),
            max_bytes: *self.max_bytes.get_ref(),
            ctx: ctx.clone(),
            state: StateFile::new(&ctx.data_dir, &ctx.owner),
        })
    }
}

/// A running SFTP pickup.
pub struct SftpPickup {
    endpoint: Endpoint,
    dir: String,
    pattern: String,
    settle_secs: u64,
    max_bytes: u64,
    ctx: BuildContext,
    state: StateFile,
}

impl SftpPickup {
    fn remote_path(&self, name: &str) -> String {
        format!("{}/{name}", self.dir.trim_end_matches('/'))
    }

    async fn fetch_now(&self) -> Result<Option<Document>, TransportError> {
        let memory = self.state.load()?;
        let connection = self.endpoint.connect(&self.ctx).await?;
        let result = self.fetch_on(&connection, &memory).await;
        connection.close().await;
        result
    }

    async fn fetch_on(
        &self,
        connection: &ssh::SftpConnection,
        memory: &super::state::PickupMemory,
    ) -> Result<Option<Document>, TransportError> {
        let now = super::unix_ms(std::time::SystemTime::now()) / 1000;
        let floor = memory.newest_mtime_ms.unwrap_or(0) / 1000;
        let mut entries: Vec<_> = connection
            .list(&self.dir)
            .await?
            .into_iter()
            .filter(|e| e.is_file && !e.name.starts_with('.') && glob_match(&self.pattern, &e.name))
            .filter(|e| e.mtime >= floor)
            .collect();
        entries.sort_by(|a, b| b.mtime.cmp(&a.mtime).then_with(|| b.name.cmp(&a.name)));
        let Some(newest) = entries
            .into_iter()
            .find(|e| now.saturating_sub(e.mtime) >= self.settle_secs)
        else {
            return Ok(None);
        };
        let path = self.remote_path(&newest.name);
        if memory.remote.as_ref() == Some(&(path.clone(), newest.size, newest.mtime)) {
            return Ok(None);
        }
        if newest.size > self.max_bytes {
            return Err(TransportError::permanent(format!(
                "{}: {path} is {} bytes, more than max_bytes ({})",
                connection.label(),
                newest.size,
                self.max_bytes
            )));
        }
        let bytes = connection.read(&path, newest.size, self.max_bytes).await?;
        if connection.stat(&path).await? != (newest.size, newest.mtime)
            || bytes.len() as u64 != newest.size
        {
            tracing::debug!(file = %path, "Remote export still growing; picked up on a later pull.");
            return Ok(None);
        }
        let sha256 = sha256_hex(&bytes);
        if memory.knows(&sha256) {
            self.state
                .update(|m| m.remote = Some((path.clone(), newest.size, newest.mtime)))?;
            return Ok(None);
        }
        Ok(Some(Document {
            label: format!("{}{path}", connection.label()),
            bytes,
            sha256,
            origin: Origin::Remote {
                path,
                size: newest.size,
                mtime: newest.mtime,
            },
        }))
    }

    fn settle_now(&self, document: &Document, outcome: &Settlement) -> Result<(), TransportError> {
        let Origin::Remote { path, size, mtime } = &document.origin else {
            return Ok(());
        };
        if let Settlement::Rejected(reason) = outcome {
            tracing::error!(file = %document.label, reason, "Remote export refused; nothing in it was stored. It is not fetched again until a new file arrives.");
        }
        self.state.update(|m| {
            match outcome {
                Settlement::Ingested => {
                    m.ingested(&document.sha256);
                    m.newest_mtime_ms = Some(m.newest_mtime_ms.unwrap_or(0).max(mtime * 1000));
                }
                Settlement::Rejected(_) => m.refused(&document.sha256),
            }
            m.remote = Some((path.clone(), *size, *mtime));
        })
    }
}

impl Pickup for SftpPickup {
    fn describe(&self) -> String {
        format!(
            "{}{}",
            self.endpoint.label(),
            self.remote_path(&self.pattern)
        )
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Option<Document>, TransportError>> {
        Box::pin(self.fetch_now())
    }

    fn settle<'a>(
        &'a self,
        document: &'a Document,
        outcome: &'a Settlement,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move { self.settle_now(document, outcome) })
    }
}
