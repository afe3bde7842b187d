//! Generates the bindings of the `dms-snapshot-source` world.
//!
//! The other worlds are generated in `src/lib.rs` with `wit_bindgen::generate!`.
//! This one cannot be: it exports `source` as `dms-source` does, and with
//! `pub_export_macro` wit-bindgen names each interface's export macro after
//! the interface alone (`__export_forecourt_plugin_source_1_2_0_cabi`) and
//! `#[macro_export]`s it at the crate root, so two worlds exporting one
//! interface cannot live in one crate (wit-bindgen issue #1502). So this
//! script runs the same generator the macro runs, with the same options, and
//! renames that one macro before `src/lib.rs` includes the result.

use std::path::{Path, PathBuf};

use wit_bindgen_core::wit_parser::Resolve;
use wit_bindgen_core::{Files, WorldGenerator};
use wit_bindgen_rust::{Opts, WithOption};

const WORLD: &str = "dms-snapshot-source";

/// The export macro of `source` that `dms-source`'s bindings already define.
const CLASHING_MACRO: &str = "__export_forecourt_plugin_source_";
const RENAMED_MACRO: &str = "__export_snapshot_world_forecourt_plugin_source_";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let wit = manifest.join("../wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(&wit)
        .unwrap_or_else(|e| panic!("cannot read {}: {e:?}", wit.display()));
    let world = resolve
        .select_world(&[package], Some(WORLD))
        .unwrap_or_else(|e| panic!("no world {WORLD}: {e:?}"));
    let version = resolve.packages[package]
        .name
        .version
        .as_ref()
        .expect("the contract package is versioned")
        .to_string();

    let mut opts = Opts {
        pub_export_macro: true,
        export_macro_name: Some("export_dms_snapshot_source".into()),
        default_bindings_module: Some("$crate::snapshot_bindings".into()),
        generate_all: true,
        ..Opts::default()
    };
    opts.with = with_mappings(&version);
    let mut files = Files::default();
    opts.build()
        .generate(&mut resolve, world, &mut files)
        .unwrap_or_else(|e| panic!("wit-bindgen failed on world {WORLD}: {e:?}"));
    let (_, source) = files.iter().next().expect("one generated file");
    let source = std::str::from_utf8(source).expect("generated Rust is UTF-8");
    assert!(
        source.contains(CLASHING_MACRO),
        "wit-bindgen no longer names the export macro {CLASHING_MACRO}*: revisit sdk/build.rs"
    );
    let source = source.replace(CLASHING_MACRO, RENAMED_MACRO);

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    write_if_changed(&out.join("snapshot_bindings.rs"), &source);
}

/// The same mappings as the `generate!` calls in `src/lib.rs`: every import
/// shared with `platform_bindings`, and the types of the exported `source`
/// interface mapped one by one onto `source_bindings` (wit-bindgen generates
/// an exported interface afresh; only type-level mappings reach it).
fn with_mappings(version: &str) -> Vec<(String, WithOption)> {
    let path = |p: &str| WithOption::Path(p.to_string());
    let mut with = Vec::new();
    for (interface, module) in [
        ("types", "forecourt::plugin::types"),
        ("log", "forecourt::plugin::log"),
        ("kv", "forecourt::plugin::kv"),
    ] {
        with.push((
            format!("forecourt:plugin/{interface}@{version}"),
            path(&format!("crate::platform_bindings::{module}")),
        ));
    }
    for (interface, module) in [
        ("wasi:http/types", "wasi::http::types"),
        ("wasi:http/outgoing-handler", "wasi::http::outgoing_handler"),
        ("wasi:io/error", "wasi::io::error"),
        ("wasi:io/poll", "wasi::io::poll"),
        ("wasi:io/streams", "wasi::io::streams"),
        (
            "wasi:clocks/monotonic-clock",
            "wasi::clocks::monotonic_clock",
        ),
    ] {
        with.push((
            format!("{interface}@0.2.12"),
            path(&format!("crate::platform_bindings::{module}")),
        ));
    }
    for (ty, name) in [
        ("source-info", "SourceInfo"),
        ("change", "Change"),
        ("row-issue", "RowIssue"),
        ("pull-request", "PullRequest"),
        ("pull-page", "PullPage"),
    ] {
        with.push((
            format!("forecourt:plugin/source@{version}/{ty}"),
            path(&format!(
                "crate::source_bindings::exports::forecourt::plugin::source::{name}"
            )),
        ));
    }
    with.sort_by(|a, b| a.0.cmp(&b.0));
    with
}

/// Leave the file (and its timestamp) alone when nothing changed.
fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
