//! Headless Chromium driven over the Chrome DevTools Protocol: launch
//! Debian's `/usr/bin/chromium` with a throw-away profile, attach to a page,
//! evaluate JavaScript, type, and click with real (trusted) mouse events.
//!
//! A minimal client on purpose: one WebSocket, commands answered in order,
//! events ignored. Tests that need Chromium call [`Browser::launch`]: with
//! CI=true a missing Chromium fails the test, elsewhere the test is skipped
//! with a note saying how to install it.

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A running browser with one page attached.
pub struct Browser {
    child: Child,
    socket: Socket,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// Whether Chromium is there; panics when it is missing and CI=true.
pub fn available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{CHROMIUM} is missing: the dashboard test needs Debian's chromium package (`apt-get install chromium`; .ci/run installs it)");
    }
    eprintln!("SKIPPED: {CHROMIUM} is missing; install Debian's chromium package to run the dashboard test");
    false
}

fn devtools_address(profile: &Path, child: &mut Child) -> (u16, String) {
    let file = profile.join("DevToolsActivePort");
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                if let Ok(port) = port.trim().parse() {
                    return (port, path.trim().to_string());
                }
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("chromium exited before opening DevTools: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "chromium did not open DevTools within a minute"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Browser {
    /// Launch headless Chromium and attach to a blank page.
    pub async fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,2000",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
        let (port, path) = devtools_address(profile.path(), &mut child);
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}{path}"))
            .await
            .expect("DevTools WebSocket");
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = browser
            .command(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = browser
            .command(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        browser.page("Page.enable", json!({})).await;
        browser.page("Runtime.enable", json!({})).await;
        browser
    }

    async fn command(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send to DevTools");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let next = tokio::time::timeout_at(deadline.into(), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("DevTools did not answer {method} within a minute"));
            let Some(Ok(Message::Text(text))) = next else {
                if next.is_none() {
                    panic!("DevTools closed the connection during {method}");
                }
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str()).expect("DevTools JSON");
            if reply["id"] == json!(id) {
                if let Some(error) = reply.get("error") {
                    panic!("DevTools {method} failed: {error}");
                }
                return reply["result"].clone();
            }
        }
    }

    async fn page(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.command(Some(&session), method, params).await
    }

    /// Go to `url` and wait for the load event's DOM to be there.
    pub async fn navigate(&mut self, url: &str) {
        self.page("Page.navigate", json!({"url": url})).await;
        self.wait_for("document.readyState === 'complete'", "the page to load")
            .await;
    }

    /// Evaluate an expression (awaiting a promise) and return its JSON value.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .page(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("`{expression}` threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Poll `condition` (a JavaScript expression) until it is true.
    pub async fn wait_for(&mut self, condition: &str, what: &str) {
        let started = Instant::now();
        loop {
            if self.eval(&format!("Boolean({condition})")).await == json!(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what} (`{condition}`); page text: {}",
                self.eval("document.body ? document.body.innerText : ''")
                    .await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Click the centre of the element `selector` matches with a real left
    /// mouse button press and release (trusted input, as a person clicks).
    pub async fn click(&mut self, selector: &str) {
        let selector_json = serde_json::to_string(selector).unwrap();
        let centre = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({selector_json}); if (!e) return null;
                   e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
                   return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
            ))
            .await;
        let (x, y) = match centre.as_array() {
            Some(xy) => (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap()),
            None => panic!("nothing matches `{selector}` to click"),
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.page(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await;
        }
    }

    /// Focus `selector` and type `text` into it as keyboard input.
    pub async fn type_into(&mut self, selector: &str, text: &str) {
        self.click(selector).await;
        self.page("Input.insertText", json!({"text": text})).await;
    }

    /// A PNG screenshot of the page.
    pub async fn screenshot(&mut self, path: &PathBuf) {
        use base64::Engine as _;
        let shot = self
            .page("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
