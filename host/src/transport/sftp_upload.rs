//! Uploading a rendered feed to a platform's SFTP server: written under a
//! temporary name and renamed over the final name, so the platform never
//! fetches half a feed. A failed attempt is retried a few times with
//! full-jitter backoff (the engine's [`RetryPolicy`]); if it still fails
//! the feed job is retried later by the engine, or, when credentials,
//! permissions or the host key are refused, the platform is paused.

use super::ssh::{self, default_port, default_timeout, Endpoint, EndpointKeys};
use super::{safe_file_name, BuildContext, FeedFile, FeedSink, Invalid, TransportError};
use crate::runtime::types::ErrorClass;
use crate::sync::retry::RetryPolicy;
use futures::future::BoxFuture;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// In-call retries of one upload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRetry {
    /// Attempts per delivery, 1 to 10 (default 3).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// First backoff ceiling in milliseconds (default 500).
    #[serde(default = "default_base_ms")]
    pub base_ms: u64,
    /// Largest backoff in milliseconds (default 10,000).
    #[serde(default = "default_cap_ms")]
    pub cap_ms: u64,
}

fn default_attempts() -> u32 {
    3
}
fn default_base_ms() -> u64 {
    500
}
fn default_cap_ms() -> u64 {
    10_000
}

impl Default for UploadRetry {
    fn default() -> Self {
        Self {
            attempts: default_attempts(),
            base_ms: default_base_ms(),
            cap_ms: default_cap_ms(),
        }
    }
}

/// `[platform.feed.sftp]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftpUploadConfig {
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
    /// Remote directory the feed goes into (default: the login directory).
    #[serde(default = "default_directory")]
    pub directory: Spanned<String>,
    /// In-call retries.
    #[serde(default)]
    pub retry: UploadRetry,
}

fn default_directory() -> Spanned<String> {
    Spanned::new(0..0, ".".into())
}

impl SftpUploadConfig {
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
        if self.directory.get_ref().is_empty() {
            return Err(Invalid::new(
                self.directory.span(),
                "directory",
                "must name a remote directory (`.` is the login directory)",
            ));
        }
        let r = &self.retry;
        if !(1..=10).contains(&r.attempts) || r.base_ms == 0 || r.cap_ms < r.base_ms {
            return Err(Invalid::new(
                self.directory.span(),
                "retry",
                "needs attempts from 1 to 10, base_ms >= 1 and cap_ms >= base_ms",
            ));
        }
        Ok(())
    }

    /// The running sink (checks the key and secrets now).
    pub fn build(&self, ctx: &BuildContext) -> Result<SftpUpload, TransportError> {
        let endpoint = self
            .endpoint()
            .map_err(|e| TransportError::permanent(format!("{}: {}", e.key, e.message)))?;
        endpoint.preflight(ctx)?;
        Ok(SftpUpload {
            endpoint,
            directory: self.directory.get_ref().clone(),
            retry: RetryPolicy {
                base_ms: self.retry.base_ms,
                cap_ms: self.retry.cap_ms,
                max_attempts: self.retry.attempts,
            },
            ctx: ctx.clone(),
        })
    }
}

/// A running SFTP feed upload.
pub struct SftpUpload {
    endpoint: Endpoint,
    directory: String,
    retry: RetryPolicy,
    ctx: BuildContext,
}

impl SftpUpload {
    async fn upload_once(&self, feed: FeedFile<'_>) -> Result<(), TransportError> {
        let connection = self.endpoint.connect(&self.ctx).await?;
        let result = connection
            .upload_atomic(&self.directory, feed.file_name, feed.body)
            .await;
        connection.close().await;
        result
    }

    async fn deliver_now(&self, feed: FeedFile<'_>) -> Result<(), TransportError> {
        if !safe_file_name(feed.file_name) {
            return Err(TransportError::permanent(format!(
                "the plugin named its feed {:?}, which is not a plain file name",
                feed.file_name
            )));
        }
        let mut attempt = 1;
        loop {
            match self.upload_once(feed).await {
                Ok(()) => {
                    tracing::info!(to = %self.describe(), file = feed.file_name, bytes = feed.body.len(), "Feed uploaded.");
                    return Ok(());
                }
                Err(e) if e.class == ErrorClass::Auth => return Err(e),
                Err(e) if attempt >= self.retry.max_attempts => {
                    // Anything but refused credentials may pass: the engine
                    // retries the feed job later rather than dropping it.
                    return Err(TransportError::transient(e.message));
                }
                Err(e) => {
                    let wait = self.retry.backoff(attempt, &mut rand::rng());
                    tracing::warn!(to = %self.describe(), attempt, error = %e, wait_ms = wait.as_millis() as u64, "Feed upload failed; retrying.");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }
}

impl FeedSink for SftpUpload {
    fn describe(&self) -> String {
        format!(
            "{}/{}",
            self.endpoint.label(),
            self.directory.trim_start_matches('/')
        )
    }

    fn deliver<'a>(&'a self, feed: FeedFile<'a>) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(self.deliver_now(feed))
    }
}
