//! Alerting end to end: the real pipeline (csv-export, autotrader against the
//! sandbox marketplace, the Google feed, a real SQLite file), a real SMTP
//! server (aiosmtpd) and a webhook receiver on loopback. The platform refuses
//! our credentials, the engine pauses it, one e-mail and one webhook call
//! report it (grouped with the sold car it still shows), nothing more is sent
//! within the cooldown or after a restart, and a recovery follows the fix.
//! Then an outage (503s) does the same through the failure-run rule.

use forecourt::alerts::channels::Retry;
use forecourt::alerts::state::AlertStore;
use forecourt::alerts::Alerting;
use forecourt::config::RawConfig;
use forecourt::runtime::secrets::{MemorySecrets, SecretStore, SecretValue};
use forecourt::runtime::types::{HubOnly, StockStatus, Vehicle};
use forecourt::sandbox::{Faults, Sandbox, SandboxConfig};
use forecourt::store::{now_ms, Store};
use forecourt_tests::alerts::{Hook, HookServer, Mail, SmtpSink};
use forecourt_tests::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SMTP_PASSWORD: &str = "smtp-pa55word-e2e";
const PLATFORM_SECRET: &str = "sandbox-secret";
const WRONG_SECRET: &str = "rotated-but-wrong-secret";
/// Personal data in the sold car's hub-only notes: it must never reach an alert.
const PII: [&str; 3] = ["Jane Doe", "jane.doe@example.com", "07700 900123"];

/// Plugin secrets the test can change while the engine runs.
struct Shared(Arc<MemorySecrets>);

impl SecretStore for Shared {
    fn get(&self, plugin: &str, name: &str) -> Option<SecretValue> {
        self.0.get(plugin, name)
    }
}

fn alerts_config(smtp_port: u16, hook_url: &str) -> String {
    format!(
        r#"
[alerts]
interval_secs = 10
cooldown_minutes = 60
[alerts.rules.delivery_failures]
consecutive = 3
[alerts.rules.sold_still_listed]
after_minutes = 0
[alerts.rules.error_rate]
enabled = false

[[alerts.channel]]
kind = "email"
name = "ops-mail"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
tls = "none"
username = "forecourt"
password_secret = "smtp_password"
from = "forecourt <alerts@dealer.example>"
to = ["ops@dealer.example"]

[[alerts.channel]]
kind = "webhook"
name = "chat"
url = "{hook_url}"
"#
    )
}

fn assert_clean(text: &str) {
    for secret in [SMTP_PASSWORD, PLATFORM_SECRET, WRONG_SECRET, "sandbox-key"] {
        assert!(
            !text.contains(secret),
            "a secret leaked into an alert:\n{text}"
        );
    }
    for pii in PII {
        assert!(
            !text.contains(pii),
            "personal data leaked into an alert:\n{text}"
        );
    }
}

struct World {
    _dir: tempfile::TempDir,
    sandbox: Sandbox,
    app: forecourt::app::App,
    config: RawConfig,
    plugin_secrets: Arc<MemorySecrets>,
    alert_secrets: Arc<MemorySecrets>,
    sink: SmtpSink,
    hook: HookServer,
    stock: Vec<Vehicle>,
    dir_path: std::path::PathBuf,
}

impl World {
    async fn new() -> World {
        let sink = SmtpSink::start(Some(("forecourt", SMTP_PASSWORD)), None);
        let hook = HookServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        let plugins = plugins_for_sandbox(dir.path(), sandbox.addr().port());
        let path = pipeline_config(dir.path(), &plugins, &sandbox.base_url(), "");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&alerts_config(sink.port, &hook.url("/hooks/forecourt")));
        std::fs::write(&path, text).unwrap();

        let mut stock = forecourt::sample::sample_stock(12, 41);
        for v in &mut stock {
            v.status = StockStatus::InStock;
        }
        stock[0].hub_only = Some(HubOnly {
            internal_notes: Some(format!(
                "Part exchange from {}, {}, {}",
                PII[0], PII[1], PII[2]
            )),
            previous_keeper: None,
            part_exchange: None,
            cost_price: None,
        });
        export(dir.path(), &stock);

        let config = RawConfig::load(&path).unwrap();
        let plugin_secrets = Arc::new(MemorySecrets::default());
        plugin_secrets.set("autotrader", "key", "sandbox-key");
        plugin_secrets.set("autotrader", "secret", PLATFORM_SECRET);
        let app = forecourt::app::build_with_secrets(
            &config,
            Some(Box::new(Shared(plugin_secrets.clone()))),
        )
        .await
        .unwrap();
        let alert_secrets = Arc::new(MemorySecrets::default());
        alert_secrets.set("alerts", "smtp_password", SMTP_PASSWORD);
        World {
            dir_path: dir.path().to_path_buf(),
            _dir: dir,
            sandbox,
            app,
            config,
            plugin_secrets,
            alert_secrets,
            sink,
            hook,
            stock,
        }
    }

    /// A fresh alerting service, as after a restart of `forecourt run`.
    fn alerting(&self) -> Alerting {
        let alerting = Alerting::from_config(
            &self.config,
            self.app.store.clone(),
            self.alert_secrets.clone(),
        )
        .expect("[alerts] is configured")
        .with_retry(Retry {
            attempts: 2,
            first_delay: Duration::from_millis(20),
        });
        alerting.check_secrets().unwrap();
        alerting
    }

    fn export(&self) {
        export(&self.dir_path, &self.stock);
    }

    async fn converge(&self) {
        let started = Instant::now();
        loop {
            self.app.engine.sync_once().await.unwrap();
            if self.app.store.queue_depth(None).unwrap() == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "did not converge"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn mails(&self) -> Vec<Mail> {
        self.sink.messages()
    }

    fn hooks(&self) -> Vec<Hook> {
        self.hook.requests()
    }

    fn hook_text(&self, i: usize) -> String {
        let json: serde_json::Value = serde_json::from_str(&self.hooks()[i].body).unwrap();
        json["text"].as_str().unwrap().to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_pause_and_outage_alert_once_by_email_and_webhook_then_recover() {
    let mut w = World::new().await;
    let alerting = w.alerting();
    w.converge().await;
    let quiet = alerting.evaluate(now_ms()).await.unwrap();
    assert!(quiet.firing.is_empty(), "{quiet:?}");
    assert!(w.mails().is_empty() && w.hooks().is_empty());

    // --- The platform stops accepting our credentials while a car is sold.
    w.plugin_secrets.set("autotrader", "secret", WRONG_SECRET);
    w.sandbox.revoke_tokens();
    w.stock[0].status = StockStatus::Sold;
    w.export();
    w.app.engine.sync_once().await.unwrap();
    assert!(
        w.app.store.paused("autotrader").unwrap().is_some(),
        "the engine paused the platform"
    );

    let report = alerting.evaluate(now_ms()).await.unwrap();
    assert_eq!(
        report.firing,
        ["platform_paused:autotrader", "sold_still_listed:autotrader"]
    );
    assert!(report.failed.is_empty(), "{report:?}");
    let mails = w.sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1, "one e-mail lists both alerts");
    assert_eq!(
        mails[0].subject,
        "[forecourt] 2 firing: autotrader is paused: it refused our credentials (+1 more)"
    );
    let body = &mails[0].text;
    assert!(
        body.contains("FIRING: autotrader is paused: it refused our credentials"),
        "{body}"
    );
    assert!(
        body.contains("FIRING: autotrader: 1 sold or withdrawn vehicle still listed after 0 s"),
        "{body}"
    );
    let sold = &w.stock[0];
    let line = format!(
        "{} ({}): sold",
        sold.stock_id,
        sold.registration.as_deref().unwrap()
    );
    assert!(
        body.contains(&line),
        "stock id and registration listed:\n{body}"
    );
    assert_clean(&mails[0].raw);
    assert_clean(body);
    assert_eq!(w.hooks().len(), 1, "one webhook call");
    let text = w.hook_text(0);
    assert!(text.starts_with(&mails[0].subject), "{text}");
    assert!(text.contains(&line));
    assert_clean(&text);

    // Still firing: nothing within the cooldown, nor after a restart.
    alerting.evaluate(now_ms() + 60_000).await.unwrap();
    let restarted = w.alerting();
    let report = restarted.evaluate(now_ms() + 120_000).await.unwrap();
    assert_eq!(report.firing.len(), 2);
    assert!(report.sent.is_empty(), "{report:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!((w.mails().len(), w.hooks().len()), (1, 1), "no repeat");

    // --- The operator fixes the secret and resumes the platform.
    w.plugin_secrets
        .set("autotrader", "secret", PLATFORM_SECRET);
    w.app
        .store
        .set_paused("autotrader", None, now_ms())
        .unwrap();
    w.converge().await;
    assert!(w.app.store.discrepancies().unwrap().is_empty());
    let report = restarted.evaluate(now_ms()).await.unwrap();
    assert!(report.firing.is_empty(), "{report:?}");
    let mails = w.sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(
        mails[1].subject,
        "[forecourt] 2 resolved: autotrader is paused: it refused our credentials (+1 more)"
    );
    assert!(mails[1]
        .text
        .contains("RESOLVED: autotrader: 1 sold or withdrawn vehicle"));
    assert!(mails[1].text.contains("was firing from"));
    assert_clean(&mails[1].raw);
    assert_eq!(w.hooks().len(), 2);
    assert!(w.hook_text(1).contains("RESOLVED: autotrader is paused"));
    assert!(w.app.store.alert_records().unwrap().is_empty());

    // --- An outage: every call answered 503 while two prices change.
    w.sandbox.set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    for v in &mut w.stock[1..3] {
        v.price.as_mut().unwrap().amount_minor -= 50_000;
    }
    w.export();
    let started = Instant::now();
    let report = loop {
        w.app.engine.sync_once().await.unwrap();
        let report = restarted.evaluate(now_ms()).await.unwrap();
        if !report.firing.is_empty() {
            break report;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no failure alert"
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
    };
    assert_eq!(report.firing, ["delivery_failures:autotrader"]);
    let mails = w.sink.wait_for(3, Duration::from_secs(10)).await;
    assert!(
        mails[2]
            .subject
            .starts_with("[forecourt] FIRING: autotrader: ")
            && mails[2].subject.ends_with("deliveries in a row failed"),
        "{}",
        mails[2].subject
    );
    assert!(mails[2].text.contains("Last error class: transient"));
    assert_eq!(w.hooks().len(), 3);

    // More failures while firing: no more messages.
    w.app.engine.sync_once().await.unwrap();
    restarted.evaluate(now_ms()).await.unwrap();
    assert_eq!((w.mails().len(), w.hooks().len()), (3, 3));

    // The platform recovers: the queued changes go through, and a recovery follows.
    w.sandbox.set_faults(Faults::default());
    w.converge().await;
    restarted.evaluate(now_ms()).await.unwrap();
    let mails = w.sink.wait_for(4, Duration::from_secs(10)).await;
    assert!(
        mails[3]
            .subject
            .starts_with("[forecourt] RESOLVED: autotrader: "),
        "{}",
        mails[3].subject
    );
    assert_eq!(w.hooks().len(), 4);
    for (i, mail) in mails.iter().enumerate() {
        assert_clean(&mail.raw);
        assert_clean(&w.hook_text(i));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_evaluates_alerts_on_its_own_interval() {
    let w = World::new().await;
    w.converge().await;
    // An operator's pause: the rule does not care why.
    w.app
        .store
        .set_paused("autotrader", Some("maintenance"), now_ms())
        .unwrap();
    let alerting = w.alerting();
    assert_eq!(alerting.settings().interval, Duration::from_secs(10));
    let engine = &w.app.engine;
    let run = forecourt::alerts::beside(Some(&alerting), engine.run(Duration::from_secs(3600)));
    let watch = async {
        let started = Instant::now();
        while w.hooks().is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "no alert within 40 s of starting the scheduler"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        engine.stop();
    };
    tokio::join!(run, watch);
    let text = w.hook_text(0);
    assert!(
        text.starts_with("[forecourt] FIRING: autotrader is paused"),
        "{text}"
    );
    assert_eq!(w.sink.wait_for(1, Duration::from_secs(10)).await.len(), 1);
}
