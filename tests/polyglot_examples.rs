//! The Python and JavaScript reference plugins (`plugins/examples/`), built
//! with componentize-py and componentize-js by `cargo xtask polyglot`, load
//! in the host (their interpreters' WASI imports linked inert) and produce
//! byte for byte what the Rust reference (the `webhook` plugin's transform)
//! produces for the same vehicles, including the hostile corpus; and they
//! pass the acceptance kit.

use forecourt::acceptance::corpus;
use forecourt::runtime::secrets::MemorySecrets;
use forecourt::runtime::Plugin;
use forecourt_tests::*;
use std::sync::Arc;

/// The staged example, or a plain failure saying why it is missing.
fn example(id: &str) -> std::path::PathBuf {
    let path = staged_dir().join(format!("{id}.wasm"));
    if !path.exists() {
        let why = std::fs::read_to_string(staged_dir().join("polyglot-error.txt"))
            .unwrap_or_else(|_| "it was never built".into());
        panic!(
            "the {id} example component is missing: {why}\n\
             Build it with `cargo xtask polyglot` (needs python3 with venv and pip, and node with npm, \
             to install componentize-py and componentize-js into target/); `cargo xtask test` runs it."
        );
    }
    path
}

fn load(runtime: &forecourt::runtime::Runtime, path: &std::path::Path) -> Plugin {
    runtime
        .load(path, None, Default::default())
        .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn python_and_javascript_match_the_rust_reference() {
    let runtime = runtime(Arc::new(MemorySecrets::default()), None);
    let rust = load(&runtime, &staged_dir().join("webhook.wasm"));
    let python = load(&runtime, &example("python-feed"));
    let js = load(&runtime, &example("js-feed"));
    for plugin in [&python, &js] {
        let inert: Vec<&str> = plugin
            .imports()
            .iter()
            .filter(|(_, v)| matches!(v, forecourt::runtime::review::Verdict::Inert(_)))
            .map(|(i, _)| i.as_str())
            .collect();
        assert!(
            inert.iter().any(|i| i.starts_with("wasi:filesystem/")),
            "{}: the interpreter's file-system import is linked inert: {inert:?}",
            plugin.id()
        );
    }

    let rust_config = r#"{"endpoint":"https://partner.example.com/listings"}"#;
    let mut listings = Vec::new();
    let cases = corpus::corpus(vec![]);
    for case in &cases {
        let expected = rust.transform(rust_config, &case.vehicle).await.unwrap();
        for plugin in [&python, &js] {
            let got = plugin.transform("{}", &case.vehicle).await.unwrap();
            assert_eq!(
                got,
                expected,
                "{} differs from Rust on {}",
                plugin.id(),
                case.name
            );
        }
        if let Ok(t) = expected {
            listings.push(t.listing);
        }
    }
    assert!(listings.len() > 10, "most of the corpus renders");

    let expected_feed: String = listings.iter().map(|l| format!("{}\n", l.body)).collect();
    for plugin in [&python, &js] {
        let feed = plugin.render_feed("{}", &listings).await.unwrap().unwrap();
        assert_eq!(feed.content_type, "application/x-ndjson");
        assert_eq!(feed.file_name, "listings.jsonl");
        assert!(
            feed.body == expected_feed.as_bytes(),
            "{}: the JSON Lines feed differs from the Rust listings",
            plugin.id()
        );
        // A bad configuration is a validation error on `config`, not a trap.
        let refused = plugin
            .render_feed("[]", &listings)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused.field.as_deref(), Some("config"), "{}", plugin.id());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn python_and_javascript_examples_pass_the_acceptance_kit() {
    for id in ["python-feed", "js-feed"] {
        let report = forecourt::acceptance::test_plugin(&example(id), None, None)
            .await
            .unwrap();
        assert!(report.passed(), "{report}");
        for check in [
            "signature",
            "load",
            "transform.no-traps",
            "feed.well-formed",
        ] {
            assert_eq!(
                report.check(check).unwrap().status,
                forecourt::acceptance::report::Status::Pass,
                "{check}:\n{report}"
            );
        }
    }
}
