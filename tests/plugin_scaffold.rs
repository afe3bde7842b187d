//! `forecourt plugin new` makes a working project: a Rust platform project
//! generated here (its SDK dependency pointed at this workspace's `sdk/`)
//! builds for wasm32-wasip2 and passes the acceptance kit with the fixtures
//! it was generated with.

use forecourt::scaffold::{create, Kind, Lang, NewArgs};
use forecourt_tests::*;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn a_new_rust_platform_builds_and_passes_the_kit() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("acme-feed");
    create(
        &NewArgs {
            name: "acme-feed".into(),
            kind: Kind::Platform,
            lang: Lang::Rust,
            dir: None,
            sdk_path: Some(workspace_root().join("sdk")),
        },
        &project,
    )
    .unwrap();
    // The workspace's lock file pins the same dependency versions the
    // plugins are built with, so the shared target dir has them compiled.
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .unwrap();
    let target_dir = workspace_root().join("target/plugins");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&project)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the generated project does not build");

    let built = target_dir.join("wasm32-wasip2/release/forecourt_plugin_acme_feed.wasm");
    let wasm = std::fs::read(&built).unwrap();
    let staged = project.join("acme-feed.wasm");
    std::fs::write(&staged, &wasm).unwrap();
    let manifest = std::fs::read_to_string(project.join("forecourt.toml")).unwrap();
    let manifest = manifest.replace(
        "sha256 = \"\"",
        &format!("sha256 = \"{}\"", sha256_hex(&wasm)),
    );
    std::fs::write(project.join("acme-feed.toml"), manifest).unwrap();

    let report =
        forecourt::acceptance::test_plugin(&staged, None, Some(&project.join("acceptance")))
            .await
            .unwrap();
    assert!(report.passed(), "{report}");
    for check in [
        "describe.config-schema",
        "config.fixture",
        "transform.no-traps",
        "feed.well-formed",
    ] {
        assert_eq!(
            report.check(check).unwrap().status,
            forecourt::acceptance::report::Status::Pass,
            "{check}:\n{report}"
        );
    }
    assert!(
        report
            .check("transform.no-traps")
            .unwrap()
            .detail
            .contains("35 vehicles"),
        "the project's own fixture vehicle is in the corpus:\n{report}"
    );
}
