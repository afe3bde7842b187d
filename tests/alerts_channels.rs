//! Alert channels against real servers on loopback: e-mail through aiosmtpd
//! (with AUTH, and with STARTTLS verified against a CA file), the webhook and
//! the SMS gateway through a hyper server, and `forecourt alerts test`.

use forecourt::alerts::channels::{
    ChannelError, ChannelKind, ChannelSpec, EmailSpec, Endpoint, Retry, SmsSpec, SmtpTls,
};
use forecourt::alerts::message::{render, Message};
use forecourt::alerts::state::{AlertRecord, Entry, EntryKind};
use forecourt::runtime::secrets::MemorySecrets;
use forecourt_tests::alerts::{test_certificates, HookServer, SmtpSink};
use std::time::Duration;

const PASSWORD: &str = "smtp-pa55word-not-for-mail";
const TOKEN: &str = "Bearer hook-token-0123456789";

fn alert() -> Message {
    let record = AlertRecord {
        key: "sold_still_listed:autotrader".into(),
        rule: "sold_still_listed".into(),
        subject: "autotrader".into(),
        headline: "autotrader: 1 sold or withdrawn vehicle still listed after 30 min".into(),
        details: vec!["S1001 (AB12CDE): sold 45 min ago".into()],
        firing_since: 1_750_000_000_000,
        resolved_at: None,
        updated_at: 1_750_000_000_000,
    };
    render(
        &[Entry {
            kind: EntryKind::Firing,
            record,
        }],
        "hub-test",
        1_750_000_060_000,
    )
}

fn fast() -> Retry {
    Retry {
        attempts: 3,
        first_delay: Duration::from_millis(10),
    }
}

fn secrets() -> MemorySecrets {
    let s = MemorySecrets::default();
    s.set("alerts", "smtp_password", PASSWORD);
    s.set("alerts", "hook_token", TOKEN);
    s
}

fn email(port: u16, tls: SmtpTls, ca_file: Option<std::path::PathBuf>, host: &str) -> ChannelSpec {
    ChannelSpec {
        name: "ops-mail".into(),
        rules: None,
        kind: ChannelKind::Email(EmailSpec {
            host: host.into(),
            port,
            tls,
            ca_file,
            username: Some("forecourt".into()),
            password_secret: Some("smtp_password".into()),
            from: "forecourt <alerts@dealer.example>".into(),
            to: vec!["ops@dealer.example".into(), "manager@dealer.example".into()],
            timeout: Duration::from_secs(10),
        }),
    }
}

#[tokio::test]
async fn an_email_arrives_through_a_real_smtp_server_with_auth_and_no_secret_in_it() {
    let sink = SmtpSink::start(Some(("forecourt", PASSWORD)), None);
    let spec = email(sink.port, SmtpTls::None, None, "127.0.0.1");
    let message = alert();
    spec.deliver(&message, &secrets(), fast()).await.unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.login.as_deref(), Some("forecourt"), "AUTH was used");
    assert_eq!(mail.mail_from, "alerts@dealer.example");
    assert_eq!(
        mail.rcpt_tos,
        ["ops@dealer.example", "manager@dealer.example"]
    );
    assert_eq!(
        mail.subject,
        "[forecourt] FIRING: autotrader: 1 sold or withdrawn vehicle still listed after 30 min"
    );
    assert_eq!(mail.content_type, "text/plain");
    assert!(
        mail.text.contains("S1001 (AB12CDE): sold 45 min ago"),
        "{}",
        mail.text
    );
    assert_eq!(
        mail.text.replace("\r\n", "\n").trim_end(),
        message.body.trim_end()
    );
    assert!(!mail.raw.contains(PASSWORD));
}

#[tokio::test]
async fn a_refused_smtp_password_fails_at_once_without_leaking_it() {
    let sink = SmtpSink::start(Some(("forecourt", "another-password")), None);
    let spec = email(sink.port, SmtpTls::None, None, "127.0.0.1");
    let started = std::time::Instant::now();
    let error = spec
        .deliver(
            &alert(),
            &secrets(),
            Retry {
                attempts: 3,
                first_delay: Duration::from_secs(5),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ChannelError::Smtp {
                permanent: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a 535 is not retried"
    );
    assert!(!error.to_string().contains(PASSWORD), "{error}");
    assert!(sink.messages().is_empty());

    let error = spec
        .deliver(&alert(), &MemorySecrets::default(), fast())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "secret `smtp_password` is not set (secrets file [alerts] table or FORECOURT_SECRET_ALERTS_SMTP_PASSWORD)"
    );
}

#[tokio::test]
async fn starttls_is_required_and_verified_against_the_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(dir.path());
    let sink = SmtpSink::start(Some(("forecourt", PASSWORD)), Some((&cert, &key)));

    // Without the relay's CA the certificate is refused and nothing is sent.
    let untrusted = email(sink.port, SmtpTls::StartTls, None, "127.0.0.1");
    let error = untrusted
        .deliver(
            &alert(),
            &secrets(),
            Retry {
                attempts: 1,
                first_delay: Duration::ZERO,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ChannelError::Smtp { .. }), "{error:?}");
    assert!(sink.messages().is_empty());

    let trusted = email(sink.port, SmtpTls::StartTls, Some(ca), "127.0.0.1");
    trusted.deliver(&alert(), &secrets(), fast()).await.unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert!(mails[0].tls, "the session was upgraded with STARTTLS");
    assert_eq!(mails[0].login.as_deref(), Some("forecourt"));
}

fn webhook(url: String) -> ChannelSpec {
    ChannelSpec {
        name: "chat".into(),
        rules: None,
        kind: ChannelKind::Webhook(Endpoint {
            url: Some(url),
            url_secret: None,
            auth_header: Some("Authorization".into()),
            auth_secret: Some("hook_token".into()),
            timeout: Duration::from_secs(5),
        }),
    }
}

#[tokio::test]
async fn the_webhook_posts_slack_json_and_retries_server_errors() {
    let server = HookServer::start().await;
    server.answer_next(&[503]);
    let message = alert();
    webhook(server.url("/services/T0/B0"))
        .deliver(&message, &secrets(), fast())
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one 503, then accepted");
    let last = &requests[1];
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("POST", "/services/T0/B0")
    );
    assert_eq!(last.header("content-type"), Some("application/json"));
    assert_eq!(last.header("authorization"), Some(TOKEN));
    let json: serde_json::Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"text": format!("{}\n\n{}", message.subject, message.body)})
    );
}

#[tokio::test]
async fn webhook_client_errors_are_not_retried_and_the_url_secret_is_used() {
    let server = HookServer::start().await;
    server.answer_next(&[404]);
    let s = secrets();
    s.set("alerts", "slack_url", &server.url("/secret-path/xyz"));
    let spec = ChannelSpec {
        name: "slack".into(),
        rules: None,
        kind: ChannelKind::Webhook(Endpoint {
            url: None,
            url_secret: Some("slack_url".into()),
            auth_header: None,
            auth_secret: None,
            timeout: Duration::from_secs(5),
        }),
    };
    let error = spec.deliver(&alert(), &s, fast()).await.unwrap_err();
    assert!(matches!(error, ChannelError::Status(404)), "{error:?}");
    assert!(!error.to_string().contains("secret-path"), "{error}");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.requests()[0].path, "/secret-path/xyz");
}

#[tokio::test]
async fn sms_posts_one_form_request_per_recipient_cut_to_one_message() {
    let server = HookServer::start().await;
    let spec = ChannelSpec {
        name: "sms".into(),
        rules: None,
        kind: ChannelKind::Sms(SmsSpec {
            endpoint: Endpoint {
                url: Some(server.url("/send")),
                url_secret: None,
                auth_header: Some("X-Api-Key".into()),
                auth_secret: Some("hook_token".into()),
                timeout: Duration::from_secs(5),
            },
            to: vec!["+447700900111".into(), "+447700900222".into()],
            body: "to={to}&text={message}&from=forecourt".into(),
            content_type: "application/x-www-form-urlencoded".into(),
        }),
    };
    let mut message = alert();
    message.short = format!("forecourt: FIRING {}", "x".repeat(300));
    spec.deliver(&message, &secrets(), fast()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for (request, to) in requests.iter().zip(["+447700900111", "+447700900222"]) {
        assert_eq!(request.header("x-api-key"), Some(TOKEN));
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let form: std::collections::HashMap<String, String> =
            url_pairs(&request.body).into_iter().collect();
        assert_eq!(form["to"], to);
        assert_eq!(form["from"], "forecourt");
        assert_eq!(form["text"].chars().count(), 160);
        assert!(form["text"].starts_with("forecourt: FIRING xxx"));
        assert!(form["text"].ends_with("..."));
    }
}

fn url_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            let decode = |s: &str| {
                let s = s.replace('+', " ");
                let mut out = Vec::new();
                let bytes = s.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' {
                        out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                        i += 3;
                    } else {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
                String::from_utf8(out).unwrap()
            };
            (decode(k), decode(v))
        })
        .collect()
}

#[tokio::test]
async fn alerts_test_sends_through_every_configured_channel_with_file_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(Some(("forecourt", PASSWORD)), None);
    let hook = HookServer::start().await;
    std::fs::write(
        dir.path().join("secrets.toml"),
        format!("[alerts]\nsmtp_password = \"{PASSWORD}\"\nhook_token = \"{TOKEN}\"\n"),
    )
    .unwrap();
    let config = dir.path().join("forecourt.toml");
    std::fs::write(
        &config,
        format!(
            r#"data_dir = "data"
secrets_file = "secrets.toml"

[alerts]
[[alerts.channel]]
kind = "email"
name = "ops-mail"
smtp_host = "127.0.0.1"
smtp_port = {port}
tls = "none"
username = "forecourt"
password_secret = "smtp_password"
from = "alerts@dealer.example"
to = ["ops@dealer.example"]

[[alerts.channel]]
kind = "webhook"
url = "{hook}"
auth_header = "Authorization"
auth_secret = "hook_token"
"#,
            port = sink.port,
            hook = hook.url("/hook")
        ),
    )
    .unwrap();
    let code = forecourt::alerts::command::run(forecourt::alerts::command::AlertsCommand::Test {
        config: forecourt::commands::ConfigArg { config },
        channel: None,
    })
    .await
    .unwrap();
    assert_eq!(code, 0);
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        mails[0].subject,
        "[forecourt] Test alert through channel ops-mail"
    );
    let hooks = hook.requests();
    assert_eq!(hooks.len(), 1);
    assert!(
        hooks[0].body.contains("Test alert through channel webhook"),
        "{}",
        hooks[0].body
    );
}
