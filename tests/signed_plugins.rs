//! Signed plugins, adversarially: a configuration loads only plugins signed
//! by a publisher it trusts, over the very component and manifest on disk,
//! and says why it refuses one. The staged reference plugins are signed by
//! `cargo xtask plugins` with the development key the test configurations
//! trust (so every end-to-end test also goes through the signature check).

use forecourt::config::RawConfig;
use forecourt_tests::*;
use std::path::{Path, PathBuf};

/// A pipeline configuration over freshly staged, signed plugins.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    // No sandbox is needed to load: the origin only has to be well-formed.
    let plugins = plugins_for_sandbox(dir, 9);
    let config = pipeline_config(dir, &plugins, "http://127.0.0.1:9", "");
    (plugins, config)
}

/// Build the app from `config`; the error chain as text if refused.
async fn build(config: &Path) -> Result<(), String> {
    let config = RawConfig::load(config).map_err(|e| e.to_string())?;
    match forecourt::app::build_with_secrets(&config, Some(sandbox_secrets())).await {
        Ok(_) => Ok(()),
        Err(e) => {
            assert_eq!(
                forecourt::cli::exit_code_for(&e),
                forecourt::cli::EXIT_CONFIG,
                "a refused plugin is a configuration error: {e:#}"
            );
            Err(format!("{e:#}"))
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_by_the_trusted_key_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (_, config) = setup(dir.path());
    build(&config).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_is_refused_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, config) = setup(dir.path());
    std::fs::remove_file(plugins.join("autotrader.sig")).unwrap();
    let err = build(&config).await.unwrap_err();
    assert!(err.contains("platform[0] `autotrader`"), "{err}");
    assert!(
        err.contains("unsigned: there is no signature file"),
        "{err}"
    );
    assert!(
        err.contains("allow_unsigned"),
        "the error says how to proceed: {err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, config) = setup(dir.path());
    let path = plugins.join("csv-export.wasm");
    let mut wasm = std::fs::read(&path).unwrap();
    // A custom section appended: still a valid component, different bytes.
    wasm.extend_from_slice(&[0, 5, 4, b'e', b'v', b'i', b'l']);
    std::fs::write(&path, &wasm).unwrap();
    let err = build(&config).await.unwrap_err();
    assert!(err.contains("source[0] `dms`"), "{err}");
    assert!(err.contains("component changed"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, config) = setup(dir.path());
    // Widen the grant after signing: exactly what signing must catch.
    let path = plugins.join("google-vehicle-ads.toml");
    let manifest = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        manifest.replace("memory_mib = 64", "memory_mib = 1024"),
    )
    .unwrap();
    let err = build(&config).await.unwrap_err();
    assert!(err.contains("platform[1] `google`"), "{err}");
    assert!(err.contains("manifest changed"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signer_the_operator_does_not_trust_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, config) = setup(dir.path());
    let stranger = forecourt_signing::SecretKey::generate().unwrap();
    sign_with(&stranger, &plugins.join("autotrader.wasm"));
    let err = build(&config).await.unwrap_err();
    assert!(err.contains("signer not trusted"), "{err}");
    assert!(
        err.contains(&stranger.public().key_id()),
        "names the key: {err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_signature_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, config) = setup(dir.path());
    // Point the signed hash at a tampered component: the signature no longer verifies.
    let path = plugins.join("csv-export.wasm");
    let mut wasm = std::fs::read(&path).unwrap();
    wasm.extend_from_slice(&[0, 5, 4, b'e', b'v', b'i', b'l']);
    std::fs::write(&path, &wasm).unwrap();
    let sig_path = plugins.join("csv-export.sig");
    let sig = std::fs::read_to_string(&sig_path).unwrap();
    let old = sig
        .lines()
        .find_map(|l| l.strip_prefix("component_sha256 = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    std::fs::write(&sig_path, sig.replace(&old, &sha256_hex(&wasm))).unwrap();
    let err = build(&config).await.unwrap_err();
    assert!(err.contains("signature invalid"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_unsigned_loads_what_it_cannot_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (plugins, config) = setup(dir.path());
    std::fs::remove_file(plugins.join("autotrader.sig")).unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[plugins]\n", "[plugins]\nallow_unsigned = true\n"),
    )
    .unwrap();
    build(&config).await.unwrap();
    // The policy reports what it let through (the host logs it as a warning).
    let raw = RawConfig::load(&config).unwrap();
    let policy = forecourt::signing::TrustPolicy::from_config(&raw.plugins).unwrap();
    let trust = policy
        .check(&plugins.join("autotrader.wasm"), None)
        .unwrap();
    assert!(
        matches!(
            trust,
            forecourt::signing::Trust::AllowedUnverified(
                forecourt::signing::VerifyError::Unsigned { .. }
            )
        ),
        "{trust:?}"
    );
}

#[test]
fn a_malformed_trusted_key_names_file_line_and_key() {
    let err = RawConfig::parse(
        "[plugins]\ntrusted_keys = [\"ed25519:AAAA\"]\n",
        "forecourt.toml",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    assert_eq!(err.key, "plugins.trusted_keys[0]");
    assert!(err.message.contains("not a public key"), "{err}");
}
