//! `cargo xtask <task>`: the project's build tasks, so the README's two
//! commands work on a machine with nothing but rustup's stable toolchain.
//!
//! - `plugins`: install the `wasm32-wasip2` target if missing, build every
//!   crate in `plugins/` and `tests/guests/` for it, and stage the components
//!   with their manifests (sha256 filled in) in `target/forecourt-plugins/`.
//! - `demo [ARGS]`: `plugins`, then `forecourt demo ARGS`.
//! - `test`: `plugins`, then every test of the host, the end-to-end suite
//!   and the plugins' own (native) golden tests, with the SDK's.
//! - `bench`: `plugins`, then `forecourt bench`.
//! - `polyglot`: install componentize-py and componentize-js under
//!   `target/`, build the Python and JavaScript example plugins and stage
//!   them signed (`test` runs it too; see [`polyglot`]).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod polyglot;

const WASM_TARGET: &str = "wasm32-wasip2";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("plugins") => plugins().map(|_| ()),
        Some("demo") => plugins().and_then(|_| demo(&args[1..])),
        // Tools and services first: the polyglot build needs node and python3-venv.
        Some("test") => test_services().and_then(|_| plugins()).and_then(|crates| {
            // A missing toolchain fails the example test with the reason
            // (recorded by `polyglot`), not the whole run.
            if let Err(e) = polyglot::polyglot() {
                eprintln!("xtask: the Python/JavaScript examples could not be built: {e}");
            }
            test(&crates, &args[1..])
        }),
        Some("polyglot") => plugins().and_then(|_| polyglot::polyglot()),
        Some("bench") => plugins().and_then(|_| bench(&args[1..])),
        _ => {
            eprintln!("usage: cargo xtask <plugins|polyglot|demo [ARGS]|test [ARGS]|bench [ARGS]>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup (needed to install {WASM_TARGET}): {e}"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// A guest crate: its directory and package name.
struct GuestCrate {
    dir: PathBuf,
    package: String,
}

fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(rest) = line.strip_prefix("name") {
                let value = rest
                    .trim_start()
                    .strip_prefix('=')?
                    .trim()
                    .trim_matches('"');
                return Some(value.to_string());
            }
        }
    }
    None
}

/// Crates in `parent` that are members of the workspace.
fn guest_crates(parent: &str) -> Vec<GuestCrate> {
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap_or_default();
    let mut crates = Vec::new();
    let Ok(entries) = std::fs::read_dir(root().join(parent)) else {
        return crates;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let member = format!("\"{parent}/{}\"", entry.file_name().to_string_lossy());
        if !workspace.contains(&member) {
            continue;
        }
        if let Some(package) = package_name(&dir.join("Cargo.toml")) {
            crates.push(GuestCrate { dir, package });
        }
    }
    crates.sort_by(|a, b| a.package.cmp(&b.package));
    crates
}

/// Build every plugin and guest; return the plugin crates (for their tests).
fn plugins() -> Result<Vec<String>, String> {
    ensure_wasm_target()?;
    let plugins = guest_crates("plugins");
    let guests = guest_crates("tests/guests");
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "--target",
        WASM_TARGET,
        "--target-dir",
        "target/plugins",
    ]);
    for c in plugins.iter().chain(&guests) {
        cmd.args(["-p", &c.package]);
    }
    run(&mut cmd)?;

    let built = root()
        .join("target/plugins")
        .join(WASM_TARGET)
        .join("release");
    let staged = root().join("target/forecourt-plugins");
    std::fs::create_dir_all(staged.join("guests"))
        .map_err(|e| format!("cannot create {}: {e}", staged.display()))?;
    let mut staged_ids = Vec::new();
    for c in &plugins {
        let wasm = built.join(format!("{}.wasm", c.package.replace('-', "_")));
        let manifest_src = c.dir.join("forecourt.toml");
        let manifest = std::fs::read_to_string(&manifest_src).map_err(|e| {
            format!(
                "plugin {} has no readable {}: {e}",
                c.package,
                manifest_src.display()
            )
        })?;
        let id = manifest_value(&manifest, "id")
            .ok_or_else(|| format!("{} has no [plugin] id", manifest_src.display()))?;
        let bytes =
            std::fs::read(&wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
        let sha = sha256_hex(&bytes);
        stage_file(&staged.join(format!("{id}.wasm")), &bytes)?;
        stage_file(
            &staged.join(format!("{id}.toml")),
            with_sha256(&manifest, &sha).as_bytes(),
        )?;
        staged_ids.push(id);
    }
    sign_staged(&staged, &staged_ids)?;
    for c in &guests {
        let wasm = built.join(format!("{}.wasm", c.package.replace('-', "_")));
        let name = c.package.trim_start_matches("guest-");
        let bytes =
            std::fs::read(&wasm).map_err(|e| format!("cannot stage {}: {e}", wasm.display()))?;
        stage_file(&staged.join("guests").join(format!("{name}.wasm")), &bytes)?;
    }
    eprintln!("xtask: components staged in {}", staged.display());
    Ok(plugins.into_iter().map(|c| c.package).collect())
}

/// Write a staged file as a new inode: a hard-linked copy of `target/`
/// (a second worktree) must not see its plugins change underneath it.
fn stage_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot replace {}: {e}", path.display())),
    }
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Where the development publisher key lives: under `target/`, made once,
/// never committed.
fn dev_key_path() -> PathBuf {
    root().join("target/dev-publisher/dev-publisher.key")
}

/// The file name of the development public key, staged beside the plugins
/// so the demo and the tests can trust it.
const DEV_PUBLIC_KEY: &str = "dev-publisher.pub";

/// The development publisher key, made on first use.
fn dev_key() -> Result<forecourt_signing::SecretKey, String> {
    let path = dev_key_path();
    if !path.exists() {
        std::fs::create_dir_all(path.parent().expect("has a parent"))
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let key = forecourt_signing::SecretKey::generate().map_err(|e| e.to_string())?;
        forecourt_signing::write_key_pair(
            &key,
            &path,
            "forecourt development publisher (target/, never for production)",
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!(
            "xtask: made the development publisher key {}",
            path.display()
        );
    }
    let pem = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    forecourt_signing::SecretKey::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
}

/// Sign every staged plugin with the development key and stage its public key.
fn sign_staged(staged: &Path, ids: &[String]) -> Result<(), String> {
    let key = dev_key()?;
    let public = dev_key_path().with_extension("pub");
    let public_bytes =
        std::fs::read(&public).map_err(|e| format!("cannot stage {}: {e}", public.display()))?;
    stage_file(&staged.join(DEV_PUBLIC_KEY), &public_bytes)?;
    for id in ids {
        let read = |ext: &str| {
            let p = staged.join(format!("{id}.{ext}"));
            std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        let signature = forecourt_signing::sign(&key, &read("wasm")?, &read("toml")?)
            .map_err(|e| format!("cannot sign {id}: {e}"))?;
        stage_file(
            &staged.join(format!("{id}.sig")),
            signature.to_toml().as_bytes(),
        )?;
    }
    eprintln!(
        "xtask: signed {} plugin(s) with development key {}",
        ids.len(),
        key.public().key_id()
    );
    Ok(())
}

fn manifest_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

fn with_sha256(text: &str, sha: &str) -> String {
    text.lines()
        .map(|l| match l.split_once('=') {
            Some((k, _)) if k.trim() == "sha256" => format!("sha256 = \"{sha}\""),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn demo(args: &[String]) -> Result<(), String> {
    run(cargo()
        .args(["run", "-p", "forecourt", "--", "demo"])
        .args(args))
}

fn bench(args: &[String]) -> Result<(), String> {
    run(cargo()
        .args(["run", "-p", "forecourt", "--", "bench"])
        .args(args))?;
    // Wasm versus native needs the plugin's code linked natively.
    run(cargo().args(["run", "-p", "forecourt-tests", "--bin", "transform-ratio"]))
}

/// Installs what the tests start for real when missing (OpenSSH, SMTP,
/// Chromium) and the Python/JavaScript component toolchains' prerequisites.
fn test_services() -> Result<(), String> {
    run(Command::new("bash").arg(root().join("xtask/scripts/test-services.sh")))
}

fn test(plugin_crates: &[String], args: &[String]) -> Result<(), String> {
    // Host, end-to-end and adversarial tests.
    run(cargo()
        .args([
            "test",
            "-p",
            "forecourt",
            "-p",
            "forecourt-tests",
            "-p",
            "forecourt-signing",
        ])
        .args(args))?;
    // The plugins' golden tests run natively, in the plugins' target dir.
    if !plugin_crates.is_empty() {
        let mut cmd = cargo();
        cmd.args(["test", "--target-dir", "target/plugins"]);
        // The SDK's own tests: the normalisation and record rules every source shares.
        cmd.args(["-p", "forecourt-sdk"]);
        for p in plugin_crates {
            cmd.args(["-p", p]);
        }
        run(cmd.args(args))?;
    }
    Ok(())
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_known_vectors() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177ae9dac0c61b8e0a4e4e"
        );
    }
}
