//! A real OpenSSH server on loopback for the SFTP tests: Debian's
//! `openssh-server` (`/usr/sbin/sshd`), started by the test with a
//! generated host key, a generated client key in `authorized_keys`, its own
//! configuration, port and pid file, and stopped when dropped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the server.
pub const SSHD: &str = "/usr/sbin/sshd";

/// The local account used for password authentication (created by the
/// test when it runs as root, as CI does).
pub const PASSWORD_USER: &str = "forecourt-sftp";

/// A running sshd.
pub struct Sshd {
    /// Its files (keys, configuration, log).
    pub dir: tempfile::TempDir,
    /// Loopback port.
    pub port: u16,
    /// The client's private key (authorised for [`Sshd::user`]).
    pub client_key: PathBuf,
    /// A known_hosts file naming this server's host key.
    pub known_hosts: PathBuf,
    /// `SHA256:...` of the host key.
    pub fingerprint: String,
    /// The user the key logs in as (whoever runs the test).
    pub user: String,
    child: Option<Child>,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn keygen(path: &Path) {
    run(Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "forecourt-test",
            "-f",
        ])
        .arg(path));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the tests run as root (needed for password authentication).
pub fn is_root() -> bool {
    run(Command::new("id").arg("-u")).trim() == "0"
}

impl Sshd {
    /// Generate keys and configuration and start the server; fails plainly
    /// when OpenSSH is not installed.
    pub fn start() -> Self {
        assert!(
            Path::new(SSHD).exists(),
            "OpenSSH server is not installed ({SSHD} is missing): install it with \
             `apt-get install -y openssh-server` (.ci/run does this on CI)"
        );
        let dir = tempfile::tempdir().unwrap();
        let host_key = dir.path().join("host_key");
        let client_key = dir.path().join("client_key");
        keygen(&host_key);
        keygen(&client_key);
        std::fs::copy(
            client_key.with_extension("pub"),
            dir.path().join("authorized_keys"),
        )
        .unwrap();
        let port = free_port();
        let host_pub = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
        let mut parts = host_pub.split_whitespace();
        let (kind, blob) = (parts.next().unwrap(), parts.next().unwrap());
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {kind} {blob}\n")).unwrap();
        let fingerprint = run(Command::new("ssh-keygen")
            .arg("-lf")
            .arg(host_key.with_extension("pub")))
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
        let user = run(Command::new("id").arg("-un")).trim().to_string();
        if is_root() {
            // sshd's privilege-separation directory (systemd makes it on a host).
            std::fs::create_dir_all("/run/sshd").unwrap();
        }
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nPubkeyAuthentication yes\n\
                 PasswordAuthentication yes\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 PermitRootLogin yes\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n"
            ),
        )
        .unwrap();
        let mut sshd = Self {
            dir,
            port,
            client_key,
            known_hosts,
            fingerprint,
            user,
            child: None,
        };
        sshd.resume();
        sshd
    }

    /// Start (again) on the same port with the same keys.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::File::create(self.dir.path().join("sshd.log")).unwrap();
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(self.dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd starts");
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("sshd exited with {status}: {}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "sshd did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop the server (the port stays reserved for [`Sshd::resume`] in practice).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Make sure [`PASSWORD_USER`] exists with `password` (root only; the
    /// account has no shell and logs in for SFTP only).
    pub fn ensure_password_user(password: &str) -> PathBuf {
        assert!(
            is_root(),
            "password authentication needs a local account: run the tests as root (CI does)"
        );
        let exists = Command::new("id")
            .arg(PASSWORD_USER)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        if !exists {
            run(Command::new("useradd").args([
                "--create-home",
                "--shell",
                "/usr/sbin/nologin",
                PASSWORD_USER,
            ]));
        }
        let mut child = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .expect("chpasswd runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{PASSWORD_USER}:{password}\n").as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "chpasswd failed");
        PathBuf::from(format!("/home/{PASSWORD_USER}"))
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}
