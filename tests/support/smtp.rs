//! A real SMTP server on loopback for e-mail delivery tests: Python's
//! `aiosmtpd` (from PyPI) with its Maildir handler, started as a child
//! process and killed when dropped. If `aiosmtpd` is missing the helper
//! installs it with pip; if that fails the test fails saying so (it never
//! skips, in CI or anywhere else).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running SMTP server that files every message into a Maildir.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    maildir: PathBuf,
    child: Child,
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn has_aiosmtpd() -> bool {
    Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Make sure `aiosmtpd` can be imported, installing it from PyPI if needed.
pub fn ensure_aiosmtpd() {
    if has_aiosmtpd() {
        return;
    }
    let installed = Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "aiosmtpd",
        ])
        .status();
    if has_aiosmtpd() {
        return;
    }
    panic!(
        "the e-mail delivery tests need a real SMTP server, Python's aiosmtpd, and it is not installed and could not be installed ({}: `{} -m pip install aiosmtpd` {}). Install it (pip install aiosmtpd) and run the tests again{}.",
        python(),
        python(),
        match installed {
            Ok(s) => format!("exited with {s}"),
            Err(e) => format!("could not run: {e}"),
        },
        if std::env::var("CI").as_deref() == Ok("true") { "; CI installs it in .ci/run" } else { "" }
    );
}

impl SmtpServer {
    /// Start on a free loopback port, filing mail into `dir/maildir`.
    pub fn start(dir: &Path) -> SmtpServer {
        ensure_aiosmtpd();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let maildir = dir.join("maildir");
        let child = Command::new(python())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start aiosmtpd: {e}"));
        let server = SmtpServer {
            port,
            maildir,
            child,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start listening on 127.0.0.1:{port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Every message received so far, raw (headers and body), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(self.maildir.join(d)).ok())
            .flatten()
            .flatten()
            .map(|e| {
                (
                    e.metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH),
                    e.path(),
                )
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
