//! Publisher signatures for forecourt plugins.
//!
//! A publisher signs, with an Ed25519 key, a short canonical message that
//! binds the plugin's identity (id, version, kind from its manifest) to the
//! sha256 of its component and the sha256 of its manifest. The signature
//! travels in a sidecar file beside the component (`<id>.sig`, TOML). An
//! operator lists the publisher keys it trusts; the host refuses a plugin
//! whose signature is missing, invalid, by an untrusted key, or made for a
//! different component or manifest, and says which.
//!
//! This crate is shared by the host (`forecourt plugin sign|verify`, and the
//! check when a configuration loads plugins), `cargo xtask plugins` (which
//! signs staged plugins with a development key) and the tests, so there is
//! exactly one definition of the signed message.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The first line of the signed message and the `format` of a signature file.
pub const FORMAT: &str = "forecourt-plugin-signature-v1";

/// Prefix of a public key in text form: `ed25519:<base64 of 32 bytes>`.
pub const PUBLIC_KEY_PREFIX: &str = "ed25519:";

/// What can go wrong reading keys or signing.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A public key that is not `ed25519:<base64 of 32 bytes>`.
    #[error("`{text}` is not a public key: {reason} (expected `ed25519:<base64 of 32 bytes>`)")]
    PublicKey {
        /// The text, shortened.
        text: String,
        /// Why.
        reason: String,
    },
    /// A secret key file that is not an Ed25519 PKCS#8 PEM.
    #[error("not an Ed25519 secret key in PKCS#8 PEM form: {0}")]
    SecretKey(String),
    /// The manifest could not be read for the plugin's identity.
    #[error("manifest: {0}")]
    Manifest(String),
    /// The operating system's random source failed.
    #[error("no random bytes for a new key: {0}")]
    Random(String),
}

/// A publisher's public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl PublicKey {
    /// Parse `ed25519:<base64>`.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bad = |reason: &str| KeyError::PublicKey {
            text: text.chars().take(60).collect(),
            reason: reason.into(),
        };
        let b64 = text
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or_else(|| bad("it does not start with `ed25519:`"))?;
        let bytes = BASE64
            .decode(b64)
            .map_err(|e| bad(&format!("bad base64: {e}")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| bad(&format!("{} bytes instead of 32", b.len())))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| bad("not a point on the Ed25519 curve"))
    }

    /// A short, stable name: the first 16 hex digits of the key's sha256.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PUBLIC_KEY_PREFIX}{}", BASE64.encode(self.0.as_bytes()))
    }
}

/// A publisher's secret key.
pub struct SecretKey(ed25519_dalek::SigningKey);

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// Read a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as written by
    /// [`SecretKey::to_pem`] or `openssl genpkey -algorithm ed25519`.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map(SecretKey)
            .map_err(|e| KeyError::SecretKey(e.to_string()))
    }

    /// The key as PKCS#8 PEM.
    pub fn to_pem(&self) -> String {
        self.0
            .to_pkcs8_pem(Default::default())
            .expect("an Ed25519 key always encodes")
            .to_string()
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }
}

/// What is signed: the plugin's identity and the hashes of its two files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// `[plugin] id` of the manifest.
    pub plugin: String,
    /// `[plugin] version`.
    pub version: String,
    /// `[plugin] kind`.
    pub kind: String,
    /// Hex sha256 of the component file.
    pub component_sha256: String,
    /// Hex sha256 of the manifest file, byte for byte.
    pub manifest_sha256: String,
}

#[derive(Deserialize)]
struct ManifestIdentity {
    plugin: PluginIdentity,
}

#[derive(Deserialize)]
struct PluginIdentity {
    id: String,
    version: String,
    kind: String,
}

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Subject {
    /// The subject of a component and its manifest (the identity is read from
    /// the manifest's `[plugin]` table; other keys are not interpreted here).
    pub fn of(component: &[u8], manifest: &[u8]) -> Result<Self, KeyError> {
        let text =
            std::str::from_utf8(manifest).map_err(|_| KeyError::Manifest("is not UTF-8".into()))?;
        let identity: ManifestIdentity =
            toml::from_str(text).map_err(|e| KeyError::Manifest(e.message().to_string()))?;
        Ok(Subject {
            plugin: identity.plugin.id,
            version: identity.plugin.version,
            kind: identity.plugin.kind,
            component_sha256: sha256_hex(component),
            manifest_sha256: sha256_hex(manifest),
        })
    }

    /// The canonical message: one `name=value` line each, in this order.
    /// Values are single-line by construction (ids, versions, hex digests);
    /// a line break in one would be rejected by the manifest parser first.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "{FORMAT}\nplugin={}\nversion={}\nkind={}\ncomponent-sha256={}\nmanifest-sha256={}\n",
            self.plugin, self.version, self.kind, self.component_sha256, self.manifest_sha256
        )
        .into_bytes()
    }
}

/// The sidecar signature file (`<id>.sig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// `[plugin] id` of the signed manifest.
    pub plugin: String,
    /// `[plugin] version`.
    pub version: String,
    /// `[plugin] kind`.
    pub kind: String,
    /// Hex sha256 of the signed component.
    pub component_sha256: String,
    /// Hex sha256 of the signed manifest.
    pub manifest_sha256: String,
    /// The signer's key id ([`PublicKey::key_id`]).
    pub key_id: String,
    /// The signer's public key, `ed25519:<base64>`.
    pub public_key: String,
    /// The Ed25519 signature of [`Subject::message`], base64.
    pub signature: String,
}

impl SignatureFile {
    /// What the file says was signed.
    pub fn subject(&self) -> Subject {
        Subject {
            plugin: self.plugin.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
            component_sha256: self.component_sha256.clone(),
            manifest_sha256: self.manifest_sha256.clone(),
        }
    }

    /// Parse a signature file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: SignatureFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if file.format != FORMAT {
            return Err(format!(
                "format is `{}`; this host reads `{FORMAT}`",
                file.format
            ));
        }
        Ok(file)
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        format!(
            "# forecourt plugin signature: see docs/plugins.md, \"Signing\".\n{}",
            toml::to_string(self).expect("a signature file always serialises")
        )
    }
}

/// Sign a component and its manifest.
pub fn sign(key: &SecretKey, component: &[u8], manifest: &[u8]) -> Result<SignatureFile, KeyError> {
    let subject = Subject::of(component, manifest)?;
    let signature = key.0.sign(&subject.message());
    let public = key.public();
    Ok(SignatureFile {
        format: FORMAT.into(),
        plugin: subject.plugin,
        version: subject.version,
        kind: subject.kind,
        component_sha256: subject.component_sha256,
        manifest_sha256: subject.manifest_sha256,
        key_id: public.key_id(),
        public_key: public.to_string(),
        signature: BASE64.encode(signature.to_bytes()),
    })
}

/// One trusted publisher key, with the operator's note on whose it is.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The key.
    pub key: PublicKey,
    /// Text after the key on its line, e.g. `acme-listings release key`.
    pub comment: String,
}

/// The operator's list of publisher keys.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys(pub Vec<TrustedKey>);

impl TrustedKeys {
    /// Parse one key line: `ed25519:<base64> [comment]`.
    pub fn parse_line(line: &str) -> Result<TrustedKey, KeyError> {
        let line = line.trim();
        let (key, comment) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        Ok(TrustedKey {
            key: PublicKey::parse(key)?,
            comment: comment.trim().to_string(),
        })
    }

    /// Parse a trusted-keys file: one key per line; blank lines and lines
    /// starting with `#` are ignored. Errors name the 1-based line.
    pub fn parse(text: &str) -> Result<Self, (usize, KeyError)> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            keys.push(Self::parse_line(line).map_err(|e| (n + 1, e))?);
        }
        Ok(TrustedKeys(keys))
    }

    /// The entry for this key, if trusted.
    pub fn find(&self, key: &PublicKey) -> Option<&TrustedKey> {
        self.0.iter().find(|t| &t.key == key)
    }
}

/// A signature that checked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The signer's key id.
    pub key_id: String,
    /// The signer's public key.
    pub public_key: String,
    /// The operator's note on the key, when a trust list was consulted and
    /// the key is on it.
    pub trusted_as: Option<String>,
}

/// Why a plugin's signature is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum VerifyError {
    /// No signature file.
    #[error("unsigned: there is no signature file {path}; sign it with `forecourt plugin sign --key KEY` or ask its publisher for the .sig")]
    Unsigned {
        /// Where the signature was looked for.
        path: String,
    },
    /// The signature file cannot be read.
    #[error("signature file {path} is malformed: {message}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The signature does not verify under the key it names.
    #[error("signature invalid: the signature in {path} does not verify under key {key_id}; the signature file was altered or damaged")]
    BadSignature {
        /// The file.
        path: String,
        /// The key it names.
        key_id: String,
    },
    /// The component is not the one that was signed.
    #[error("component changed: its sha256 is {actual} but {signed} was signed")]
    ComponentChanged {
        /// What was signed.
        signed: String,
        /// What is on disk.
        actual: String,
    },
    /// The manifest is not the one that was signed.
    #[error("manifest changed: its sha256 is {actual} but {signed} was signed (a grant, limit or origin was edited after signing)")]
    ManifestChanged {
        /// What was signed.
        signed: String,
        /// What is on disk.
        actual: String,
    },
    /// A valid signature by a key the operator does not trust.
    #[error("signer not trusted: signed by key {key_id} ({public_key}), which is not in the trusted publisher keys")]
    Untrusted {
        /// The signer's key id.
        key_id: String,
        /// The signer's public key.
        public_key: String,
    },
}

/// Check `signature` (the sidecar's text, `None` if there is none) against
/// the component and manifest bytes, and, when `trusted` is given, the
/// signer against the operator's list. `sig_path` is only used in messages.
pub fn verify(
    component: &[u8],
    manifest: &[u8],
    signature: Option<&str>,
    sig_path: &Path,
    trusted: Option<&TrustedKeys>,
) -> Result<Verified, VerifyError> {
    let path = sig_path.display().to_string();
    let Some(text) = signature else {
        return Err(VerifyError::Unsigned { path });
    };
    let malformed = |message: String| VerifyError::Malformed {
        path: path.clone(),
        message,
    };
    let file = SignatureFile::parse(text).map_err(&malformed)?;
    let key = PublicKey::parse(&file.public_key).map_err(|e| malformed(e.to_string()))?;
    if key.key_id() != file.key_id {
        return Err(malformed(format!(
            "key_id {} is not the id of its public key ({})",
            file.key_id,
            key.key_id()
        )));
    }
    let bytes = BASE64
        .decode(file.signature.trim())
        .map_err(|e| malformed(format!("signature is not base64: {e}")))?;
    let signature = ed25519_dalek::Signature::from_slice(&bytes)
        .map_err(|_| malformed(format!("signature is {} bytes, not 64", bytes.len())))?;
    // The recorded subject is what the signer vouched for; only once that is
    // established do the differences from the files on disk mean anything.
    key.0
        .verify(&file.subject().message(), &signature)
        .map_err(|_| VerifyError::BadSignature {
            path: path.clone(),
            key_id: file.key_id.clone(),
        })?;
    let actual_component = sha256_hex(component);
    if !actual_component.eq_ignore_ascii_case(&file.component_sha256) {
        return Err(VerifyError::ComponentChanged {
            signed: file.component_sha256,
            actual: actual_component,
        });
    }
    let actual_manifest = sha256_hex(manifest);
    if !actual_manifest.eq_ignore_ascii_case(&file.manifest_sha256) {
        return Err(VerifyError::ManifestChanged {
            signed: file.manifest_sha256,
            actual: actual_manifest,
        });
    }
    let trusted_as = match trusted {
        None => None,
        Some(list) => match list.find(&key) {
            Some(entry) => Some(entry.comment.clone()),
            None => {
                return Err(VerifyError::Untrusted {
                    key_id: file.key_id,
                    public_key: file.public_key,
                })
            }
        },
    };
    Ok(Verified {
        key_id: file.key_id,
        public_key: file.public_key,
        trusted_as,
    })
}

/// Where a component's signature lives: beside it, `<stem>.sig`.
pub fn signature_path(component: &Path) -> PathBuf {
    component.with_extension("sig")
}

/// Read a signature file, `None` if it does not exist.
pub fn read_signature(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Write a secret key (mode 0600 on Unix) and its public key (`<path>.pub`
/// beside it, with the extension replaced). Refuses to overwrite either.
pub fn write_key_pair(key: &SecretKey, path: &Path, comment: &str) -> std::io::Result<PathBuf> {
    use std::io::Write as _;
    let public_path = path.with_extension("pub");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    if public_path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", public_path.display()),
        ));
    }
    let mut file = options.open(path)?;
    file.write_all(key.to_pem().as_bytes())?;
    file.sync_all()?;
    let line = format!("{} {}\n", key.public(), comment.trim()).replace(" \n", "\n");
    std::fs::write(&public_path, line)?;
    Ok(public_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &[u8] =
        b"[plugin]\nid = \"acme\"\nkind = \"platform\"\nversion = \"1.2.0\"\ncontract = \"1.0.0\"\nsha256 = \"\"\n";

    fn key() -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]))
    }

    fn trusted(k: &SecretKey) -> TrustedKeys {
        TrustedKeys::parse(&format!("# ours\n\n{} acme release\n", k.public())).unwrap()
    }

    fn check(
        component: &[u8],
        manifest: &[u8],
        sig: &SignatureFile,
    ) -> Result<Verified, VerifyError> {
        verify(
            component,
            manifest,
            Some(&sig.to_toml()),
            Path::new("acme.sig"),
            Some(&trusted(&key())),
        )
    }

    #[test]
    fn message_is_canonical() {
        let s = Subject::of(b"wasm", MANIFEST).unwrap();
        assert_eq!(s.plugin, "acme");
        let text = String::from_utf8(s.message()).unwrap();
        assert!(text.starts_with("forecourt-plugin-signature-v1\nplugin=acme\nversion=1.2.0\nkind=platform\ncomponent-sha256="), "{text}");
        assert!(text.ends_with(&format!("manifest-sha256={}\n", sha256_hex(MANIFEST))));
    }

    #[test]
    fn signs_and_verifies_through_the_file_form() {
        let sig = sign(&key(), b"wasm", MANIFEST).unwrap();
        let parsed = SignatureFile::parse(&sig.to_toml()).unwrap();
        assert_eq!(parsed, sig);
        let ok = check(b"wasm", MANIFEST, &sig).unwrap();
        assert_eq!(ok.key_id, key().public().key_id());
        assert_eq!(ok.trusted_as.as_deref(), Some("acme release"));
    }

    #[test]
    fn every_refusal_names_its_reason() {
        let sig = sign(&key(), b"wasm", MANIFEST).unwrap();
        assert!(matches!(
            check(b"wasm!", MANIFEST, &sig),
            Err(VerifyError::ComponentChanged { .. })
        ));
        let mut manifest = MANIFEST.to_vec();
        manifest.extend_from_slice(b"[[http]]\norigin = \"https://evil.example\"\n");
        assert!(matches!(
            check(b"wasm", &manifest, &sig),
            Err(VerifyError::ManifestChanged { .. })
        ));
        // Re-pointing the recorded hash at the tampered file breaks the signature.
        let mut forged = sig.clone();
        forged.component_sha256 = sha256_hex(b"wasm!");
        assert!(matches!(
            check(b"wasm!", MANIFEST, &forged),
            Err(VerifyError::BadSignature { .. })
        ));
        let stranger = SecretKey(ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]));
        let theirs = sign(&stranger, b"wasm", MANIFEST).unwrap();
        let err = check(b"wasm", MANIFEST, &theirs).unwrap_err();
        assert!(matches!(err, VerifyError::Untrusted { .. }));
        assert!(err.to_string().starts_with("signer not trusted"), "{err}");
        let err = verify(b"wasm", MANIFEST, None, Path::new("acme.sig"), None).unwrap_err();
        assert!(err.to_string().starts_with("unsigned"), "{err}");
        let err = verify(
            b"wasm",
            MANIFEST,
            Some("format = 3"),
            Path::new("acme.sig"),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, VerifyError::Malformed { .. }), "{err}");
    }

    #[test]
    fn keys_round_trip() {
        let k = SecretKey::generate().unwrap();
        let again = SecretKey::from_pem(&k.to_pem()).unwrap();
        assert_eq!(again.public(), k.public());
        let text = k.public().to_string();
        assert_eq!(PublicKey::parse(&text).unwrap(), k.public());
        assert_eq!(k.public().key_id().len(), 16);
        assert!(PublicKey::parse("ed25519:AAAA").is_err());
        assert!(PublicKey::parse("rsa:AAAA").is_err());
        let err = TrustedKeys::parse("# x\nnot-a-key\n").unwrap_err();
        assert_eq!(err.0, 2);
    }

    #[test]
    fn key_pair_files_are_private_and_not_overwritten() {
        let dir = std::env::temp_dir().join(format!("fc-sign-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("publisher.key");
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(dir.join("publisher.pub"));
        let k = SecretKey::generate().unwrap();
        let public = write_key_pair(&k, &path, "acme").unwrap();
        let line = std::fs::read_to_string(&public).unwrap();
        assert_eq!(TrustedKeys::parse(&line).unwrap().0[0].comment, "acme");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(write_key_pair(&k, &path, "acme").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
