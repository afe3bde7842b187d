//! Enquiries end to end with real parts: the sandbox marketplace over
//! loopback (its enquiries API and signed webhook pushes), the autotrader
//! component's fetch-enquiries, a real SQLite file, the adf-crm component
//! POSTing ADF to a loopback CRM server, and e-mail delivery through a real
//! SMTP server (aiosmtpd) on loopback.

use forecourt::app::App;
use forecourt::config::RawConfig;
use forecourt::enquiries::{EnquiryQuery, EnquiryStore};
use forecourt::runtime::secrets::MemorySecrets;
use forecourt::sandbox::{Buyer, EnquiryWebhook, NewSandboxEnquiry, Sandbox, SandboxConfig};
use forecourt::store::Store;
use forecourt_tests::scripted::{Received, ScriptedServer};
use forecourt_tests::smtp::SmtpServer;
use forecourt_tests::*;
use std::path::Path;
use std::time::{Duration, Instant};

const ADVERTISER: &str = "10008899";
const WEBHOOK_SECRET: &str = "whsec-enquiries-test";
const CRM_TOKEN: &str = "crm-token-123";

struct World {
    dir: tempfile::TempDir,
    sandbox: Sandbox,
    crm: ScriptedServer,
    smtp: Option<SmtpServer>,
    app: App,
}

fn stage_adf_crm(plugins: &Path, crm_port: u16) {
    std::fs::write(
        plugins.join("adf-crm.wasm"),
        component_bytes("adf-crm.wasm"),
    )
    .unwrap();
    let manifest = std::fs::read_to_string(staged_dir().join("adf-crm.toml"))
        .unwrap()
        .replace(
            "https://crm.example.com",
            &format!("http://127.0.0.1:{crm_port}"),
        );
    std::fs::write(plugins.join("adf-crm.toml"), manifest).unwrap();
    // The manifest changed (its origin), so its publisher signs it again.
    sign_with_dev_key(&plugins.join("adf-crm.wasm"));
}

fn secrets() -> Box<MemorySecrets> {
    let s = sandbox_secrets();
    s.set("autotrader", "enquiry_webhook", WEBHOOK_SECRET);
    s.set("adf-crm", "api_token", CRM_TOKEN);
    s
}

/// The CRM: 201 with a Location, or 422 for a lead whose message asks for it.
fn crm_answer(r: &Received, n: usize) -> (u16, String) {
    if r.body.contains("REJECT-ME") {
        (422, r#"{"error":"lead refused"}"#.into())
    } else {
        (201, format!(r#"{{"id":"CRM-{n}"}}"#))
    }
}

async fn world(with_email: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let crm = ScriptedServer::start(Box::new(crm_answer)).await;
    let smtp = with_email.then(|| SmtpServer::start(dir.path()));
    let plugins = plugins_for_sandbox(dir.path(), sandbox.addr().port());
    stage_adf_crm(&plugins, crm.addr.port());
    let config_path = pipeline_config(dir.path(), &plugins, &sandbox.base_url(), "");
    let mut text = std::fs::read_to_string(&config_path).unwrap();
    text.push_str(&format!(
        r#"
[enquiries]
retention_days = 30
pull = ["autotrader"]
webhook = {{ listen = "127.0.0.1:0", platforms = ["autotrader"] }}

[[crm]]
id = "dealer-crm"
plugin = "adf-crm"
config = {{ endpoint = "http://{crm}/leads", dealer = {{ name = "Forecourt Motors", email = "sales@dealer.example" }}, platform_names = {{ autotrader = "Auto Trader" }} }}
grants = {{ plain_http_hosts = ["127.0.0.1"], private_network_hosts = ["127.0.0.1"] }}
retry = {{ base_ms = 5, cap_ms = 20, max_attempts = 5 }}
"#,
        crm = crm.addr
    ));
    if let Some(smtp) = &smtp {
        text.push_str(&format!(
            r#"
[[crm]]
id = "sales-inbox"
plugin = "adf-crm"
config = {{ dealer = {{ name = "Forecourt Motors", email = "sales@dealer.example" }}, platform_names = {{ autotrader = "Auto Trader" }} }}
email = {{ to = ["leads@crm.dealer.example"], from = "Forecourt <enquiries@forecourt.example>", smtp_host = "127.0.0.1", smtp_port = {port}, security = "none", timeout_secs = 10 }}
retry = {{ base_ms = 5, cap_ms = 20, max_attempts = 5 }}
"#,
            port = smtp.port
        ));
    }
    std::fs::write(&config_path, text).unwrap();
    export(dir.path(), &forecourt::sample::sample_stock(8, 11));
    let config = RawConfig::load(&config_path).unwrap();
    let app = forecourt::app::build_with_secrets(&config, Some(secrets()))
        .await
        .unwrap();
    // List the stock on the sandbox first: buyers enquire about listings.
    let started = Instant::now();
    loop {
        app.engine.sync_once().await.unwrap();
        if app.store.queue_depth(None).unwrap() == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "stock did not sync"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    World {
        dir,
        sandbox,
        crm,
        smtp,
        app,
    }
}

impl World {
    fn listed(&self) -> Vec<serde_json::Value> {
        self.sandbox
            .stock(ADVERTISER)
            .into_iter()
            .filter(|i| i["metadata"]["lifecycleState"] == "FORECOURT")
            .collect()
    }

    fn enquiry(
        &self,
        item: &serde_json::Value,
        by_reference: bool,
        name: &str,
        message: &str,
    ) -> NewSandboxEnquiry {
        let meta = &item["metadata"];
        NewSandboxEnquiry {
            advertiser_id: ADVERTISER.into(),
            stock_id: (!by_reference).then(|| meta["stockId"].as_str().unwrap().to_string()),
            external_stock_reference: by_reference
                .then(|| meta["externalStockReference"].as_str().unwrap().to_string()),
            buyer: Buyer {
                name: Some(name.into()),
                email: Some(format!(
                    "{}@example.com",
                    name.to_lowercase().replace(' ', ".")
                )),
                phone: Some("07700 900123".into()),
                postcode: Some("SK1 1AA".into()),
            },
            message: Some(message.into()),
            r#type: None,
        }
    }

    fn service(&self) -> &forecourt::enquiries::service::EnquiryService {
        self.app.enquiries.as_ref().expect("[enquiries] configured")
    }

    fn stored(&self) -> Vec<forecourt::enquiries::StoredEnquiry> {
        self.app
            .store
            .enquiries(&EnquiryQuery {
                limit: Some(1000),
                ..Default::default()
            })
            .unwrap()
    }

    /// Cycles (pull, deliver, purge) until no delivery is waiting.
    async fn settle(&self) {
        let started = Instant::now();
        loop {
            self.service().cycle().await.unwrap();
            if self.app.store.delivery_queue_depth(None).unwrap() == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "deliveries did not settle"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The body of a raw message, quoted-printable decoded (what a CRM's mail parser reads).
fn mail_body(raw: &str) -> String {
    let body = raw.split_once("\n\n").map(|(_, b)| b).unwrap_or("");
    if !raw.contains("Content-Transfer-Encoding: quoted-printable") {
        return body.to_string();
    }
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn text_between<'a>(doc: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = doc.find(open)? + open.len();
    let end = doc[start..].find(close)? + start;
    Some(&doc[start..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulled_and_pushed_enquiries_reach_the_store_once_and_every_crm_target() {
    let w = world(true).await;
    let receiver = w
        .service()
        .start_receiver(None)
        .await
        .unwrap()
        .expect("webhook configured");
    w.sandbox.set_enquiry_webhook(Some(EnquiryWebhook {
        url: format!("http://{}/enquiries/autotrader", receiver.addr()),
        secret: WEBHOOK_SECRET.into(),
    }));
    let listed = w.listed();
    assert!(listed.len() >= 3, "sample stock listed: {}", listed.len());

    // Three buyers; each enquiry is pushed to the webhook as it arrives...
    for (i, name) in ["Jane Buyer", "Sam Smith", "Ola Nowak"].iter().enumerate() {
        w.sandbox
            .add_enquiry(w.enquiry(&listed[i], i % 2 == 0, name, "Is it still available?"))
            .await
            .unwrap();
    }
    assert_eq!(w.sandbox.stats().enquiry_pushes, 3);
    let stored = w.stored();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|e| e.via == "push"));

    // ...and pulled again by fetch-enquiries: recognised, not stored twice.
    let report = w.service().cycle().await.unwrap();
    let pull = report.pulls[0].as_ref().unwrap();
    assert_eq!((pull.stored, pull.duplicates), (0, 3), "{pull:?}");
    assert!(
        w.sandbox.stats().enquiries >= 1,
        "the plugin read the sandbox's enquiries API"
    );
    w.settle().await;
    assert_eq!(w.stored().len(), 3);

    // Each enquiry is stored with the vehicle it concerns.
    for (e, item) in w.stored().iter().rev().zip(&listed) {
        assert_eq!(
            e.stock_id.as_deref(),
            item["metadata"]["externalStockReference"].as_str(),
            "{}",
            e.uid
        );
    }

    // CRM by HTTP: one ADF POST per enquiry, credentials injected by the host.
    let posts = w.crm.received();
    assert_eq!(posts.len(), 3, "{posts:#?}");
    for p in &posts {
        assert_eq!(p.line, "POST /leads");
        assert_eq!(
            p.header("authorization"),
            Some(format!("Bearer {CRM_TOKEN}").as_str())
        );
        assert!(p
            .header("content-type")
            .unwrap()
            .starts_with("application/x-adf+xml"));
        assert!(p.body.contains("<?adf version=\"1.0\"?>"), "{}", p.body);
        let uid = p.header("idempotency-key").unwrap();
        assert!(w.stored().iter().any(|e| e.uid == uid));
        let stock = text_between(&p.body, "<stock>", "</stock>").unwrap();
        assert!(listed
            .iter()
            .any(|i| i["metadata"]["externalStockReference"] == stock));
        assert!(p
            .body
            .contains("<name part=\"full\" type=\"business\">Auto Trader</name>"));
        assert!(p.body.contains("<price type=\"asking\" currency=\"GBP\">"));
    }

    // The same documents by e-mail.
    let mails = w.smtp.as_ref().unwrap().messages();
    assert_eq!(mails.len(), 3, "{mails:#?}");
    for m in &mails {
        assert!(m.contains("Subject: Enquiry via autotrader: "), "{m}");
        assert!(m.contains("X-Forecourt-Enquiry: enq-"), "{m}");
        assert!(m.contains("To: leads@crm.dealer.example"), "{m}");
        let body = mail_body(m);
        assert!(body.contains("<?adf version=\"1.0\"?>"), "{body}");
        assert!(
            body.contains("<vendorname>Forecourt Motors</vendorname>"),
            "{body}"
        );
        // The same document the CRM got by HTTP.
        let uid = text_between(m, "X-Forecourt-Enquiry: ", "\n")
            .unwrap()
            .trim();
        let posted = posts
            .iter()
            .find(|p| p.header("idempotency-key") == Some(uid))
            .unwrap();
        assert_eq!(body.trim_end(), posted.body.trim_end());
    }
    for e in w.stored() {
        let deliveries = w.app.store.deliveries_of(e.id).unwrap();
        assert_eq!(deliveries.len(), 2);
        assert!(
            deliveries.iter().all(|d| d.state == "completed"),
            "{deliveries:?}"
        );
    }

    // A fourth enquiry while the webhook is off arrives by pull alone.
    w.sandbox.set_enquiry_webhook(None);
    w.sandbox
        .add_enquiry(w.enquiry(&listed[0], false, "Ann Other", "Part exchange?"))
        .await
        .unwrap();
    w.settle().await;
    let stored = w.stored();
    assert_eq!(stored.len(), 4);
    assert_eq!(stored.iter().filter(|e| e.via == "pull").count(), 1);
    assert_eq!(
        w.crm.received().len(),
        4,
        "earlier enquiries are not delivered again"
    );
    assert_eq!(w.smtp.as_ref().unwrap().messages().len(), 4);

    // Personal data never reaches the audit trail.
    let audit = serde_json::to_string(&w.app.store.audit_tail(10_000).unwrap()).unwrap();
    for secret in [
        "Jane Buyer",
        "jane.buyer@example.com",
        "07700 900123",
        "Is it still available",
    ] {
        assert!(!audit.contains(secret), "audit contains {secret}");
    }
    assert!(audit.contains("\"delivered\""));
    receiver.shutdown().await;
    drop(w.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_503_is_retried_and_a_refused_lead_is_dead_lettered() {
    let w = world(false).await;
    let listed = w.listed();
    // The CRM is unavailable for the first two requests.
    w.crm.queue(&[503, 503]);
    w.sandbox
        .add_enquiry(w.enquiry(&listed[0], true, "Jane Buyer", "Hello"))
        .await
        .unwrap();
    w.sandbox
        .add_enquiry(w.enquiry(&listed[1], true, "Sam Smith", "REJECT-ME please"))
        .await
        .unwrap();
    w.settle().await;

    let received = w.crm.received();
    let jane: Vec<&Received> = received
        .iter()
        .filter(|r| r.body.contains("Jane Buyer"))
        .collect();
    let posts_for = |name: &str| {
        w.crm
            .received()
            .iter()
            .filter(|r| r.body.contains(name))
            .count()
    };
    // Both leads went in the first batch and met the 503s; Jane's went through on the retry.
    assert!(jane.len() >= 2, "retried after 503: {}", jane.len());
    let keys: Vec<&str> = jane
        .iter()
        .map(|r| r.header("idempotency-key").unwrap())
        .collect();
    assert!(
        keys.windows(2).all(|k| k[0] == k[1]),
        "the same lead id on every retry"
    );
    let stored = w.stored();
    let jane_enquiry = stored.iter().find(|e| e.uid == keys[0]).unwrap();
    let d = &w.app.store.deliveries_of(jane_enquiry.id).unwrap()[0];
    assert_eq!(d.state, "completed");
    assert_eq!(d.attempts as usize, jane.len());
    assert!(d.crm_ref.as_deref().unwrap().starts_with("CRM-"));

    // 422: validation, dead-lettered at once, not retried.
    let dead = w.app.store.delivery_dead_letters(None).unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].error_class.as_deref(), Some("validation"));
    assert_eq!(dead[0].target, "dealer-crm");
    assert_eq!(
        posts_for("Sam Smith") as i64,
        dead[0].attempts,
        "no retry after 422"
    );
    w.service().cycle().await.unwrap();
    assert_eq!(
        posts_for("Sam Smith") as i64,
        dead[0].attempts,
        "dead letters stay dead"
    );

    // The operator puts it back; it fails the same way and is dead again.
    assert!(w
        .app
        .store
        .retry_delivery(dead[0].id, "operator:test", forecourt::store::now_ms())
        .unwrap());
    w.settle().await;
    assert_eq!(posts_for("Sam Smith") as i64, dead[0].attempts + 1);
    assert_eq!(w.app.store.delivery_dead_letters(None).unwrap().len(), 1);

    // Every step is in the audit trail.
    let audit = w.app.store.audit_tail(10_000).unwrap();
    let steps: Vec<&str> = audit
        .iter()
        .filter(|a| a.entry.kind == "enquiry")
        .filter_map(|a| a.entry.step.as_deref())
        .collect();
    for step in ["received", "retry", "delivered", "dead-letter"] {
        assert!(steps.contains(&step), "{step}: {steps:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_personal_data_and_a_replayed_enquiry_stays_a_duplicate() {
    let w = world(false).await;
    let listed = w.listed();
    w.sandbox
        .add_enquiry(w.enquiry(&listed[0], true, "Jane Buyer", "Hello"))
        .await
        .unwrap();
    w.settle().await;
    assert_eq!(
        w.stored()[0].customer.as_ref().unwrap().name.as_deref(),
        Some("Jane Buyer")
    );
    // 29 days on: kept. 31 days on: deleted.
    let day = 86_400_000;
    assert_eq!(
        w.service()
            .purge(forecourt::store::now_ms() + 29 * day)
            .unwrap(),
        0
    );
    assert_eq!(
        w.service()
            .purge(forecourt::store::now_ms() + 31 * day)
            .unwrap(),
        1
    );
    let e = &w.stored()[0];
    assert!(e.customer.is_none() && e.message.is_none() && e.purged_at.is_some());
    // The database files no longer hold the buyer's details anywhere
    // (secure delete overwrites the old cells; the WAL is truncated).
    let contains = |file: &str, needle: &str| {
        let bytes = std::fs::read(w.dir.path().join("data").join(file)).unwrap_or_default();
        bytes.windows(needle.len()).any(|x| x == needle.as_bytes())
    };
    for file in ["forecourt.db", "forecourt.db-wal"] {
        assert!(
            !contains(file, "jane.buyer@example.com"),
            "{file} still holds the e-mail address"
        );
        assert!(!contains(file, "Jane Buyer"), "{file} still holds the name");
    }

    // The platform sends it again (a re-pull from the start): still known, not re-delivered.
    let before = w.crm.received().len();
    let enquiries = w.app.store.enquiries(&EnquiryQuery::default()).unwrap();
    let again = forecourt::enquiries::NewEnquiry {
        platform_enquiry_id: enquiries[0].platform_enquiry_id.clone(),
        stock_id: enquiries[0].stock_id.clone(),
        remote_id: None,
        received_at_ms: enquiries[0].received_at,
        customer: forecourt::runtime::types::Person {
            name: Some("Jane Buyer".into()),
            email: None,
            phone: Some("1".into()),
            address: None,
        },
        message: None,
    };
    let ingest = w
        .app
        .store
        .store_enquiries(
            "autotrader",
            forecourt::enquiries::Via::Pull,
            &[again],
            None,
            &w.service().target_ids(),
            forecourt::store::now_ms(),
        )
        .unwrap();
    assert_eq!(ingest.duplicates, 1);
    w.settle().await;
    assert_eq!(w.crm.received().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_refuses_bad_stale_and_replayed_signatures() {
    let w = world(false).await;
    let receiver = w.service().start_receiver(None).await.unwrap().unwrap();
    let url = "/enquiries/autotrader".to_string();
    let body = br#"{"enquiries":[{"id":"W-1","stock_id":"X","received_at":"2026-11-28T10:15:00Z","customer":{"name":"Web Hook","email":"web@example.com"}}]}"#;
    let now = (forecourt::store::now_ms() / 1000) as u64;
    let post = |path: String, signature: Option<String>, body: Vec<u8>| {
        let addr = receiver.addr();
        async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let mut req = hyper::Request::post(path)
                .header("host", addr.to_string())
                .header("content-type", "application/json");
            if let Some(s) = signature {
                req = req.header("x-forecourt-signature", s);
            }
            let response = sender
                .send_request(
                    req.body(http_body_util::Full::new(bytes::Bytes::from(body)))
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = response.status().as_u16();
            use http_body_util::BodyExt;
            let text =
                String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes())
                    .into_owned();
            (status, text)
        }
    };
    let sign =
        |t: u64, b: &[u8]| forecourt::webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), t, b);

    let (status, text) = post(url.clone(), None, body.to_vec()).await;
    assert_eq!(status, 401, "{text}");
    let (status, _) = post(
        url.clone(),
        Some(forecourt::webhook_signature::sign(b"wrong", now, body)),
        body.to_vec(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, text) = post(url.clone(), Some(sign(now - 3600, body)), body.to_vec()).await;
    assert_eq!(status, 401);
    assert!(text.contains("stale"), "{text}");
    let tampered = String::from_utf8_lossy(body)
        .replace("W-1", "W-2")
        .into_bytes();
    let (status, _) = post(url.clone(), Some(sign(now, body)), tampered).await;
    assert_eq!(status, 401);
    let good = sign(now, body);
    let (status, text) = post(url.clone(), Some(good.clone()), body.to_vec()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text, r#"{"duplicates":0,"stored":1}"#);
    let (status, text) = post(url.clone(), Some(good), body.to_vec()).await;
    assert_eq!(status, 401, "a replay is refused");
    assert!(text.contains("replay"), "{text}");
    // A fresh signature of the same enquiry: accepted, but a duplicate.
    let (status, text) = post(url.clone(), Some(sign(now + 1, body)), body.to_vec()).await;
    assert_eq!(
        (status, text.as_str()),
        (200, r#"{"duplicates":1,"stored":0}"#)
    );
    let bad = br#"{"enquiries":[{"id":"W-3","received_at":"soon"}]}"#;
    let (status, text) = post(url.clone(), Some(sign(now, bad)), bad.to_vec()).await;
    assert_eq!(status, 400);
    assert!(text.contains("received_at"), "{text}");
    let (status, _) = post(
        "/enquiries/ebay".into(),
        Some(sign(now, body)),
        body.to_vec(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(w.stored().len(), 1);
    receiver.shutdown().await;
}
