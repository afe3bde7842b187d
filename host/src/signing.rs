//! Signed plugins on the host side: the operator's trust policy
//! (`[plugins]` in the configuration), the check made when a configuration
//! loads plugins, and the `plugin keygen|sign|verify` commands.
//!
//! The signed message, key formats and the `.sig` file are defined once, in
//! the `forecourt-signing` crate, which `cargo xtask` and the tests share.

use crate::cli::{ConfigError, EXIT_CONFIG, EXIT_OK};
pub use forecourt_signing::{
    signature_path, PublicKey, SecretKey, SignatureFile, TrustedKeys, Verified, VerifyError,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// `[plugins]` in `forecourt.toml`: whose plugins this host runs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPluginTrust {
    /// Trusted publisher keys, `ed25519:<base64> [note]` each.
    #[serde(default)]
    pub trusted_keys: Vec<Spanned<String>>,
    /// A file of trusted keys, one per line (relative to the config file).
    #[serde(default)]
    pub trusted_keys_file: Option<PathBuf>,
    /// Load plugins whose signature is missing or does not check out, with a
    /// warning. Off unless the operator turns it on.
    #[serde(default)]
    pub allow_unsigned: bool,
}

/// The resolved policy.
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    /// Every trusted key, from the list and the file.
    pub trusted: TrustedKeys,
    /// See [`RawPluginTrust::allow_unsigned`].
    pub allow_unsigned: bool,
}

/// A plugin refused for its signature.
#[derive(Debug, thiserror::Error)]
#[error("plugin {path} refused: {reason}. Trust its publisher's key in [plugins] trusted_keys (or trusted_keys_file), or set [plugins] allow_unsigned = true to run unverified plugins")]
pub struct TrustError {
    /// The component.
    pub path: PathBuf,
    /// Why.
    pub reason: VerifyError,
}

/// The outcome for a plugin that may load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Signed by a trusted publisher.
    Verified(Verified),
    /// Not verified, loaded only because `allow_unsigned = true`.
    AllowedUnverified(VerifyError),
}

impl TrustPolicy {
    /// Resolve `[plugins]` of a loaded configuration (reads `trusted_keys_file`).
    pub fn from_config(raw: &RawPluginTrust) -> Result<Self, ConfigError> {
        let mut keys = Vec::new();
        for line in &raw.trusted_keys {
            keys.push(
                TrustedKeys::parse_line(line.get_ref())
                    .map_err(|e| ConfigError(format!("[plugins] trusted_keys: {e}")))?,
            );
        }
        if let Some(file) = &raw.trusted_keys_file {
            keys.extend(read_trusted_file(file)?.0);
        }
        Ok(TrustPolicy {
            trusted: TrustedKeys(keys),
            allow_unsigned: raw.allow_unsigned,
        })
    }

    /// Check a component (with its manifest beside it, `.toml`, unless given)
    /// against the policy. Reads each file once.
    pub fn check(&self, component: &Path, manifest: Option<&Path>) -> anyhow::Result<Trust> {
        let verdict = verify_files(component, manifest, Some(&self.trusted))?;
        match verdict {
            Ok(verified) => Ok(Trust::Verified(verified)),
            Err(reason) if self.allow_unsigned => {
                tracing::warn!(
                    plugin = %component.display(),
                    reason = %reason,
                    "Loading a plugin whose signature is not verified, because [plugins] allow_unsigned = true."
                );
                Ok(Trust::AllowedUnverified(reason))
            }
            Err(reason) => Err(TrustError {
                path: component.to_path_buf(),
                reason,
            }
            .into()),
        }
    }
}

/// Read a trusted-keys file; errors name the file and line.
pub fn read_trusted_file(path: &Path) -> Result<TrustedKeys, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "cannot read trusted publisher keys {}: {e}",
            path.display()
        ))
    })?;
    TrustedKeys::parse(&text)
        .map_err(|(line, e)| ConfigError(format!("{}:{line}: {e}", path.display())))
}

/// Verify a component and its manifest on disk. The outer error is an I/O
/// failure; the inner result is the verdict.
pub fn verify_files(
    component: &Path,
    manifest: Option<&Path>,
    trusted: Option<&TrustedKeys>,
) -> anyhow::Result<Result<Verified, VerifyError>> {
    use anyhow::Context;
    let manifest = manifest
        .map(Path::to_path_buf)
        .unwrap_or_else(|| component.with_extension("toml"));
    let wasm = std::fs::read(component)
        .with_context(|| format!("cannot read plugin component {}", component.display()))?;
    let manifest_bytes = std::fs::read(&manifest)
        .with_context(|| format!("cannot read plugin manifest {}", manifest.display()))?;
    let sig_path = signature_path(component);
    let signature = forecourt_signing::read_signature(&sig_path)
        .with_context(|| format!("cannot read signature {}", sig_path.display()))?;
    Ok(forecourt_signing::verify(
        &wasm,
        &manifest_bytes,
        signature.as_deref(),
        &sig_path,
        trusted,
    ))
}

/// `forecourt plugin keygen`
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the secret key (PKCS#8 PEM, mode 0600); the public key
    /// goes beside it with the extension `.pub`.
    #[arg(long, default_value = "publisher.key")]
    pub out: PathBuf,
    /// A note stored after the public key, e.g. the publisher's name.
    #[arg(long, default_value = "")]
    pub comment: String,
}

/// `forecourt plugin sign`
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The publisher's secret key (PKCS#8 PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// The component (`.wasm`); the signature is written beside it as `.sig`.
    pub component: PathBuf,
    /// Its manifest (default: beside the component, with `.toml`).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
}

/// `forecourt plugin verify`
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The component (`.wasm`), with its `.sig` beside it.
    pub component: PathBuf,
    /// Its manifest (default: beside the component, with `.toml`).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// A file of trusted publisher keys; without one, only the signature is checked.
    #[arg(long)]
    pub trusted: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Run `plugin keygen`.
pub fn keygen(args: KeygenArgs) -> anyhow::Result<u8> {
    let key = SecretKey::generate()?;
    let public = forecourt_signing::write_key_pair(&key, &args.out, &args.comment)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.out.display()))?;
    println!("secret key  {} (keep it private)", args.out.display());
    println!("public key  {}", public.display());
    println!("key id      {}", key.public().key_id());
    println!(
        "\nOperators trust it with:\n\n[plugins]\ntrusted_keys = [\"{}\"]",
        key.public()
    );
    Ok(EXIT_OK)
}

/// Run `plugin sign`.
pub fn sign(args: SignArgs) -> anyhow::Result<u8> {
    use anyhow::Context;
    let pem = std::fs::read_to_string(&args.key)
        .with_context(|| format!("cannot read secret key {}", args.key.display()))?;
    let key = SecretKey::from_pem(&pem)
        .map_err(|e| ConfigError(format!("{}: {e}", args.key.display())))?;
    let manifest_path = args
        .manifest
        .clone()
        .unwrap_or_else(|| args.component.with_extension("toml"));
    // Sign only what the host would load: a manifest that parses and a
    // component that matches it.
    let manifest = crate::manifest::Manifest::load(&manifest_path)?;
    let wasm = std::fs::read(&args.component)
        .with_context(|| format!("cannot read {}", args.component.display()))?;
    let actual = forecourt_signing::sha256_hex(&wasm);
    if !actual.eq_ignore_ascii_case(&manifest.plugin.sha256) {
        return Err(ConfigError(format!(
            "{} has sha256 {actual} but its manifest {} says {}; update the manifest before signing",
            args.component.display(),
            manifest_path.display(),
            manifest.plugin.sha256
        ))
        .into());
    }
    let manifest_bytes = std::fs::read(&manifest_path)?;
    let signature = forecourt_signing::sign(&key, &wasm, &manifest_bytes)?;
    let out = signature_path(&args.component);
    crate::files::write_atomic(&out, signature.to_toml().as_bytes())?;
    println!(
        "signed {} {} ({}) with key {}: {}",
        signature.plugin,
        signature.version,
        args.component.display(),
        signature.key_id,
        out.display()
    );
    Ok(EXIT_OK)
}

/// Run `plugin verify`: exit 0 when the signature checks out (and the
/// signer is trusted, if a list was given), 3 otherwise.
pub fn verify(args: VerifyArgs) -> anyhow::Result<u8> {
    let trusted = args.trusted.as_deref().map(read_trusted_file).transpose()?;
    let verdict = verify_files(&args.component, args.manifest.as_deref(), trusted.as_ref())?;
    if args.json {
        let value = match &verdict {
            Ok(v) => {
                serde_json::json!({"verified": true, "signer": v, "trust_checked": trusted.is_some()})
            }
            Err(e) => serde_json::json!({"verified": false, "error": e, "message": e.to_string()}),
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        match &verdict {
            Ok(v) => println!("{}", describe_verified(v, trusted.is_some())),
            Err(e) => println!("REFUSED: {e}"),
        }
    }
    Ok(if verdict.is_ok() {
        EXIT_OK
    } else {
        EXIT_CONFIG
    })
}

/// One line on a good signature.
pub fn describe_verified(v: &Verified, trust_checked: bool) -> String {
    match (&v.trusted_as, trust_checked) {
        (Some(note), _) if !note.is_empty() => {
            format!("OK: signed by trusted key {} ({note})", v.key_id)
        }
        (Some(_), _) => format!("OK: signed by trusted key {}", v.key_id),
        (None, _) => format!(
            "OK: valid signature by key {} ({}); not checked against a trust list (use --trusted FILE)",
            v.key_id, v.public_key
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(dir: &Path, key: &SecretKey) -> PathBuf {
        let wasm = b"\0asm-not-really".to_vec();
        let component = dir.join("acme.wasm");
        std::fs::write(&component, &wasm).unwrap();
        let manifest = format!(
            "[plugin]\nid = \"acme\"\nkind = \"platform\"\nversion = \"0.1.0\"\ncontract = \"1.0.0\"\nsha256 = \"{}\"\n",
            forecourt_signing::sha256_hex(&wasm)
        );
        std::fs::write(dir.join("acme.toml"), &manifest).unwrap();
        let sig = forecourt_signing::sign(key, &wasm, manifest.as_bytes()).unwrap();
        std::fs::write(dir.join("acme.sig"), sig.to_toml()).unwrap();
        component
    }

    #[test]
    fn policy_refuses_or_warns() {
        let dir = tempfile::tempdir().unwrap();
        let publisher = SecretKey::generate().unwrap();
        let component = stage(dir.path(), &publisher);
        let trusting = TrustPolicy {
            trusted: TrustedKeys::parse(&publisher.public().to_string()).unwrap(),
            allow_unsigned: false,
        };
        assert!(matches!(
            trusting.check(&component, None).unwrap(),
            Trust::Verified(_)
        ));
        let strict = TrustPolicy::default();
        let err = strict.check(&component, None).unwrap_err().to_string();
        assert!(err.contains("signer not trusted"), "{err}");
        let lenient = TrustPolicy {
            allow_unsigned: true,
            ..TrustPolicy::default()
        };
        std::fs::remove_file(dir.path().join("acme.sig")).unwrap();
        assert!(matches!(
            lenient.check(&component, None).unwrap(),
            Trust::AllowedUnverified(VerifyError::Unsigned { .. })
        ));
        let err = strict.check(&component, None).unwrap_err().to_string();
        assert!(err.contains("unsigned"), "{err}");
    }
}
