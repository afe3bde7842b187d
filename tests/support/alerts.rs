//! Alerting test helpers: a real SMTP server (aiosmtpd, from PyPI) on
//! loopback, started by the test, and a webhook receiver (hyper) that
//! records request bodies and can answer with chosen error statuses.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The Python that runs aiosmtpd: `$PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn python_has_aiosmtpd() -> bool {
    Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Make sure `aiosmtpd` can be imported, installing it from PyPI if needed.
/// Fails the test plainly when it cannot be installed (never skips).
pub fn ensure_aiosmtpd() {
    static CHECKED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let result = CHECKED.get_or_init(|| {
        if python_has_aiosmtpd() {
            return Ok(());
        }
        let installs: [&[&str]; 2] = [
            &["-m", "pip", "install", "--quiet", "aiosmtpd"],
            // Debian's own Python refuses plain pip installs (PEP 668).
            &["-m", "pip", "install", "--quiet", "--break-system-packages", "aiosmtpd"],
        ];
        for args in installs {
            let ok = Command::new(python())
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            if ok && python_has_aiosmtpd() {
                return Ok(());
            }
        }
        Err(format!(
            "the SMTP tests need the PyPI package aiosmtpd and it could not be installed with `python3 -m pip install aiosmtpd`{}",
            if std::env::var("CI").as_deref() == Ok("true") {
                " (CI=true: this is a failure, not a skip)"
            } else {
                "; install it and run the test again"
            }
        ))
    });
    if let Err(message) = result {
        panic!("{message}");
    }
}

/// One message the SMTP server received, decoded by Python's e-mail package.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// The login that authenticated, if any.
    pub login: Option<String>,
    /// Whether the session ran over STARTTLS.
    pub tls: bool,
    /// Decoded Subject.
    pub subject: String,
    /// From header.
    pub from: String,
    /// To header.
    pub to: String,
    /// MIME type of the body.
    pub content_type: String,
    /// Decoded text.
    pub text: String,
    /// The message as it arrived (headers and encoded body).
    #[serde(skip)]
    pub raw: String,
}

/// aiosmtpd on 127.0.0.1, stopped when dropped.
pub struct SmtpSink {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    /// Start a server; with `auth`, AUTH with this user and password is required;
    /// with `tls` (certificate and key files), STARTTLS is required.
    pub fn start(auth: Option<(&str, &str)>, tls: Option<(&Path, &Path)>) -> SmtpSink {
        ensure_aiosmtpd();
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py");
        let mut cmd = Command::new(python());
        cmd.arg(&script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap());
        if let Some((user, password)) = auth {
            cmd.env("SINK_USER", user).env("SINK_PASSWORD", password);
        }
        if let Some((cert, key)) = tls {
            cmd.env("SINK_TLS_CERT", cert).env("SINK_TLS_KEY", key);
        }
        let mut child = cmd.spawn().expect("python3 starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "the SMTP server did not start ({line:?}):\n{}",
                    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
                )
            });
        SmtpSink { port, dir, child }
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        let mut metas: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        metas.sort();
        metas
            .into_iter()
            .map(|p| {
                let mut mail: Mail =
                    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                mail.raw =
                    String::from_utf8_lossy(&std::fs::read(p.with_extension("eml")).unwrap())
                        .into_owned();
                mail
            })
            .collect()
    }

    /// Wait until at least `n` messages arrived (or fail after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                started.elapsed() < timeout,
                "expected {n} e-mail(s), got {}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing stdin stops the script; kill it if it does not stop at once.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test CA and a server certificate it signed for 127.0.0.1 and
/// localhost, made with the openssl command: `(ca.pem, cert.pem, key.pem)`.
pub fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca, ca_key) = (dir.join("ca.pem"), dir.join("ca.key"));
    let (cert, key, csr) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("cert.csr"),
    );
    let ext = dir.join("ext.cnf");
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let openssl = |args: &[&std::ffi::OsStr]| {
        let status = Command::new("openssl")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!("the openssl command is needed to make test certificates: {e}")
            });
        assert!(status.success(), "openssl {args:?} failed");
    };
    let s = |v: &'static str| std::ffi::OsStr::new(v);
    openssl(&[
        s("req"),
        s("-x509"),
        s("-newkey"),
        s("rsa:2048"),
        s("-nodes"),
        s("-days"),
        s("2"),
        s("-subj"),
        s("/CN=forecourt test CA"),
        s("-keyout"),
        ca_key.as_os_str(),
        s("-out"),
        ca.as_os_str(),
    ]);
    openssl(&[
        s("req"),
        s("-newkey"),
        s("rsa:2048"),
        s("-nodes"),
        s("-subj"),
        s("/CN=localhost"),
        s("-keyout"),
        key.as_os_str(),
        s("-out"),
        csr.as_os_str(),
    ]);
    openssl(&[
        s("x509"),
        s("-req"),
        s("-in"),
        csr.as_os_str(),
        s("-CA"),
        ca.as_os_str(),
        s("-CAkey"),
        ca_key.as_os_str(),
        s("-CAcreateserial"),
        s("-days"),
        s("2"),
        s("-extfile"),
        ext.as_os_str(),
        s("-out"),
        cert.as_os_str(),
    ]);
    (ca, cert, key)
}

/// One request the webhook receiver saw.
#[derive(Debug, Clone)]
pub struct Hook {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl Hook {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A hyper server on loopback that records every request and answers 200,
/// or the statuses queued with [`HookServer::answer_next`].
pub struct HookServer {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Hook>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl HookServer {
    /// Start on an ephemeral loopback port.
    pub async fn start() -> HookServer {
        use http_body_util::BodyExt;
        use hyper::server::conn::http1;
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let statuses: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let (record, answers) = (seen.clone(), statuses.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let (record, answers) = (record.clone(), answers.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (record, answers) = (record.clone(), answers.clone());
                        async move {
                            let method = req.method().to_string();
                            let path = req.uri().to_string();
                            let headers = req
                                .headers()
                                .iter()
                                .map(|(k, v)| {
                                    (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                                })
                                .collect();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            record.lock().unwrap().push(Hook {
                                method,
                                path,
                                headers,
                                body: String::from_utf8_lossy(&body).into_owned(),
                            });
                            let status = answers.lock().unwrap().pop_front().unwrap_or(200);
                            let mut response = hyper::Response::new(http_body_util::Full::new(
                                bytes::Bytes::from_static(b"ok"),
                            ));
                            *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        HookServer {
            addr,
            seen,
            statuses,
        }
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answer the next requests with these statuses (then 200 again).
    pub fn answer_next(&self, statuses: &[u16]) {
        self.statuses.lock().unwrap().extend(statuses);
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Hook> {
        self.seen.lock().unwrap().clone()
    }
}
