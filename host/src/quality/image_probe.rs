//! Image sizes the DMS did not give: read from the first bytes of the file
//! (a ranged GET), cached by URL in the store, fetched in the background
//! with a timeout and a concurrency cap so a slow image server never holds
//! up a sync. A vehicle whose image sizes become known is planned again.
//!
//! The fetch is the host's own (not a plugin's), so it applies the same
//! address rules as plugin egress: public addresses only unless the
//! operator names a private image host.

use crate::store::{now_ms, Store};
use bytes::Bytes;
use http_body_util::BodyExt;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Bytes asked for: enough for the header of nearly every JPEG (EXIF
/// thumbnails can push the frame header back), and every PNG, GIF and WebP.
pub const RANGE_BYTES: usize = 64 * 1024;
/// A failed fetch is tried again after this long.
pub const RETRY_FAILED_MS: i64 = 6 * 3600 * 1000;
/// Fetches waiting or running at most; more are left for a later plan.
const MAX_PENDING: usize = 2_000;
/// After this many failures in a row a host is left alone for a while.
const HOST_FAILURES: u32 = 3;
const HOST_BACKOFF: Duration = Duration::from_secs(600);

/// Width and height in pixels, from a file's first bytes: `None` when more
/// bytes are needed, `Some(Err)` when the bytes are not a PNG, JPEG, GIF or WebP.
pub fn dimensions(b: &[u8]) -> Option<Result<(u32, u32), &'static str>> {
    let be16 = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]) as u32;
    let le16 = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as u32;
    let le24 = |i: usize| b[i] as u32 | (b[i + 1] as u32) << 8 | (b[i + 2] as u32) << 16;
    if b.len() < 12 {
        return None;
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        if b.len() < 24 {
            return None;
        }
        if &b[12..16] != b"IHDR" {
            return Some(Err("PNG without IHDR"));
        }
        let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
        let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
        return Some(Ok((w, h)));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some(Ok((le16(6), le16(8))));
    }
    if b.starts_with(b"RIFF") && &b[8..12] == b"WEBP" {
        if b.len() < 30 {
            return None;
        }
        return Some(match &b[12..16] {
            b"VP8 " if b[23..26] == [0x9d, 0x01, 0x2a] => {
                Ok((le16(26) & 0x3fff, le16(28) & 0x3fff))
            }
            b"VP8L" if b[20] == 0x2f => {
                let bits = u32::from_le_bytes([b[21], b[22], b[23], b[24]]);
                Ok(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => Ok((le24(24) + 1, le24(27) + 1)),
            _ => Err("unrecognised WebP chunk"),
        });
    }
    if b.starts_with(&[0xff, 0xd8]) {
        let mut i = 2;
        loop {
            if i + 4 > b.len() {
                return None;
            }
            if b[i] != 0xff {
                return Some(Err("corrupt JPEG marker"));
            }
            let marker = b[i + 1];
            match marker {
                0xff => i += 1, // fill byte
                0xd0..=0xd7 | 0x01 | 0xd8 => i += 2,
                0xd9 | 0xda => return Some(Err("JPEG without a frame header")),
                0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                    if i + 9 > b.len() {
                        return None;
                    }
                    return Some(Ok((be16(i + 7), be16(i + 5))));
                }
                _ => i += 2 + be16(i + 2) as usize,
            }
        }
    }
    Some(Err("not a PNG, JPEG, GIF or WebP image"))
}

/// The result of measuring one image.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Measured {
    /// Width and height in pixels.
    Size(u32, u32),
    /// Why the size could not be read (no URL content, no personal data).
    Failed(String),
}

/// A cached measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedSize {
    /// What was measured.
    pub measured: Measured,
    /// When (ms since the epoch).
    pub at: i64,
}

/// How the probe fetches.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Whole fetch, per image.
    pub timeout: Duration,
    /// Fetches in flight at once.
    pub concurrency: usize,
    /// Hosts on private networks that may be read.
    pub private_hosts: Vec<String>,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(3_000),
            concurrency: 4,
            private_hosts: vec![],
        }
    }
}

/// Reads image sizes in the background and remembers them.
pub struct ImageProbe {
    store: Arc<dyn Store>,
    settings: ProbeSettings,
    permits: Arc<tokio::sync::Semaphore>,
    /// URL -> vehicles waiting for it.
    pending: Mutex<HashMap<String, HashSet<String>>>,
    /// Measurements not finished: fetched, cached and their vehicles asked
    /// to re-plan. Leaves `pending` earlier (once the size is cached).
    unfinished: std::sync::atomic::AtomicUsize,
    /// host -> (failures in a row, last failure)
    hosts: Mutex<HashMap<String, (u32, Instant)>>,
}

impl ImageProbe {
    /// A probe writing to `store`.
    pub fn new(store: Arc<dyn Store>, settings: ProbeSettings) -> Arc<Self> {
        Arc::new(Self {
            permits: Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1))),
            store,
            settings,
            pending: Mutex::default(),
            unfinished: std::sync::atomic::AtomicUsize::new(0),
            hosts: Mutex::default(),
        })
    }

    /// Measurements waiting, running, or not yet handed back to the planner.
    pub fn pending(&self) -> usize {
        self.unfinished.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Measure `url` in the background for `stock_id`; returns at once.
    /// When the size becomes known the vehicle is planned again.
    pub fn schedule(self: &Arc<Self>, url: &str, stock_id: &str) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(waiting) = pending.get_mut(url) {
                waiting.insert(stock_id.to_string());
                return;
            }
            if pending.len() >= MAX_PENDING {
                return; // a later plan asks again
            }
            pending.insert(url.to_string(), [stock_id.to_string()].into());
            self.unfinished
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        let me = self.clone();
        let url = url.to_string();
        handle.spawn(async move {
            me.finish(&url).await;
            me.unfinished
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        });
    }

    /// Measure `url`, cache the result and ask its vehicles to re-plan.
    async fn finish(&self, url: &str) {
        let measured = match self.permits.clone().acquire_owned().await {
            Ok(_permit) => self.measure(url).await,
            Err(_) => Measured::Failed("probe closed".into()),
        };
        // Cache first, then leave `pending`: a plan in between must find
        // either the pending entry or the cached size, or it would fetch
        // the same URL again.
        let cached = self.store.put_image_size(url, &measured, now_ms());
        let waiting = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(url)
            .unwrap_or_default();
        if let Err(e) = cached {
            tracing::warn!(error = %e, "Could not cache an image size.");
            return;
        }
        if matches!(measured, Measured::Size(..)) {
            let ids: Vec<String> = waiting.into_iter().collect();
            if let Err(e) = self.store.request_replan(&ids) {
                tracing::warn!(error = %e, "Could not re-plan vehicles after measuring images.");
            }
        }
    }

    /// Measure now (bounded by the timeout), cache and return the result.
    pub async fn measure_and_cache(&self, url: &str) -> Measured {
        let measured = match self.permits.acquire().await {
            Ok(_permit) => self.measure(url).await,
            Err(_) => Measured::Failed("probe closed".into()),
        };
        let _ = self.store.put_image_size(url, &measured, now_ms());
        measured
    }

    async fn measure(&self, url: &str) -> Measured {
        let host = http::Uri::try_from(url)
            .ok()
            .and_then(|u| u.host().map(str::to_lowercase))
            .unwrap_or_default();
        if let Some((n, at)) = self
            .hosts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&host)
        {
            if *n >= HOST_FAILURES && at.elapsed() < HOST_BACKOFF {
                return Measured::Failed(format!("{host} failed {n} times in a row; resting"));
            }
        }
        let result = tokio::time::timeout(self.settings.timeout, fetch_size(url, &self.settings))
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "no answer within {} ms",
                    self.settings.timeout.as_millis()
                ))
            });
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok((w, h)) => {
                hosts.remove(&host);
                Measured::Size(w, h)
            }
            Err(e) => {
                let entry = hosts.entry(host).or_insert((0, Instant::now()));
                *entry = (entry.0 + 1, Instant::now());
                Measured::Failed(e)
            }
        }
    }
}

/// Reserved names (RFC 2606, RFC 6761) never resolve on the internet.
fn reserved(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    ["example", "invalid", "test", "localhost", "local"]
        .iter()
        .any(|tld| h == *tld || h.ends_with(&format!(".{tld}")))
}

async fn resolve(
    host: &str,
    port: u16,
    settings: &ProbeSettings,
) -> Result<Vec<SocketAddr>, String> {
    let allowed_private = settings
        .private_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(host));
    if reserved(host) && !allowed_private {
        return Err(format!("{host} is a reserved name"));
    }
    let addrs: Vec<SocketAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect(),
    };
    let usable: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| allowed_private || crate::runtime::egress::is_public(a.ip()))
        .collect();
    if usable.is_empty() {
        return Err(format!("{host} is not on a public address"));
    }
    Ok(usable)
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Read an image's size with a ranged GET, following up to three redirects.
pub async fn fetch_size(url: &str, settings: &ProbeSettings) -> Result<(u32, u32), String> {
    let mut url = url.to_string();
    for _ in 0..4 {
        let uri = http::Uri::try_from(url.as_str()).map_err(|_| "not a valid URL".to_string())?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("only http and https image URLs can be measured".into()),
        };
        let host = uri.host().ok_or("URL without a host")?.to_string();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let addrs = resolve(&host, port, settings).await?;
        let mut stream = None;
        let mut last = String::new();
        for addr in addrs {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = format!("cannot connect to {host}: {e}"),
            }
        }
        let stream = stream.ok_or(last)?;
        let io: Box<dyn Io> = if tls {
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|_| format!("{host} is not a valid TLS name"))?;
            Box::new(
                tokio_rustls::TlsConnector::from(crate::runtime::egress::tls_config())
                    .connect(name, stream)
                    .await
                    .map_err(|e| format!("TLS with {host}: {e}"))?,
            )
        } else {
            Box::new(stream)
        };
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
                .await
                .map_err(|e| format!("HTTP with {host}: {e}"))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let request = http::Request::get(path)
            .header(
                http::header::HOST,
                uri.authority().map(|a| a.as_str()).unwrap_or(&host),
            )
            .header(http::header::RANGE, format!("bytes=0-{}", RANGE_BYTES - 1))
            .header(http::header::ACCEPT, "image/*")
            .header(
                http::header::USER_AGENT,
                concat!("forecourt-image-probe/", env!("CARGO_PKG_VERSION")),
            )
            .body(http_body_util::Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("HTTP with {host}: {e}"))?;
        let status = response.status();
        if status.is_redirection() {
            let next = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or("redirect without a location")?;
            url = if next.starts_with("http://") || next.starts_with("https://") {
                next.to_string()
            } else {
                format!(
                    "{}://{}{next}",
                    uri.scheme_str().unwrap_or("https"),
                    uri.authority().map(|a| a.as_str()).unwrap_or(&host)
                )
            };
            driver.abort();
            continue;
        }
        if !(status == http::StatusCode::OK || status == http::StatusCode::PARTIAL_CONTENT) {
            driver.abort();
            return Err(format!("HTTP {}", status.as_u16()));
        }
        // Read only as far as the header: the server may ignore the range.
        let mut body = response.into_body();
        let mut bytes: Vec<u8> = Vec::new();
        let result = loop {
            match dimensions(&bytes) {
                Some(r) => break r.map_err(str::to_string),
                None if bytes.len() >= RANGE_BYTES => {
                    break Err("no image header in the first 64 KiB".into())
                }
                None => {}
            }
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes.extend_from_slice(data);
                    }
                }
                Some(Err(e)) => break Err(format!("reading from {host}: {e}")),
                None => {
                    break dimensions(&bytes)
                        .unwrap_or(Err("file ends before its header"))
                        .map_err(str::to_string)
                }
            }
        };
        driver.abort();
        return result;
    }
    Err("too many redirects".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/images")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn reads_sizes_of_real_files() {
        for (name, size) in [
            ("car-1024x768.jpg", (1024, 768)),
            ("car-900x700-progressive.jpg", (900, 700)),
            ("car-640x480.png", (640, 480)),
            ("car-1200x800.webp", (1200, 800)),
            ("car-801x601-lossless.webp", (801, 601)),
            ("car-320x240.gif", (320, 240)),
        ] {
            assert_eq!(dimensions(&fixture(name)), Some(Ok(size)), "{name}");
        }
    }

    #[test]
    fn asks_for_more_bytes_until_the_header_is_there_and_rejects_other_files() {
        let jpeg = fixture("car-1024x768.jpg");
        // Cut anywhere before the frame header: more is needed, never a wrong answer.
        for cut in [0, 5, 12, 20, 100] {
            assert_eq!(dimensions(&jpeg[..cut]), None, "cut at {cut}");
        }
        let png = fixture("car-640x480.png");
        assert_eq!(dimensions(&png[..20]), None);
        assert!(matches!(
            dimensions(b"<html><body>Not found</body></html>"),
            Some(Err(_))
        ));
        assert!(matches!(
            dimensions(b"\xff\xd8\xff\xda\x00\x00\x00\x00\x00\x00\x00\x00"),
            Some(Err(_))
        ));
    }

    #[test]
    fn reserved_names_are_never_looked_up() {
        assert!(reserved("images.forecourt-demo.example"));
        assert!(reserved("cdn.test"));
        assert!(!reserved("images.dealer.co.uk"));
    }
}
