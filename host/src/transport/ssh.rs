//! SFTP connections, shared by pickups and feed uploads: connect, verify
//! the server's host key (always: a `known_hosts` file or a pinned SHA256
//! fingerprint), authenticate with a private key or a password from the
//! secret store, open the `sftp` subsystem, and the few file operations the
//! transports need.
//!
//! Built on `russh` and `russh-sftp` (pure Rust, tokio, ring crypto like
//! the rest of the host): no libssh2 or OpenSSL to link or patch.

use super::auth::validate_secret_name;
use super::{BuildContext, Invalid, TransportError};
use futures::{StreamExt, TryStreamExt};
use russh::client;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::client::RawSftpSession;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use toml::Spanned;

/// Bytes per SFTP read or write request: every server must accept 32 KiB.
const CHUNK: usize = 32 * 1024;
/// Requests in flight at once on one file (hides the round-trip time).
const IN_FLIGHT: usize = 16;

/// The connection keys of an `sftp` table.
pub struct EndpointKeys<'a> {
    /// `host`.
    pub host: &'a Spanned<String>,
    /// `port`.
    pub port: &'a Spanned<u16>,
    /// `username`.
    pub username: &'a Spanned<String>,
    /// `key_file`.
    pub key_file: Option<&'a Spanned<PathBuf>>,
    /// `key_passphrase_secret`.
    pub key_passphrase_secret: Option<&'a Spanned<String>>,
    /// `password_secret`.
    pub password_secret: Option<&'a Spanned<String>>,
    /// `known_hosts`.
    pub known_hosts: Option<&'a Spanned<PathBuf>>,
    /// `host_key_fingerprint`.
    pub host_key_fingerprint: Option<&'a Spanned<String>>,
    /// `timeout_secs`.
    pub timeout_secs: &'a Spanned<u64>,
}

/// Default SSH port.
pub fn default_port() -> Spanned<u16> {
    Spanned::new(0..0, 22)
}
/// Default deadline of a connection step or request.
pub fn default_timeout() -> Spanned<u64> {
    Spanned::new(0..0, 30)
}

/// How we prove who we are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshAuth {
    /// A private key file (OpenSSH, PEM or PuTTY format), optionally encrypted.
    Key {
        /// The file.
        path: PathBuf,
        /// Secret holding its passphrase.
        passphrase_secret: Option<String>,
    },
    /// A password from the secret store.
    Password {
        /// Secret holding it.
        secret: String,
    },
}

/// How we know the server is the right one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// An OpenSSH `known_hosts` file (`[host]:port` entries for other ports).
    KnownHosts(PathBuf),
    /// The `SHA256:...` fingerprint `ssh-keygen -lf` prints.
    Fingerprint(String),
}

/// A validated SFTP endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User.
    pub username: String,
    /// Authentication.
    pub auth: SshAuth,
    /// Host key verification.
    pub host_key: HostKeyPolicy,
    /// Deadline per step and per request.
    pub timeout: Duration,
}

impl EndpointKeys<'_> {
    /// The endpoint these keys describe, or the key at fault.
    pub fn validate(&self) -> Result<Endpoint, Invalid> {
        let host = self.host.get_ref();
        if host.is_empty() || host.contains(['/', ' ', '@']) {
            return Err(Invalid::new(
                self.host.span(),
                "host",
                "must be a host name or address (user and port go in `username` and `port`)",
            ));
        }
        if *self.port.get_ref() == 0 {
            return Err(Invalid::new(self.port.span(), "port", "must be 1 to 65535"));
        }
        if self.username.get_ref().is_empty() {
            return Err(Invalid::new(
                self.username.span(),
                "username",
                "must not be empty",
            ));
        }
        let auth = match (self.key_file, self.password_secret) {
            (Some(key), None) => SshAuth::Key {
                path: key.get_ref().clone(),
                passphrase_secret: self
                    .key_passphrase_secret
                    .map(|s| validate_secret_name(s, "key_passphrase_secret"))
                    .transpose()?,
            },
            (None, Some(secret)) => {
                if let Some(p) = self.key_passphrase_secret {
                    return Err(Invalid::new(
                        p.span(),
                        "key_passphrase_secret",
                        "is only used with key_file",
                    ));
                }
                SshAuth::Password {
                    secret: validate_secret_name(secret, "password_secret")?,
                }
            }
            (Some(_), Some(secret)) => {
                return Err(Invalid::new(
                    secret.span(),
                    "password_secret",
                    "set key_file or password_secret, not both",
                ))
            }
            (None, None) => {
                return Err(Invalid::new(
                    self.username.span(),
                    "key_file",
                    "set key_file (a private key) or password_secret (a secret's name)",
                ))
            }
        };
        let host_key = match (self.known_hosts, self.host_key_fingerprint) {
            (Some(file), None) => HostKeyPolicy::KnownHosts(file.get_ref().clone()),
            (None, Some(fp)) => {
                let value = fp.get_ref();
                let b64 = value.strip_prefix("SHA256:").unwrap_or("");
                let decoded = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD_NO_PAD,
                    b64.trim_end_matches('='),
                );
                if !matches!(decoded, Ok(bytes) if bytes.len() == 32) {
                    return Err(Invalid::new(
                        fp.span(),
                        "host_key_fingerprint",
                        "must be a SHA256 fingerprint as `ssh-keygen -lf <host key>` prints it, e.g. `SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8`",
                    ));
                }
                HostKeyPolicy::Fingerprint(format!("SHA256:{}", b64.trim_end_matches('=')))
            }
            (Some(_), Some(fp)) => {
                return Err(Invalid::new(
                    fp.span(),
                    "host_key_fingerprint",
                    "set known_hosts or host_key_fingerprint, not both",
                ))
            }
            (None, None) => {
                return Err(Invalid::new(
                    self.host.span(),
                    "known_hosts",
                    "the server's host key must be verified: set known_hosts (a file) or host_key_fingerprint",
                ))
            }
        };
        if !(1..=600).contains(self.timeout_secs.get_ref()) {
            return Err(Invalid::new(
                self.timeout_secs.span(),
                "timeout_secs",
                format!("is {}; allowed 1 to 600", self.timeout_secs.get_ref()),
            ));
        }
        Ok(Endpoint {
            host: host.clone(),
            port: *self.port.get_ref(),
            username: self.username.get_ref().clone(),
            auth,
            host_key,
            timeout: Duration::from_secs(*self.timeout_secs.get_ref()),
        })
    }
}

/// Checks the server's host key during the handshake and remembers why it
/// refused one, so the error can say so.
struct Verifier {
    host: String,
    port: u16,
    policy: HostKeyPolicy,
    refusal: Arc<Mutex<Option<String>>>,
}

impl Verifier {
    fn verdict(&self, key: &PublicKeyOrCertificate) -> Result<(), String> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Err(
                "the server presented an SSH certificate; pin its plain host key instead".into(),
            );
        };
        let seen = key.fingerprint(HashAlg::Sha256).to_string();
        match &self.policy {
            HostKeyPolicy::Fingerprint(want) if *want == seen => Ok(()),
            HostKeyPolicy::Fingerprint(want) => Err(format!(
                "host key {seen} does not match the configured host_key_fingerprint {want}"
            )),
            HostKeyPolicy::KnownHosts(file) => {
                match russh::keys::check_known_hosts_path(&self.host, self.port, key, file) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(format!(
                        "host key {seen} is not in {} (expected an entry for {})",
                        file.display(),
                        if self.port == 22 { self.host.clone() } else { format!("[{}]:{}", self.host, self.port) }
                    )),
                    Err(russh::keys::Error::KeyChanged { line }) => Err(format!(
                        "HOST KEY CHANGED: {seen} differs from line {line} of {}; someone may be intercepting the connection",
                        file.display()
                    )),
                    Err(e) => Err(format!("cannot check {}: {e}", file.display())),
                }
            }
        }
    }
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        match self.verdict(key) {
            Ok(()) => Ok(true),
            Err(reason) => {
                *self.refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
                Ok(false)
            }
        }
    }
}

/// One entry of a remote directory.
#[derive(Debug, Clone)]
pub struct RemoteEntry {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// A regular file (not a directory or link).
    pub is_file: bool,
}

/// An open SFTP session.
pub struct SftpConnection {
    ssh: client::Handle<Verifier>,
    sftp: RawSftpSession,
    posix_rename: bool,
    fsync: bool,
    label: String,
}

impl Endpoint {
    /// `user@host:port`, for messages.
    pub fn label(&self) -> String {
        format!("sftp://{}@{}:{}", self.username, self.host, self.port)
    }

    /// Fail early at start: the key parses (with its passphrase), the
    /// password secret exists, the known_hosts file is readable.
    pub fn preflight(&self, ctx: &BuildContext) -> Result<(), TransportError> {
        match &self.auth {
            SshAuth::Key { .. } => {
                self.load_key(ctx)?;
            }
            SshAuth::Password { secret } => {
                ctx.secret(secret)?;
            }
        }
        if let HostKeyPolicy::KnownHosts(file) = &self.host_key {
            std::fs::metadata(file).map_err(|e| {
                TransportError::permanent(format!(
                    "{}: known_hosts {}: {e}",
                    self.label(),
                    file.display()
                ))
            })?;
        }
        Ok(())
    }

    fn load_key(&self, ctx: &BuildContext) -> Result<PrivateKey, TransportError> {
        let SshAuth::Key {
            path,
            passphrase_secret,
        } = &self.auth
        else {
            unreachable!("only called for key authentication");
        };
        let passphrase = passphrase_secret
            .as_deref()
            .map(|s| ctx.secret(s))
            .transpose()?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            TransportError::permanent(format!("private key {}: {e}", path.display()))
        })?;
        russh::keys::decode_secret_key(&text, passphrase.as_ref().map(|p| p.expose())).map_err(
            |e| {
                TransportError::permanent(format!(
                    "private key {} cannot be used: {e}{}",
                    path.display(),
                    if passphrase.is_none() {
                        " (if it is encrypted, set key_passphrase_secret)"
                    } else {
                        ""
                    }
                ))
            },
        )
    }

    /// Connect, verify the host, authenticate and open the SFTP subsystem.
    pub async fn connect(&self, ctx: &BuildContext) -> Result<SftpConnection, TransportError> {
        let label = self.label();
        let refusal = Arc::new(Mutex::new(None));
        let verifier = Verifier {
            host: self.host.clone(),
            port: self.port,
            policy: self.host_key.clone(),
            refusal: refusal.clone(),
        };
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(self.timeout * 2),
            ..Default::default()
        });
        let connected = tokio::time::timeout(
            self.timeout,
            client::connect(config, (self.host.as_str(), self.port), verifier),
        )
        .await;
        let mut ssh = match connected {
            Err(_) => {
                return Err(TransportError::transient(format!(
                    "{label}: no SSH handshake within {} s",
                    self.timeout.as_secs()
                )))
            }
            Ok(Err(e)) => {
                if let Some(reason) = refusal.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    return Err(TransportError::auth(format!("{label}: {reason}")));
                }
                return Err(classify_ssh(&label, "connect", e));
            }
            Ok(Ok(handle)) => handle,
        };
        let step = |what: &'static str| {
            let label = label.clone();
            move |e: russh::Error| classify_ssh(&label, what, e)
        };
        let accepted = tokio::time::timeout(self.timeout, async {
            match &self.auth {
                SshAuth::Key { .. } => {
                    let key = self.load_key(ctx)?;
                    let hash = if key.algorithm().is_rsa() {
                        ssh.best_supported_rsa_hash()
                            .await
                            .map_err(step("negotiate"))?
                            .flatten()
                    } else {
                        None
                    };
                    ssh.authenticate_publickey(
                        &self.username,
                        PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                    )
                    .await
                    .map_err(step("authenticate"))
                }
                SshAuth::Password { secret } => {
                    let password = ctx.secret(secret)?;
                    ssh.authenticate_password(&self.username, password.expose())
                        .await
                        .map_err(step("authenticate"))
                }
            }
        })
        .await
        .map_err(|_| TransportError::transient(format!("{label}: authentication timed out")))??;
        if !accepted.success() {
            return Err(TransportError::auth(format!(
                "{label}: the server refused our {}",
                match self.auth {
                    SshAuth::Key { .. } => "key",
                    SshAuth::Password { .. } => "password",
                }
            )));
        }
        let channel = tokio::time::timeout(self.timeout, async {
            let channel = ssh
                .channel_open_session()
                .await
                .map_err(step("open a session"))?;
            channel
                .request_subsystem(true, "sftp")
                .await
                .map_err(step("start sftp"))?;
            Ok::<_, TransportError>(channel)
        })
        .await
        .map_err(|_| TransportError::transient(format!("{label}: opening SFTP timed out")))??;
        let sftp = RawSftpSession::new(channel.into_stream());
        sftp.set_timeout(self.timeout.as_secs().max(1));
        let version = sftp.init().await.map_err(|e| {
            TransportError::transient(format!("{label}: the SFTP subsystem did not start: {e}"))
        })?;
        let has = |name: &str| version.extensions.get(name).is_some_and(|v| v == "1");
        Ok(SftpConnection {
            ssh,
            posix_rename: has("posix-rename@openssh.com"),
            fsync: has("fsync@openssh.com"),
            sftp,
            label,
        })
    }
}

fn classify_ssh(label: &str, what: &str, e: russh::Error) -> TransportError {
    use russh::Error as E;
    let message = format!("{label}: cannot {what}: {e}");
    match e {
        E::IO(_)
        | E::ConnectionTimeout
        | E::InactivityTimeout
        | E::KeepaliveTimeout
        | E::Disconnect
        | E::HUP
        | E::SendError
        | E::ChannelOpenFailure(_) => TransportError::transient(message),
        E::UnknownKey | E::WrongServerSig | E::NotAuthenticated => TransportError::auth(message),
        _ => TransportError::permanent(message),
    }
}

/// Class of an SFTP request failure: permission problems need an operator,
/// the rest may pass.
pub fn classify_sftp(label: &str, what: &str, path: &str, e: SftpError) -> TransportError {
    let message = format!("{label}: {what} {path}: {e}");
    match &e {
        SftpError::Status(s) if s.status_code == StatusCode::PermissionDenied => {
            TransportError::auth(message)
        }
        SftpError::Status(s) if s.status_code == StatusCode::NoSuchFile => {
            TransportError::permanent(message)
        }
        _ => TransportError::transient(message),
    }
}

fn is_eof(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::Eof)
}

#[derive(serde::Serialize)]
struct PosixRename {
    oldpath: String,
    newpath: String,
}

impl SftpConnection {
    /// `user@host:port`.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn fail(&self, what: &str, path: &str) -> impl Fn(SftpError) -> TransportError + '_ {
        let what = what.to_string();
        let path = path.to_string();
        move |e| classify_sftp(&self.label, &what, &path, e)
    }

    /// The entries of a remote directory.
    pub async fn list(&self, dir: &str) -> Result<Vec<RemoteEntry>, TransportError> {
        let handle = self
            .sftp
            .opendir(dir)
            .await
            .map_err(self.fail("cannot list", dir))?
            .handle;
        let mut entries = Vec::new();
        loop {
            match self.sftp.readdir(handle.as_str()).await {
                Ok(name) => {
                    for file in name.files {
                        if file.filename == "." || file.filename == ".." {
                            continue;
                        }
                        entries.push(RemoteEntry {
                            size: file.attrs.size.unwrap_or(0),
                            mtime: file.attrs.mtime.unwrap_or(0) as u64,
                            is_file: file.attrs.is_regular(),
                            name: file.filename,
                        });
                    }
                }
                Err(e) if is_eof(&e) => break,
                Err(e) => {
                    let _ = self.sftp.close(handle.as_str()).await;
                    return Err(self.fail("cannot list", dir)(e));
                }
            }
        }
        let _ = self.sftp.close(handle).await;
        Ok(entries)
    }

    /// Size and mtime of a remote file.
    pub async fn stat(&self, path: &str) -> Result<(u64, u64), TransportError> {
        let attrs = self
            .sftp
            .stat(path)
            .await
            .map_err(self.fail("cannot stat", path))?
            .attrs;
        Ok((attrs.size.unwrap_or(0), attrs.mtime.unwrap_or(0) as u64))
    }

    async fn read_at(&self, handle: &str, offset: u64, len: usize) -> Result<Vec<u8>, SftpError> {
        // A server may answer a read with fewer bytes than asked; ask again for the rest.
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let want = (len - out.len()) as u32;
            match self
                .sftp
                .read(handle, offset + out.len() as u64, want)
                .await
            {
                Ok(data) if data.data.is_empty() => break,
                Ok(data) => out.extend_from_slice(&data.data),
                Err(e) if is_eof(&e) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Read a whole remote file of about `expected` bytes, at most `max_bytes`.
    pub async fn read(
        &self,
        path: &str,
        expected: u64,
        max_bytes: u64,
    ) -> Result<Vec<u8>, TransportError> {
        let handle = self
            .sftp
            .open(path, OpenFlags::READ, FileAttributes::default())
            .await
            .map_err(self.fail("cannot open", path))?
            .handle;
        let result = async {
            let expected = expected.min(max_bytes) as usize;
            let offsets: Vec<usize> = (0..expected).step_by(CHUNK).collect();
            let chunks: Vec<Vec<u8>> = futures::stream::iter(offsets)
                .map(|offset| self.read_at(&handle, offset as u64, CHUNK.min(expected - offset)))
                .buffered(IN_FLIGHT)
                .try_collect()
                .await?;
            let mut bytes = Vec::with_capacity(expected);
            for chunk in chunks {
                let short = chunk.len() < CHUNK;
                bytes.extend_from_slice(&chunk);
                if short {
                    break;
                }
            }
            // The file may be longer than its size said: read on to the end.
            loop {
                let more = self.read_at(&handle, bytes.len() as u64, CHUNK).await?;
                if more.is_empty() {
                    break;
                }
                bytes.extend_from_slice(&more);
                if bytes.len() as u64 > max_bytes {
                    break;
                }
            }
            Ok::<_, SftpError>(bytes)
        }
        .await;
        let _ = self.sftp.close(handle).await;
        let bytes = result.map_err(self.fail("cannot read", path))?;
        if bytes.len() as u64 > max_bytes {
            return Err(TransportError::permanent(format!(
                "{}: {path} is larger than max_bytes ({max_bytes} bytes)",
                self.label
            )));
        }
        Ok(bytes)
    }

    /// Upload `bytes` as `dir/name` so that no reader ever sees a partial
    /// file: write `dir/.name.<random>.part`, flush it, then rename it over
    /// `name` (atomically with OpenSSH's posix-rename extension).
    pub async fn upload_atomic(
        &self,
        dir: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), TransportError> {
        let dir = dir.trim_end_matches('/');
        let final_path = format!("{dir}/{name}");
        let temp_path = format!("{dir}/.{name}.{:08x}.part", rand::random::<u32>());
        let handle = self
            .sftp
            .open(
                temp_path.as_str(),
                OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::EXCLUDE,
                FileAttributes::default(),
            )
            .await
            .map_err(self.fail("cannot create", &temp_path))?
            .handle;
        let written = async {
            // Owned chunks: the stream's items must not borrow (a boxed,
            // Send future cannot name their lifetime).
            let chunks: Vec<(u64, Vec<u8>)> = bytes
                .chunks(CHUNK)
                .enumerate()
                .map(|(i, chunk)| ((i * CHUNK) as u64, chunk.to_vec()))
                .collect();
            futures::stream::iter(chunks)
                .map(|(offset, chunk)| self.sftp.write(handle.as_str(), offset, chunk))
                .buffer_unordered(IN_FLIGHT)
                .try_collect::<Vec<_>>()
                .await?;
            if self.fsync {
                self.sftp.fsync(handle.as_str()).await?;
            }
            Ok::<_, SftpError>(())
        }
        .await;
        let closed = self.sftp.close(handle).await;
        let result = match (written, closed) {
            (Err(e), _) | (Ok(()), Err(e)) => Err(self.fail("cannot write", &temp_path)(e)),
            (Ok(()), Ok(_)) => self.replace(&temp_path, &final_path).await,
        };
        if result.is_err() {
            // Best effort: do not leave temporaries behind.
            let _ = self.sftp.remove(temp_path.as_str()).await;
        }
        result
    }

    async fn replace(&self, from: &str, to: &str) -> Result<(), TransportError> {
        if self.posix_rename {
            let data = russh_sftp::ser::to_bytes(&PosixRename {
                oldpath: from.into(),
                newpath: to.into(),
            })
            .map_err(|e| TransportError::permanent(format!("{}: {e}", self.label)))?;
            return match self
                .sftp
                .extended("posix-rename@openssh.com", data.to_vec())
                .await
            {
                Ok(Packet::Status(s)) if s.status_code == StatusCode::Ok => Ok(()),
                Ok(Packet::Status(s)) => {
                    Err(self.fail("cannot rename", from)(SftpError::Status(s)))
                }
                Ok(_) => Err(TransportError::transient(format!(
                    "{}: unexpected answer to posix-rename",
                    self.label
                ))),
                Err(e) => Err(self.fail("cannot rename", from)(e)),
            };
        }
        // Plain SFTP rename refuses to replace a file: remove the old one
        // first. Readers may briefly find no file, but never a partial one.
        match self.sftp.remove(to).await {
            Ok(_) => {}
            Err(SftpError::Status(s)) if s.status_code == StatusCode::NoSuchFile => {}
            Err(e) => return Err(self.fail("cannot replace", to)(e)),
        }
        self.sftp
            .rename(from, to)
            .await
            .map(|_| ())
            .map_err(self.fail("cannot rename", from))
    }

    /// Close the session politely.
    pub async fn close(self) {
        let _ = self.sftp.close_session();
        let _ = self
            .ssh
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// The `(directory, file-name pattern)` of a remote path like `/out/stock-*.csv`.
pub fn split_remote(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((dir, name)) => (dir.into(), name.into()),
        None => (".".into(), path.into()),
    }
}

/// Resolve `key_file` and `known_hosts` against the configuration file's directory.
pub fn resolve_paths(
    base: &Path,
    key_file: Option<&mut Spanned<PathBuf>>,
    known_hosts: Option<&mut Spanned<PathBuf>>,
) {
    if let Some(k) = key_file {
        super::resolve(base, k.get_mut());
    }
    if let Some(k) = known_hosts {
        super::resolve(base, k.get_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct T {
        host: Spanned<String>,
        #[serde(default = "default_port")]
        port: Spanned<u16>,
        username: Spanned<String>,
        key_file: Option<Spanned<PathBuf>>,
        key_passphrase_secret: Option<Spanned<String>>,
        password_secret: Option<Spanned<String>>,
        known_hosts: Option<Spanned<PathBuf>>,
        host_key_fingerprint: Option<Spanned<String>>,
        #[serde(default = "default_timeout")]
        timeout_secs: Spanned<u64>,
    }

    fn endpoint(text: &str) -> Result<Endpoint, Invalid> {
        let t: T = toml::from_str(text).unwrap();
        EndpointKeys {
            host: &t.host,
            port: &t.port,
            username: &t.username,
            key_file: t.key_file.as_ref(),
            key_passphrase_secret: t.key_passphrase_secret.as_ref(),
            password_secret: t.password_secret.as_ref(),
            known_hosts: t.known_hosts.as_ref(),
            host_key_fingerprint: t.host_key_fingerprint.as_ref(),
            timeout_secs: &t.timeout_secs,
        }
        .validate()
    }

    #[test]
    fn auth_and_host_key_are_each_exactly_one() {
        let ok = endpoint(
            "host = \"sftp.example\"\nusername = \"u\"\nkey_file = \"k\"\nknown_hosts = \"kh\"",
        )
        .unwrap();
        assert_eq!(ok.port, 22);
        let fp = endpoint("host = \"h\"\nusername = \"u\"\npassword_secret = \"pw\"\nhost_key_fingerprint = \"SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8\"").unwrap();
        assert_eq!(
            fp.host_key,
            HostKeyPolicy::Fingerprint("SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8".into())
        );
        let key = |t: &str| endpoint(t).unwrap_err().key;
        assert_eq!(
            key("host = \"h\"\nusername = \"u\"\nknown_hosts = \"kh\""),
            "key_file"
        );
        assert_eq!(
            key("host = \"h\"\nusername = \"u\"\nkey_file = \"k\"\npassword_secret = \"p\"\nknown_hosts = \"kh\""),
            "password_secret"
        );
        assert_eq!(
            key("host = \"h\"\nusername = \"u\"\nkey_file = \"k\""),
            "known_hosts"
        );
        assert_eq!(
            key("host = \"h\"\nusername = \"u\"\nkey_file = \"k\"\nhost_key_fingerprint = \"MD5:ab:cd\""),
            "host_key_fingerprint"
        );
        assert_eq!(
            key("host = \"u@h\"\nusername = \"u\"\nkey_file = \"k\"\nknown_hosts = \"kh\""),
            "host"
        );
        assert_eq!(
            key("host = \"h\"\nusername = \"u\"\npassword_secret = \"p\"\nkey_passphrase_secret = \"x\"\nknown_hosts = \"kh\""),
            "key_passphrase_secret"
        );
    }

    #[test]
    fn remote_paths_split_into_directory_and_pattern() {
        assert_eq!(
            split_remote("/out/stock-*.csv"),
            ("/out".into(), "stock-*.csv".into())
        );
        assert_eq!(split_remote("/stock.csv"), ("/".into(), "stock.csv".into()));
        assert_eq!(split_remote("stock.csv"), (".".into(), "stock.csv".into()));
    }
}
