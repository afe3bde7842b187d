//! A small HTTP(S) GET client for operator-configured URLs (export
//! pickups): hyper over rustls with the Mozilla roots plus an optional
//! private CA, one overall deadline, a cap on the body, and redirects
//! followed a few times (credentials are dropped when the origin changes).
//!
//! Plugins never use this: their traffic goes through the egress layer.

use super::TransportError;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// A response, body read in full.
#[derive(Debug)]
pub struct Response {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body (empty for 304).
    pub body: Vec<u8>,
    /// The URL that answered (after redirects).
    pub url: String,
}

impl Response {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// The client.
#[derive(Clone)]
pub struct HttpClient {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    max_bytes: u64,
}

impl HttpClient {
    /// A client trusting the Mozilla roots and, if given, the CA
    /// certificates in `ca_file` (PEM).
    pub fn new(
        ca_file: Option<&Path>,
        timeout: Duration,
        max_bytes: u64,
    ) -> Result<Self, TransportError> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        if let Some(path) = ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    TransportError::permanent(format!(
                        "cannot read CA certificates from {}: {e}",
                        path.display()
                    ))
                })?;
            if certs.is_empty() {
                return Err(TransportError::permanent(format!(
                    "{} holds no PEM certificate",
                    path.display()
                )));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    TransportError::permanent(format!(
                        "CA certificate in {} is not usable: {e}",
                        path.display()
                    ))
                })?;
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            tls: Arc::new(tls),
            timeout,
            max_bytes,
        })
    }

    /// GET `url` with `headers`, following redirects, within the deadline.
    /// `authorization` is sent only to the original origin.
    pub async fn get(
        &self,
        url: &str,
        headers: &HeaderMap,
        authorization: Option<&HeaderValue>,
    ) -> Result<Response, TransportError> {
        tokio::time::timeout(
            self.timeout,
            self.get_following(url, headers, authorization),
        )
        .await
        .map_err(|_| {
            TransportError::transient(format!(
                "{}: no complete answer within {} s",
                redact(url),
                self.timeout.as_secs()
            ))
        })?
    }

    async fn get_following(
        &self,
        url: &str,
        headers: &HeaderMap,
        authorization: Option<&HeaderValue>,
    ) -> Result<Response, TransportError> {
        let first: Uri = parse(url)?;
        let mut uri = first.clone();
        for _ in 0..=MAX_REDIRECTS {
            let same_origin =
                uri.scheme() == first.scheme() && uri.authority() == first.authority();
            let response = self
                .get_once(&uri, headers, authorization.filter(|_| same_origin))
                .await?;
            if !response.status.is_redirection() || response.status == StatusCode::NOT_MODIFIED {
                return Ok(response);
            }
            let location = response.header("location").ok_or_else(|| {
                TransportError::permanent(format!(
                    "{}: redirect {} without a Location",
                    redact(&uri.to_string()),
                    response.status
                ))
            })?;
            uri = join(&uri, &location)?;
            if first.scheme_str() == Some("https") && uri.scheme_str() != Some("https") {
                return Err(TransportError::permanent(format!(
                    "{}: refusing a redirect from HTTPS to plain HTTP",
                    redact(url)
                )));
            }
        }
        Err(TransportError::permanent(format!(
            "{}: more than {MAX_REDIRECTS} redirects",
            redact(url)
        )))
    }

    async fn get_once(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
        authorization: Option<&HeaderValue>,
    ) -> Result<Response, TransportError> {
        let shown = redact(&uri.to_string());
        let tls = uri.scheme_str() == Some("https");
        let host = uri
            .host()
            .ok_or_else(|| TransportError::permanent(format!("{shown}: no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| TransportError::transient(format!("{shown}: cannot connect: {e}")))?;
        let _ = stream.set_nodelay(true);
        let io: Box<dyn Stream> = if tls {
            let name = ServerName::try_from(host.clone())
                .map_err(|_| TransportError::permanent(format!("{shown}: invalid host name")))?;
            let stream = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, stream)
                .await
                .map_err(|e| {
                    let message = format!("{shown}: TLS handshake failed: {e}");
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        // Certificate refused: retrying will not help.
                        TransportError::permanent(message)
                    } else {
                        TransportError::transient(message)
                    }
                })?;
            Box::new(stream)
        } else {
            Box::new(stream)
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| TransportError::transient(format!("{shown}: {e}")))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut request = Request::get(path)
            .header(
                http::header::HOST,
                uri.authority().map(|a| a.as_str()).unwrap_or(&host),
            )
            .header(
                http::header::USER_AGENT,
                concat!("forecourt/", env!("CARGO_PKG_VERSION")),
            )
            .header(http::header::ACCEPT_ENCODING, "identity")
            .body(Empty::<Bytes>::new())
            .map_err(|e| TransportError::permanent(format!("{shown}: {e}")))?;
        request.headers_mut().extend(headers.clone());
        if let Some(value) = authorization {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value.clone());
        }
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| TransportError::transient(format!("{shown}: {e}")))?;
        let (parts, mut body) = response.into_parts();
        if let Some(length) = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if length > self.max_bytes {
                return Err(too_large(&shown, self.max_bytes));
            }
        }
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| TransportError::transient(format!("{shown}: body: {e}")))?;
            if let Some(data) = frame.data_ref() {
                if (bytes.len() + data.len()) as u64 > self.max_bytes {
                    return Err(too_large(&shown, self.max_bytes));
                }
                bytes.extend_from_slice(data);
            }
        }
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body: bytes,
            url: uri.to_string(),
        })
    }
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

fn too_large(shown: &str, max: u64) -> TransportError {
    TransportError::permanent(format!("{shown}: larger than max_bytes ({max} bytes)"))
}

fn parse(url: &str) -> Result<Uri, TransportError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| TransportError::permanent(format!("{}: not a URL: {e}", redact(url))))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(uri),
        _ => Err(TransportError::permanent(format!(
            "{}: must be an http:// or https:// URL with a host",
            redact(url)
        ))),
    }
}

/// Resolve a `Location` against the URL that sent it.
fn join(base: &Uri, location: &str) -> Result<Uri, TransportError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return parse(location);
    }
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    let scheme = base.scheme_str().unwrap_or("https");
    let path = if location.starts_with('/') {
        location.to_string()
    } else {
        let dir = base.path().rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        format!("{dir}/{location}")
    };
    parse(&format!("{scheme}://{authority}{path}"))
}

/// A URL as it may appear in logs: user information and query removed
/// (either may carry a token).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.split('?').next().unwrap_or_default().to_string();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_credentials_and_queries() {
        assert_eq!(
            redact("https://user:pw@dms.example/export.csv?token=abc"),
            "https://dms.example/export.csv"
        );
        assert_eq!(redact("http://dms.example"), "http://dms.example");
    }

    #[test]
    fn redirects_resolve_against_the_base() {
        let base: Uri = "https://dms.example/a/b/export.csv".parse().unwrap();
        assert_eq!(
            join(&base, "/x.csv").unwrap().to_string(),
            "https://dms.example/x.csv"
        );
        assert_eq!(
            join(&base, "y.csv").unwrap().to_string(),
            "https://dms.example/a/b/y.csv"
        );
        assert_eq!(
            join(&base, "http://other.example/z").unwrap().to_string(),
            "http://other.example/z"
        );
        assert!(parse("ftp://dms.example/x").is_err());
    }
}
