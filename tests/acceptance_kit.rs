//! The acceptance kit (`forecourt plugin test`) against real components:
//! every reference platform plugin must pass it, and a deliberately broken
//! guest (`tests/guests/bad-platform`) must fail exactly the checks it breaks.

use forecourt::acceptance::report::{Report, Status};
use forecourt::acceptance::test_plugin;
use forecourt_tests::*;

async fn kit(id: &str) -> Report {
    test_plugin(
        &staged_dir().join(format!("{id}.wasm")),
        None,
        Some(&workspace_root().join(format!("plugins/{id}/acceptance"))),
    )
    .await
    .unwrap()
}

fn assert_passes(report: &Report, checks: &[&str]) {
    for name in checks {
        let check = report
            .check(name)
            .unwrap_or_else(|| panic!("check {name} did not run:\n{report}"));
        assert_eq!(check.status, Status::Pass, "{name}:\n{report}");
    }
}

const COMMON: &[&str] = &[
    "signature",
    "load",
    "describe.complete",
    "describe.fields",
    "describe.config-schema",
    "config.fixture",
    "transform.no-traps",
    "transform.deterministic",
    "transform.issues-name-fields",
    "transform.accepts-complete",
    "limits",
];

#[tokio::test(flavor = "multi_thread")]
async fn api_reference_platforms_pass_every_check() {
    for id in ["autotrader", "webhook"] {
        let report = kit(id).await;
        assert!(report.passed(), "{report}");
        assert_passes(&report, COMMON);
        assert_passes(
            &report,
            &[
                "publish.create",
                "publish.idempotent",
                "list-published.matches",
                "publish.update",
                "publish.fault.transient",
                "publish.fault.rate-limited",
                "publish.fault.auth",
                "publish.fault.validation",
                "publish.remove",
            ],
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn feed_reference_platforms_pass_every_check() {
    for id in ["google-vehicle-ads", "meta-catalog", "schema-org"] {
        let report = kit(id).await;
        assert!(report.passed(), "{report}");
        assert_passes(&report, COMMON);
        assert_passes(
            &report,
            &[
                "feed.render",
                "feed.deterministic",
                "feed.well-formed",
                "feed.empty",
            ],
        );
        assert!(report.check("publish.create").unwrap().status == Status::Skip);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_platform_fails_the_checks_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = component_bytes("guests/bad-platform.wasm");
    let path = stage_with_manifest(dir.path(), "bad-platform", "platform", &wasm, "");
    let report = test_plugin(&path, None, None).await.unwrap();
    let mut failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name.as_str())
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            "describe.complete",
            "describe.config-schema",
            "describe.fields",
            "list-published.matches",
            "publish.fault.auth",
            "publish.fault.rate-limited",
            "publish.fault.transient",
            "publish.idempotent",
            "transform.deterministic",
            "transform.issues-name-fields",
            "transform.no-traps",
        ],
        "{report}"
    );
    let detail = |name: &str| report.check(name).unwrap().detail.clone();
    assert!(
        detail("describe.complete").contains("batch-size is 0"),
        "{report}"
    );
    assert!(
        detail("describe.fields").contains("colour_name"),
        "{report}"
    );
    assert!(
        detail("transform.no-traps").contains("edge:description_100k_chars"),
        "{report}"
    );
    assert!(
        detail("publish.fault.transient").contains("but the operation succeeded"),
        "{report}"
    );
    assert_eq!(
        report.check("signature").unwrap().status,
        Status::Skip,
        "unsigned"
    );

    // The command: one line per check, and exit code 1.
    let text = report.to_string();
    assert!(text.contains("FAIL  describe.fields"), "{text}");
    let json = report.to_json();
    assert_eq!(json["passed"], false);
    assert_eq!(json["counts"]["fail"], 11);
    let cli = <forecourt::cli::Cli as clap::Parser>::parse_from([
        "forecourt",
        "plugin",
        "test",
        "--json",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        forecourt::cli::run(cli).await.unwrap(),
        forecourt::cli::EXIT_RUNTIME
    );
}
