//! Contract versions side by side: a plugin built against the frozen 1.0.0
//! copy of the contract (`tests/guests/contract-1-0`, `wit/versions/1.0.0`)
//! loads and works on this 1.2 host, through the runtime and through the
//! sync engine; a component claiming 2.0.0 (`tests/guests/contract-2-0`) or
//! a newer minor is refused at load, with both versions named.

use forecourt::contract::{self, ContractError, World};
use forecourt::runtime::platform_api as p;
use forecourt::runtime::secrets::MemorySecrets;
use forecourt::runtime::types::StockStatus;
use forecourt::runtime::{LoadError, Plugin, Runtime};
use forecourt::store::{Change, IngestBatch, SqliteStore, Store};
use forecourt::sync::{Engine, PlatformSetup};
use forecourt_tests::*;
use std::sync::Arc;

/// Stage `wasm` with a manifest and load it; the runtime must outlive the
/// plugin's calls (it drives the epoch deadlines).
fn load(dir: &std::path::Path, id: &str, wasm: &[u8]) -> (Runtime, Result<Plugin, LoadError>) {
    let runtime = runtime(Arc::new(MemorySecrets::default()), None);
    // Only a component that imports wasi:http needs an origin to pass review.
    let facts = contract::read_facts(wasm).expect("a component");
    let extra = if facts.imports.iter().any(|i| i.starts_with("wasi:http/")) {
        "[[http]]\norigin = \"https://api.example.com\"\n"
    } else {
        ""
    };
    let path = stage_with_manifest(dir, id, "platform", wasm, extra);
    let plugin = runtime.load(&path, None, Default::default());
    (runtime, plugin)
}

#[test]
fn the_frozen_1_0_guest_says_it_is_1_0() {
    let wasm = component_bytes("guests/contract-1-0.wasm");
    let facts = contract::read_facts(&wasm).unwrap();
    assert_eq!(facts.contract_version.as_deref(), Some("1.0.0"));
    assert_eq!(facts.stamp.as_deref(), Some("1.0.0"));
    assert_eq!(facts.world, Some(World::ListingPlatform));
    assert!(
        facts
            .exports
            .contains(&"forecourt:plugin/platform@1.0.0".to_string()),
        "{:?}",
        facts.exports
    );
    // Its host imports are the 1.0.0 names; the 1.2 linker defines 1.2.0.
    for import in ["forecourt:plugin/log@1.0.0", "forecourt:plugin/kv@1.0.0"] {
        assert!(
            facts.imports.contains(&import.to_string()),
            "{import}: {:?}",
            facts.imports
        );
    }
    assert_eq!(contract::CURRENT, "1.2.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_for_1_0_runs_on_the_current_host() {
    let dir = tempfile::tempdir().unwrap();
    let (_runtime, plugin) = load(
        dir.path(),
        "old",
        &component_bytes("guests/contract-1-0.wasm"),
    );
    let plugin = plugin.expect("a 1.0 plugin loads on a 1.2 host");
    assert_eq!(plugin.contract_version(), "1.0.0");
    assert_eq!(plugin.world(), World::ListingPlatform);

    let info = plugin.platform_info().await.unwrap();
    assert_eq!(info.name, "contract-1-0");
    assert_eq!(info.batch_size, 5);

    let mut v = forecourt::sample::sample_stock(1, 7).remove(0);
    v.hub_only = None;
    let t = plugin.transform("{}", &v).await.unwrap().unwrap();
    assert!(
        t.listing
            .body
            .contains(&format!("\"ref\":\"{}\"", v.stock_id)),
        "{}",
        t.listing.body
    );
    v.make = None;
    let issues = plugin.transform("{}", &v).await.unwrap().unwrap_err();
    assert_eq!(issues[0].field, "make");

    // Host interfaces imported at 1.0.0 (log, kv) work through the 1.2 linker.
    let ops: Vec<p::Operation> = ["A", "B"]
        .iter()
        .map(|s| p::Operation {
            kind: p::OperationKind::Create,
            idempotency_key: format!("k-{s}"),
            stock_id: s.to_string(),
            remote_id: None,
            status: StockStatus::InStock,
            listing: Some(p::Listing {
                stock_id: s.to_string(),
                body: "{}".into(),
            }),
            previous: None,
        })
        .collect();
    let results = plugin.publish("{}", &ops).await.unwrap().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].outcome.as_deref(), Ok("v1-A"));
    let page = plugin.list_published("{}", None).await.unwrap().unwrap();
    let listed: Vec<&str> = page.items.iter().map(|i| i.stock_id.as_str()).collect();
    assert_eq!(listed, ["A", "B"], "kv state persisted across calls");

    // fetch-enquiries, already in 1.0, answers on the 1.2 host.
    let page = plugin.fetch_enquiries("{}", None).await.unwrap().unwrap();
    assert_eq!(page.enquiries[0].id, "E1");
    assert_eq!(page.next_cursor.as_deref(), Some("1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_engine_publishes_through_a_1_0_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let (_runtime, plugin) = load(
        dir.path(),
        "old",
        &component_bytes("guests/contract-1-0.wasm"),
    );
    let plugin = plugin.unwrap();
    let info = plugin.platform_info().await.unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("forecourt.db")).unwrap());
    let stock = forecourt::sample::sample_stock(6, 3);
    store
        .ingest(
            &IngestBatch {
                source: "dms".into(),
                changes: stock
                    .iter()
                    .cloned()
                    .map(|v| Change::Upsert(Box::new(v)))
                    .collect(),
                next_cursor: None,
                full_snapshot: false,
                snapshot_start: false,
                ..Default::default()
            },
            forecourt::store::now_ms(),
        )
        .unwrap();
    let engine = Arc::new(Engine::new(
        store.clone(),
        vec![],
        vec![PlatformSetup {
            id: "old".into(),
            plugin,
            config: "{}".into(),
            info,
            retry: Default::default(),
            timing: Default::default(),
            feed_outputs: vec![],
            rate_limit_per_minute: None,
            concurrency: 1,
        }],
    ));
    let report = engine.sync_once().await.unwrap();
    let advertisable = stock
        .iter()
        .filter(|v| {
            matches!(
                v.status,
                StockStatus::InStock | StockStatus::DueIn | StockStatus::Reserved
            )
        })
        .count();
    assert!(advertisable > 0);
    assert_eq!(report.deliveries[0].done, advertisable, "{report:?}");
    for row in store.listings("old").unwrap() {
        if row.desired_state != "absent" {
            assert_eq!(row.remote_id, Some(format!("v1-{}", row.stock_id)));
            assert_eq!(row.lifecycle, "in-sync");
        }
    }
}

#[test]
fn a_component_claiming_2_0_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = component_bytes("guests/contract-2-0.wasm");
    let facts = contract::read_facts(&wasm).unwrap();
    assert_eq!(facts.contract_version.as_deref(), Some("2.0.0"));
    let err = match load(dir.path(), "future", &wasm).1 {
        Ok(_) => panic!("a 2.0 plugin must be refused"),
        Err(e) => e,
    };
    assert!(
        matches!(&err, LoadError::Contract { source: ContractError::Unsupported { found, .. }, .. } if found == "2.0.0"),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("future.wasm"), "names the file: {message}");
    assert!(
        message.contains("built for contract 2.0.0, but this host serves contract 1.0.0 to 1.2.0"),
        "{message}"
    );
}

#[test]
fn a_newer_minor_is_refused_before_compiling() {
    let dir = tempfile::tempdir().unwrap();
    // The 1.0 guest with its export and stamp rewritten to 1.9.0 (same byte
    // length): a plugin built for a contract newer than this host's.
    let mut wasm = component_bytes("guests/contract-1-0.wasm");
    let replace = |wasm: &mut Vec<u8>, from: &[u8], to: &[u8]| {
        let mut n = 0;
        let mut i = 0;
        while i + from.len() <= wasm.len() {
            if &wasm[i..i + from.len()] == from {
                wasm[i..i + from.len()].copy_from_slice(to);
                n += 1;
            }
            i += 1;
        }
        n
    };
    assert!(
        replace(
            &mut wasm,
            b"forecourt:plugin/platform@1.0.0",
            b"forecourt:plugin/platform@1.9.0"
        ) > 0
    );
    let facts = contract::read_facts(&wasm).unwrap();
    assert_eq!(facts.contract_version.as_deref(), Some("1.9.0"));
    let err = match load(dir.path(), "newer", &wasm).1 {
        Ok(_) => panic!("a 1.9 plugin must be refused by a 1.2 host"),
        Err(e) => e,
    };
    let message = err.to_string();
    assert!(
        message.contains("built for contract 1.9.0, newer than this host's 1.2.0"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_plugins_are_built_for_the_current_contract() {
    for id in ["autotrader", "csv-export", "google-vehicle-ads"] {
        let wasm = component_bytes(&format!("{id}.wasm"));
        let facts = contract::read_facts(&wasm).unwrap();
        assert_eq!(
            facts.contract_version.as_deref(),
            Some(contract::CURRENT),
            "{id}"
        );
        assert_eq!(facts.stamp.as_deref(), Some(contract::CURRENT), "{id}");
    }
}
