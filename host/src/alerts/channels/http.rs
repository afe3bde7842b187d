//! One HTTP POST to an operator-configured URL (webhook, SMS gateway):
//! hyper over tokio, rustls with the Mozilla roots for https, a deadline
//! over the whole exchange, no redirects. Plugin egress rules do not apply:
//! the operator chose this URL, and it may well be on the local network.

use super::ChannelError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Response bodies are read (so the connection ends cleanly) up to this size.
const MAX_RESPONSE: usize = 64 * 1024;

/// Check a URL at configuration time.
pub fn check_url(url: &str) -> Result<(), String> {
    parse(url).map(|_| ())
}

struct Target {
    tls: bool,
    host: String,
    port: u16,
    uri: http::Uri,
}

fn parse(url: &str) -> Result<Target, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("`{url}` must start with http or https")),
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{url}` has no host"))?
        .trim_matches(['[', ']'])
        .to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    Ok(Target {
        tls,
        host,
        port,
        uri,
    })
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            };
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

/// POST `body` to `url` with `headers`; Ok with the status when it is 2xx.
/// Errors never include the URL (it may carry a token) or the headers.
pub async fn post(
    url: &str,
    headers: &[(http::HeaderName, http::HeaderValue)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<u16, ChannelError> {
    let target = parse(url).map_err(|_| ChannelError::Settings("the URL is not valid".into()))?;
    tokio::time::timeout(timeout, exchange(target, headers, body))
        .await
        .map_err(|_| ChannelError::Timeout(timeout))?
}

async fn exchange(
    target: Target,
    headers: &[(http::HeaderName, http::HeaderValue)],
    body: Vec<u8>,
) -> Result<u16, ChannelError> {
    let connect = |e: std::io::Error| ChannelError::Connect(e.kind().to_string());
    let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(connect)?;
    let io: Box<dyn Io> = if target.tls {
        let name = rustls::pki_types::ServerName::try_from(target.host.clone())
            .map_err(|_| ChannelError::Settings("the URL's host is not a valid TLS name".into()))?;
        let tls = tokio_rustls::TlsConnector::from(tls_config())
            .connect(name, stream)
            .await
            .map_err(|e| ChannelError::Connect(format!("TLS: {e}")))?;
        Box::new(tls)
    } else {
        Box::new(stream)
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| ChannelError::Connect(e.to_string()))?;
    let conn = tokio::spawn(async move {
        let _ = conn.await;
    });
    // The authority as written, without any user:password@ part.
    let authority = target
        .uri
        .authority()
        .map_or(target.host.as_str(), |a| a.as_str())
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_string();
    let path = target
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut request = http::Request::post(path)
        .header(http::header::HOST, authority)
        .header(
            http::header::USER_AGENT,
            concat!("forecourt/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| ChannelError::Settings("the request could not be built".into()))?;
    for (name, value) in headers {
        request.headers_mut().insert(name.clone(), value.clone());
    }
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| ChannelError::Connect(e.to_string()))?;
    let status = response.status().as_u16();
    // Drain a little of the body so the server sees a clean exchange.
    let mut body = response.into_body();
    let mut read = 0;
    while let Some(Ok(frame)) = body.frame().await {
        read += frame.data_ref().map_or(0, Bytes::len);
        if read > MAX_RESPONSE {
            break;
        }
    }
    drop(sender);
    conn.abort();
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(ChannelError::Status(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://hooks.slack.com/services/T0/B0/x").is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook?x=1").is_ok());
        assert!(check_url("ftp://example.com/")
            .unwrap_err()
            .contains("http or https"));
        assert!(check_url("not a url").is_err());
        let t = parse("http://[::1]:9000/a?b=c").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls), ("::1", 9000, false));
    }
}
