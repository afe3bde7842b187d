//! `cargo xtask polyglot`: the Python and JavaScript reference plugins
//! (`plugins/examples/python-feed`, `plugins/examples/js-feed`).
//!
//! Installs the component toolchains into `target/` on first use, each from
//! its own registry with its ordinary client (componentize-py from PyPI with
//! pip into a virtual environment, componentize-js and jco from npm), builds
//! both examples into components, and stages them signed beside the Rust
//! plugins. A component is rebuilt only when its sources, the contract or the
//! tool version changed. When a tool cannot be installed the error is also
//! written to `target/forecourt-plugins/polyglot-error.txt`, so the test
//! that compares the examples fails saying why.

use crate::{root, run, sha256_hex};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Versions known to work (docs/plugins.md; shared/reference/partner-toolchains.md).
const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";
const JCO: &str = "@bytecodealliance/jco@1.35.0";
const COMPONENTIZE_JS: &str = "@bytecodealliance/componentize-js@0.23.0";

/// Where a failure to install or build is recorded for the tests.
pub fn error_file() -> PathBuf {
    root().join("target/forecourt-plugins/polyglot-error.txt")
}

/// Build and stage both examples; record any failure for the tests.
pub fn polyglot() -> Result<(), String> {
    let _ = std::fs::remove_file(error_file());
    let result = build_all();
    if let Err(message) = &result {
        let _ = std::fs::create_dir_all(root().join("target/forecourt-plugins"));
        let _ = std::fs::write(error_file(), message);
    }
    result
}

fn build_all() -> Result<(), String> {
    let staged = root().join("target/forecourt-plugins");
    std::fs::create_dir_all(&staged).map_err(|e| e.to_string())?;
    let python = python_tool()?;
    build_if_changed("python-feed", "app.py", COMPONENTIZE_PY, |out| {
        let mut cmd = Command::new(&python);
        cmd.current_dir(root())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args([
                "-d",
                "wit",
                "-w",
                "listing-platform",
                "componentize",
                "app",
                "-p",
            ])
            .arg(example("python-feed"))
            .arg("-o")
            .arg(out);
        run(&mut cmd)
    })?;
    let componentize_js = js_tool()?;
    build_if_changed("js-feed", "app.js", COMPONENTIZE_JS, |out| {
        let mut cmd = Command::new("node");
        cmd.current_dir(root())
            .arg(example("js-feed").join("build.mjs"))
            .arg(&componentize_js)
            .arg(example("js-feed").join("app.js"))
            .arg("wit")
            .arg("listing-platform")
            .arg(out);
        run(&mut cmd)
    })?;
    Ok(())
}

fn example(name: &str) -> PathBuf {
    root().join("plugins/examples").join(name)
}

/// componentize-py in `target/py-tools/venv`, installed with pip on first use.
fn python_tool() -> Result<PathBuf, String> {
    let venv = root().join("target/py-tools/venv");
    let tool = venv.join("bin/componentize-py");
    if tool.exists() {
        return Ok(tool);
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success()))
        .ok_or("cannot build the Python example: no python3 on PATH (install Python 3.10 or newer, e.g. `apt-get install python3 python3-venv`)")?;
    run(Command::new(python).arg("-m").arg("venv").arg(&venv)).map_err(|e| {
        format!("cannot create a Python virtual environment for componentize-py ({e}); on Debian install python3-venv")
    })?;
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", COMPONENTIZE_PY]))
        .map_err(|e| format!("cannot install {COMPONENTIZE_PY} from PyPI: {e}"))?;
    Ok(tool)
}

/// componentize-js under `target/js-tools`, installed with npm on first use.
fn js_tool() -> Result<PathBuf, String> {
    let prefix = root().join("target/js-tools");
    let module = prefix.join("node_modules/@bytecodealliance/componentize-js");
    if module.join("src/componentize.js").exists() {
        return Ok(module);
    }
    if !Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err("cannot build the JavaScript example: no node on PATH (install Node.js 18 or newer, e.g. `apt-get install nodejs npm`)".into());
    }
    run(Command::new("npm")
        .arg("install")
        .arg("--no-audit")
        .arg("--no-fund")
        .arg("--prefix")
        .arg(&prefix)
        .args([JCO, COMPONENTIZE_JS]))
    .map_err(|e| format!("cannot install {JCO} and {COMPONENTIZE_JS} from npm: {e}"))?;
    Ok(module)
}

/// What a build depends on: the example's files, the contract and the tool.
fn inputs_hash(name: &str, tool: &str) -> Result<String, String> {
    let mut files: Vec<PathBuf> = Vec::new();
    collect(&example(name), &mut files);
    collect(&root().join("wit"), &mut files);
    files.sort();
    let mut all = tool.as_bytes().to_vec();
    for f in files {
        all.extend_from_slice(f.to_string_lossy().as_bytes());
        all.extend(std::fs::read(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?);
    }
    Ok(sha256_hex(&all))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "__pycache__") {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn build_if_changed(
    name: &str,
    source: &str,
    tool: &str,
    build: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), String> {
    let staged = root().join("target/forecourt-plugins");
    let wasm = staged.join(format!("{name}.wasm"));
    let stamp = staged.join(format!("{name}.inputs"));
    let hash = inputs_hash(name, tool)?;
    let fresh = wasm.exists()
        && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == hash)
        && staged.join(format!("{name}.sig")).exists();
    if fresh {
        eprintln!("xtask: {name} is up to date");
        return Ok(());
    }
    eprintln!("xtask: building {name} from plugins/examples/{name}/{source}");
    build(&wasm)?;
    let bytes = std::fs::read(&wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
    let manifest = std::fs::read_to_string(example(name).join("forecourt.toml"))
        .map_err(|e| format!("plugins/examples/{name}/forecourt.toml: {e}"))?;
    std::fs::write(
        staged.join(format!("{name}.toml")),
        crate::with_sha256(&manifest, &sha256_hex(&bytes)),
    )
    .map_err(|e| e.to_string())?;
    crate::sign_staged(&staged, &[name.to_string()])?;
    std::fs::write(&stamp, hash).map_err(|e| e.to_string())?;
    Ok(())
}
