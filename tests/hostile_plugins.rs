//! Adversarial tests: hostile guest components built from `tests/guests/`.
//!
//! Each test asserts the specific error, that the host is still up, and that
//! another plugin (a well-behaved "bystander") keeps working, including while
//! the hostile call is in progress.

use forecourt::runtime::egress::OperatorGrants;
use forecourt::runtime::secrets::MemorySecrets;
use forecourt::runtime::{CallError, LoadError, Plugin, Runtime};
use forecourt_tests::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn vehicle() -> forecourt::runtime::types::Vehicle {
    forecourt::sample::sample_stock(1, 1).remove(0)
}

fn mode(mode: &str) -> String {
    serde_json::json!({ "mode": mode }).to_string()
}

fn mode_url(mode: &str, url: &str) -> String {
    serde_json::json!({ "mode": mode, "url": url }).to_string()
}

struct Fixture {
    _dir: tempfile::TempDir,
    runtime: Runtime,
    secrets: Arc<MemorySecrets>,
    dir: std::path::PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemorySecrets::default());
        let runtime = runtime(secrets.clone(), Some(dir.path().join("cache")));
        Self {
            dir: dir.path().to_path_buf(),
            _dir: dir,
            runtime,
            secrets,
        }
    }

    /// Load a guest; unless `extra` grants origins itself, it gets one
    /// harmless origin so its `wasi:http` import passes review.
    fn load(
        &self,
        id: &str,
        guest: &str,
        extra: &str,
        grants: OperatorGrants,
    ) -> Result<Plugin, LoadError> {
        let wasm = component_bytes(&format!("guests/{guest}.wasm"));
        let extra = if extra.contains("[[http]]") {
            extra.to_string()
        } else {
            format!("{extra}[[http]]\norigin = \"https://api.example.com\"\n")
        };
        let path = stage_with_manifest(&self.dir, id, "platform", &wasm, &extra);
        self.runtime.load(&path, None, grants)
    }

    fn hostile(&self, extra: &str) -> Plugin {
        self.load("hostile", "hostile", extra, OperatorGrants::default())
            .expect("hostile guest loads")
    }

    fn bystander(&self) -> Plugin {
        self.load("bystander", "hostile", "", OperatorGrants::default())
            .expect("bystander loads")
    }
}

/// The bystander answers correctly.
async fn assert_healthy(bystander: &Plugin) {
    let v = vehicle();
    let out = bystander
        .transform(&mode("ok"), &v)
        .await
        .expect("bystander call succeeds");
    assert_eq!(out.expect("ok mode transforms").listing.body, v.stock_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_is_stopped_within_its_deadline_and_others_keep_working() {
    let f = Fixture::new();
    let hostile = f.hostile("[limits]\ncall_timeout_ms = 300\n");
    let bystander = f.bystander();
    let v = vehicle();

    let started = Instant::now();
    let looping = tokio::spawn({
        let hostile = hostile.clone();
        let v = v.clone();
        async move { hostile.transform(&mode("loop"), &v).await }
    });
    // While the loop spins, the bystander is served.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_healthy(&bystander).await;

    let err = looping.await.unwrap().expect_err("a loop cannot succeed");
    let elapsed = started.elapsed();
    assert!(
        matches!(err, CallError::Timeout { limit_ms: 300, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("time limit of 300 ms"), "{err}");
    assert!(
        elapsed < Duration::from_millis(300) + Duration::from_secs(1),
        "stopped after {elapsed:?}"
    );

    // The same plugin recovers with a fresh instance.
    assert_eq!(
        hostile
            .transform(&mode("ok"), &v)
            .await
            .unwrap()
            .unwrap()
            .listing
            .body,
        v.stock_id
    );
    assert_healthy(&bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_is_a_stack_overflow() {
    let f = Fixture::new();
    let hostile = f.hostile("");
    let bystander = f.bystander();
    let err = hostile
        .transform(&mode("recurse"), &vehicle())
        .await
        .expect_err("recursion traps");
    assert!(matches!(err, CallError::StackOverflow { .. }), "{err}");
    assert_healthy(&bystander).await;
    assert_healthy(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_hits_the_memory_cap() {
    let f = Fixture::new();
    let hostile = f.hostile("[limits]\nmemory_mib = 32\n");
    let bystander = f.bystander();
    let err = hostile
        .transform(&mode("memory"), &vehicle())
        .await
        .expect_err("unbounded allocation fails");
    assert!(
        matches!(err, CallError::MemoryLimit { limit_mib: 32, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("memory limit of 32 MiB"), "{err}");
    assert_healthy(&bystander).await;
    assert_healthy(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_return_value_cannot_be_built_within_the_memory_cap() {
    let f = Fixture::new();
    let hostile = f.hostile("[limits]\nmemory_mib = 64\n");
    let err = hostile
        .transform(&mode("huge"), &vehicle())
        .await
        .expect_err("256 MiB cannot fit in 64 MiB");
    assert!(matches!(err, CallError::MemoryLimit { .. }), "{err}");
    assert_healthy(&f.bystander()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_return_value_within_memory_is_refused_as_output() {
    let f = Fixture::new();
    // Enough memory to build the value, but outputs are capped at 1 MiB.
    let hostile =
        f.hostile("[limits]\nmemory_mib = 1024\nmax_output_kib = 1024\ncall_timeout_ms = 60000\n");
    let err = hostile
        .transform(&mode("huge"), &vehicle())
        .await
        .expect_err("output over the cap");
    assert!(matches!(err, CallError::InvalidOutput { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("exceeds limits.max_output_kib")
            || text.contains("more data than the host accepts"),
        "{text}"
    );
    assert_healthy(&f.bystander()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trap_then_another_call_gets_a_fresh_instance() {
    let f = Fixture::new();
    let hostile = f.hostile("");
    let err = hostile
        .transform(&mode("trap"), &vehicle())
        .await
        .expect_err("panic traps");
    match &err {
        CallError::Trap { message, .. } => {
            assert!(
                message.as_deref().unwrap_or("").contains("deliberate trap"),
                "{err}"
            )
        }
        other => panic!("expected a trap, got {other}"),
    }
    let before = hostile
        .stats()
        .instantiations
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_healthy(&hostile).await;
    let after = hostile
        .stats()
        .instantiations
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        after,
        before + 1,
        "the trapped instance was replaced, not reused"
    );
    assert_healthy(&f.bystander()).await;
}

/// The outcome the hostile guest reports for its HTTP modes.
fn http_outcome(
    out: Result<
        forecourt::runtime::platform_api::Transformed,
        Vec<forecourt::runtime::types::ValidationIssue>,
    >,
) -> String {
    match out {
        Ok(t) => t.listing.body,
        Err(issues) => issues
            .iter()
            .map(|i| format!("{}: {}", i.field, i.message))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_to_a_host_not_on_the_allowlist_is_refused() {
    let server = RecordingServer::start().await;
    let f = Fixture::new();
    let hostile = f
        .load(
            "hostile",
            "hostile",
            "[[http]]\norigin = \"https://api.example.com\"\n",
            OperatorGrants {
                plain_http_hosts: vec!["127.0.0.1".into()],
                private_network_hosts: vec!["127.0.0.1".into()],
            },
        )
        .unwrap();
    let url = format!("http://127.0.0.1:{}/stock", server.addr.port());
    let out = http_outcome(
        hostile
            .transform(&mode_url("http", &url), &vehicle())
            .await
            .unwrap(),
    );
    assert!(
        out.to_lowercase().contains("denied") || out.contains("allowlist"),
        "{out}"
    );
    assert!(server.requests().is_empty(), "nothing reached the server");
    assert_eq!(
        hostile
            .egress_stats()
            .denied
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_healthy(&f.bystander()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_name_resolving_to_a_private_address_is_refused_unless_the_operator_allows_it() {
    let server = RecordingServer::start().await;
    let f = Fixture::new();
    let port = server.addr.port();
    let manifest = format!(
        "[[http]]\norigin = \"http://localhost:{port}\"\nauth = {{ type = \"bearer\", secret = \"token\" }}\n"
    );
    f.secrets.set("hostile", "token", "s3cret-value");
    let url = format!("http://localhost:{port}/stock");

    // Plain http is allowed for localhost, private addresses are not.
    let hostile = f
        .load(
            "hostile",
            "hostile",
            &manifest,
            OperatorGrants {
                plain_http_hosts: vec!["localhost".into()],
                private_network_hosts: vec![],
            },
        )
        .unwrap();
    let out = http_outcome(
        hostile
            .transform(&mode_url("http", &url), &vehicle())
            .await
            .unwrap(),
    );
    assert!(
        out.contains("DestinationIpProhibited") || out.to_lowercase().contains("prohibited"),
        "{out}"
    );
    assert!(server.requests().is_empty());

    // With the operator's explicit grant the call goes through, and the host
    // (not the plugin) adds the credential.
    let allowed = f
        .load(
            "hostile",
            "hostile",
            &manifest,
            OperatorGrants {
                plain_http_hosts: vec!["localhost".into()],
                private_network_hosts: vec!["localhost".into()],
            },
        )
        .unwrap();
    let out = http_outcome(
        allowed
            .transform(&mode_url("http", &url), &vehicle())
            .await
            .unwrap(),
    );
    assert!(out.contains("200"), "{out}");
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0]
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v == "Bearer s3cret-value"));
    assert_healthy(&f.bystander()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_needs_the_operators_grant() {
    let server = RecordingServer::start().await;
    let f = Fixture::new();
    let port = server.addr.port();
    let hostile = f
        .load(
            "hostile",
            "hostile",
            &format!("[[http]]\norigin = \"http://127.0.0.1:{port}\"\n"),
            OperatorGrants {
                plain_http_hosts: vec![],
                private_network_hosts: vec!["127.0.0.1".into()],
            },
        )
        .unwrap();
    let out = http_outcome(
        hostile
            .transform(
                &mode_url("http", &format!("http://127.0.0.1:{port}/")),
                &vehicle(),
            )
            .await
            .unwrap(),
    );
    assert!(out.contains("allowlist refused"), "{out}");
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_cannot_set_authorization() {
    let server = RecordingServer::start().await;
    let f = Fixture::new();
    let port = server.addr.port();
    let hostile = f
        .load(
            "hostile",
            "hostile",
            &format!("[[http]]\norigin = \"http://127.0.0.1:{port}\"\n"),
            OperatorGrants {
                plain_http_hosts: vec!["127.0.0.1".into()],
                private_network_hosts: vec!["127.0.0.1".into()],
            },
        )
        .unwrap();
    let out = http_outcome(
        hostile
            .transform(
                &mode_url("authorization", &format!("http://127.0.0.1:{port}/")),
                &vehicle(),
            )
            .await
            .unwrap(),
    );
    assert!(out.to_lowercase().contains("authorization"), "{out}");
    assert!(
        server.requests().iter().all(|r| r
            .headers
            .iter()
            .all(|(k, v)| k != "authorization" || !v.contains("stolen"))),
        "the guest's Authorization never reached the wire"
    );
    assert_healthy(&f.bystander()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filesystem_and_socket_imports_without_a_grant_do_not_load() {
    let f = Fixture::new();
    for (guest, import) in [
        ("fs-import", "wasi:filesystem"),
        ("socket-import", "wasi:sockets"),
    ] {
        let err = f
            .load(
                guest,
                guest,
                "[[http]]\norigin = \"https://api.example.com\"\n",
                OperatorGrants::default(),
            )
            .err()
            .unwrap_or_else(|| panic!("{guest} must be refused"));
        let text = err.to_string();
        assert!(matches!(err, LoadError::Refused { .. }), "{text}");
        assert!(text.contains(import), "{guest}: {text}");
        assert!(text.contains("refused at review"), "{text}");
    }
    assert_healthy(&f.bystander()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_cached_artefact_is_detected_and_recompiled() {
    use forecourt::runtime::cache::CacheOutcome;
    let f = Fixture::new();
    let first = f.hostile("");
    assert_eq!(first.cache_outcome(), Some(CacheOutcome::Miss));
    drop(first);

    let cache_dir = f.dir.join("cache");
    let artefact = std::fs::read_dir(&cache_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("an artefact was cached");
    let mut bytes = std::fs::read(&artefact).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&artefact, &bytes).unwrap();

    let second = f.hostile("");
    assert_eq!(second.cache_outcome(), Some(CacheOutcome::Rejected));
    assert_healthy(&second).await;
    let third = f.hostile("");
    assert_eq!(third.cache_outcome(), Some(CacheOutcome::Hit));
    assert_healthy(&third).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_that_does_not_match_its_manifest_hash_does_not_load() {
    let f = Fixture::new();
    let wasm = component_bytes("guests/hostile.wasm");
    let path = stage_with_manifest(&f.dir, "tampered", "platform", &wasm, "");
    let mut changed = wasm.clone();
    changed.push(0);
    std::fs::write(&path, changed).unwrap();
    let err = f
        .runtime
        .load(&path, None, OperatorGrants::default())
        .err()
        .expect("refused");
    assert!(matches!(err, LoadError::Digest { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_manifest_for_a_platform_component_is_refused() {
    let f = Fixture::new();
    let wasm = component_bytes("guests/hostile.wasm");
    let path = stage_with_manifest(&f.dir, "confused", "source", &wasm, "");
    let err = f
        .runtime
        .load(&path, None, OperatorGrants::default())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("listing-platform"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_value_state_is_private_to_each_plugin() {
    let f = Fixture::new();
    let hostile = f.hostile("");
    let out = hostile
        .transform(&mode("kv"), &vehicle())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.listing.body, "v");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_exchange_is_done_by_the_host_reused_and_renewed_after_revocation() {
    use forecourt::sandbox::{Sandbox, SandboxConfig};
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let port = sandbox.addr().port();
    let f = Fixture::new();
    f.secrets.set("hostile", "key", "sandbox-key");
    f.secrets.set("hostile", "secret", "sandbox-secret");
    let manifest = format!(
        "[[http]]\norigin = \"http://127.0.0.1:{port}\"\nauth = {{ type = \"token-exchange\", token_path = \"/authenticate\", form = {{ key = \"key\", secret = \"secret\" }} }}\n"
    );
    let grants = OperatorGrants {
        plain_http_hosts: vec!["127.0.0.1".into()],
        private_network_hosts: vec!["127.0.0.1".into()],
    };
    let plugin = f
        .load("hostile", "hostile", &manifest, grants.clone())
        .unwrap();
    let url = format!(
        "{}/stock?advertiserId=10008899&page=1&pageSize=10",
        sandbox.base_url()
    );
    for _ in 0..3 {
        let out = http_outcome(
            plugin
                .transform(&mode_url("http", &url), &vehicle())
                .await
                .unwrap(),
        );
        assert!(out.contains("200"), "{out}");
    }
    assert_eq!(
        sandbox.stats().authenticate,
        1,
        "one token, reused for its lifetime"
    );
    assert_eq!(sandbox.stats().list, 3);

    // Revoked on the platform side: the host renews it once and the plugin never notices.
    sandbox.revoke_tokens();
    let out = http_outcome(
        plugin
            .transform(&mode_url("http", &url), &vehicle())
            .await
            .unwrap(),
    );
    assert!(out.contains("200"), "{out}");
    assert_eq!(sandbox.stats().authenticate, 2);

    // Wrong credentials: the plugin sees the platform's 401 (an auth error), never a secret.
    f.secrets.set("hostile", "secret", "wrong");
    let fresh = f.load("hostile", "hostile", &manifest, grants).unwrap();
    let out = http_outcome(
        fresh
            .transform(&mode_url("http", &url), &vehicle())
            .await
            .unwrap(),
    );
    assert!(out.contains("401"), "{out}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_signs_bodies_the_plugin_cannot_see_the_key() {
    use hmac::Mac;
    let server = RecordingServer::start().await;
    let port = server.addr.port();
    let f = Fixture::new();
    f.secrets.set("hostile", "signing_key", "whsec-test");
    let manifest = format!(
        "[[http]]\norigin = \"http://127.0.0.1:{port}\"\nauth = {{ type = \"hmac-signature\", secret = \"signing_key\", header = \"X-Forecourt-Signature\" }}\n"
    );
    let grants = OperatorGrants {
        plain_http_hosts: vec!["127.0.0.1".into()],
        private_network_hosts: vec!["127.0.0.1".into()],
    };
    let plugin = f.load("hostile", "hostile", &manifest, grants).unwrap();
    let out = http_outcome(
        plugin
            .transform(
                &mode_url("http", &format!("http://127.0.0.1:{port}/hook")),
                &vehicle(),
            )
            .await
            .unwrap(),
    );
    assert!(out.contains("200"), "{out}");
    let seen = server.requests();
    let signature = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "x-forecourt-signature")
        .map(|(_, v)| v.clone())
        .expect("the host added the signature");
    let (t, v1) = signature.split_once(",v1=").unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"whsec-test").unwrap();
    mac.update(format!("{t}.").as_bytes());
    assert_eq!(
        hex::encode(mac.finalize().into_bytes()),
        v1,
        "signature over t.body verifies"
    );
}

/// Contract 1.2.0 `snapshot`: an answer of the wrong shape (an index past
/// `known`, a row claimed twice, digests that do not match the changes, an
/// oversized digest) is refused as invalid output naming what is wrong. The
/// engine stores a page only after this check passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_snapshot_answer_is_refused_as_invalid_output() {
    use forecourt::runtime::bindings::snapshot_api::KnownRow;
    let f = Fixture::new();
    let wasm = component_bytes("guests/bad-snapshot.wasm");
    let path = stage_with_manifest(
        &f.dir,
        "bad-snapshot",
        "source",
        &wasm,
        "[[http]]\norigin = \"https://api.example.com\"\n",
    );
    let plugin = f
        .runtime
        .load(&path, None, OperatorGrants::default())
        .expect("the guest loads");
    assert!(plugin.has_snapshot(), "it exports snapshot");
    let known: Vec<KnownRow> = ["A", "B"]
        .iter()
        .map(|id| KnownRow {
            stock_id: id.to_string(),
            digest: format!("d-{id}"),
        })
        .collect();
    let request = |m: &str| forecourt::runtime::source_api::PullRequest {
        config: mode(m),
        cursor: None,
        document: Some(b"StockNo\nA\nB\n".to_vec()),
    };
    for (m, expected) in [
        (
            "out-of-range",
            "unchanged row 2 is not one of the 2 known rows",
        ),
        ("twice", "known row 0 is reported unchanged twice"),
        ("digest-count", "0 digests for 1 changes"),
        ("long-digest", "a row digest is 65 bytes"),
    ] {
        let err = plugin
            .pull_snapshot(&request(m), &known)
            .await
            .expect_err(m);
        assert!(matches!(err, CallError::InvalidOutput { .. }), "{m}: {err}");
        assert!(err.to_string().contains(expected), "{m}: {err}");
    }
    // A well-formed answer passes, and the plugin still answers.
    let ok = plugin
        .pull_snapshot(&request("ok"), &known)
        .await
        .expect("a well-formed answer")
        .expect("no plugin error");
    assert_eq!(ok.unchanged, vec![0, 1]);
    assert_eq!(ok.digests.len(), ok.page.changes.len());
}
