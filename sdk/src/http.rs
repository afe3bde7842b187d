//! A small blocking HTTP client over the host's `wasi:http/outgoing-handler`.
//!
//! The host decides where a plugin may connect (the manifest's `[[http]]`
//! allowlist intersected with the operator's grants) and injects credentials
//! itself: a plugin never sees an API key, and the host refuses to let it set
//! `authorization`. Every failure comes back as a [`PluginError`] whose class
//! tells the host what to do next:
//!
//! - the host's allowlist refused the request, or the request can never be
//!   sent as built (bad URL, forbidden header): [`ErrorClass::Permanent`];
//! - transport failures (DNS, connect, TLS, timeouts, a cut-off response):
//!   [`ErrorClass::Transient`].
//!
//! A response with an error status is still a response: pass it through
//! [`error_for_status`] to turn 4xx/5xx into the right class.
//!
//! ```no_run
//! use forecourt_sdk::http::{self, Request};
//!
//! let resp = Request::post("https://api.example.com/stock")
//!     .header("accept", "application/json")
//!     .json(&serde_json::json!({"stockId": "A1"}))
//!     .send()?;
//! let created: serde_json::Value = http::error_for_status(resp)?.json()?;
//! # Ok::<(), forecourt_sdk::PluginError>(())
//! ```
//!
//! [`ErrorClass::Permanent`]: crate::ErrorClass::Permanent
//! [`ErrorClass::Transient`]: crate::ErrorClass::Transient

use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};

use crate::platform_bindings::wasi::http::outgoing_handler;
use crate::platform_bindings::wasi::http::types::{
    ErrorCode, Fields, HeaderError, IncomingBody, Method as WasiMethod, OutgoingBody,
    OutgoingRequest, RequestOptions, Scheme,
};
use crate::platform_bindings::wasi::io::streams::StreamError;
use crate::PluginError;

/// Bytes written to the host's output stream per call (the minimum every
/// `wasi:io` implementation accepts in one `blocking-write-and-flush`).
const WRITE_CHUNK: usize = 4096;

/// Bytes asked for per read of a response body.
const READ_CHUNK: u64 = 64 * 1024;

/// How much of an error response's body is quoted in the error message.
const ERROR_BODY_QUOTE: usize = 512;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// Whether requests with this method normally carry a body.
    fn has_body(self) -> bool {
        matches!(self, Method::Post | Method::Put | Method::Patch)
    }

    fn to_wasi(self) -> WasiMethod {
        match self {
            Method::Get => WasiMethod::Get,
            Method::Post => WasiMethod::Post,
            Method::Put => WasiMethod::Put,
            Method::Patch => WasiMethod::Patch,
            Method::Delete => WasiMethod::Delete,
        }
    }
}

/// An outgoing request, built up and then [`send`](Request::send)-ed.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
    /// A `.json()` body that could not be serialised; reported by `send`.
    body_error: Option<String>,
}

impl Request {
    /// A request with any method.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
            body_error: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// A `PATCH` request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::Patch, url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Add a header (repeat the call to send a header more than once).
    ///
    /// Credentials are not the plugin's business: the host injects them and
    /// refuses `authorization`, which makes [`send`](Request::send) fail.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Set the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.body_error = None;
        self
    }

    /// Set the body to `value` as JSON, and `content-type: application/json`
    /// unless a content type was set already.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.body = bytes;
                self.body_error = None;
            }
            Err(e) => self.body_error = Some(e.to_string()),
        }
        if !self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            self.headers
                .push(("content-type".into(), "application/json".into()));
        }
        self
    }

    /// Ask the host to give up connecting, or waiting for the first byte, or
    /// between two bytes, after `timeout`. The host's own limits still apply.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Send the request and read the whole response.
    ///
    /// Returns `Ok` for every response the server sent, whatever its status;
    /// see [`error_for_status`].
    pub fn send(self) -> Result<Response, PluginError> {
        if let Some(e) = &self.body_error {
            return Err(PluginError::permanent(format!(
                "the request body could not be serialised as JSON: {e}"
            )));
        }
        let url = Url::parse(&self.url)?;

        let fields = Fields::new();
        for (name, value) in &self.headers {
            fields
                .append(name, value.as_bytes())
                .map_err(|e| header_error(name, e))?;
        }
        // The whole body is known: say how long it is, so the request is not
        // sent chunked (some APIs refuse that with 411). A host that manages
        // the header itself may refuse it; that is fine.
        let has_length = self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
        if !has_length && (!self.body.is_empty() || self.method.has_body()) {
            let _ = fields.append("content-length", self.body.len().to_string().as_bytes());
        }

        let request = OutgoingRequest::new(fields);
        let invalid = |what: &str| {
            PluginError::permanent(format!("the host refused the {what} of `{}`", self.url))
        };
        request
            .set_method(&self.method.to_wasi())
            .map_err(|()| invalid("method"))?;
        request
            .set_scheme(Some(&url.scheme))
            .map_err(|()| invalid("scheme"))?;
        request
            .set_authority(Some(url.authority))
            .map_err(|()| invalid("authority"))?;
        request
            .set_path_with_query(Some(url.path_with_query))
            .map_err(|()| invalid("path"))?;

        let options = self.timeout.map(|t| {
            let options = RequestOptions::new();
            let nanos = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX);
            // A host that does not support a timeout refuses it; its own
            // limits then apply, which is all this setting asks for.
            let _ = options.set_connect_timeout(Some(nanos));
            let _ = options.set_first_byte_timeout(Some(nanos));
            let _ = options.set_between_bytes_timeout(Some(nanos));
            options
        });

        // The body handle must be taken before `handle` consumes the request;
        // it is written after, so a body larger than the host's buffer cannot
        // block before the request is on its way.
        let body = request
            .body()
            .map_err(|()| PluginError::permanent("the host refused the request body"))?;
        let future = outgoing_handler::handle(request, options)
            .map_err(|code| error_code(code, url.authority))?;

        let written = write_body(&body, &self.body);
        let finished = match written {
            Ok(()) => OutgoingBody::finish(body, None).map_err(|c| error_code(c, url.authority)),
            Err(e) => {
                drop(body);
                Err(e)
            }
        };

        // Prefer the response's own error: it says why the body could not go.
        let response = loop {
            match future.get() {
                Some(Ok(Ok(response))) => break response,
                Some(Ok(Err(code))) => return Err(error_code(code, url.authority)),
                Some(Err(())) => {
                    return Err(PluginError::transient(
                        "the host returned the HTTP response twice",
                    ))
                }
                None => future.subscribe().block(),
            }
        };
        let status = response.status();
        // A server may answer before reading the whole body (401, 413): its
        // answer says more than the failed write, unless it claims success.
        if let Err(e) = finished {
            if (200..300).contains(&status) {
                return Err(e);
            }
        }
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        let incoming = response
            .consume()
            .map_err(|()| PluginError::transient("the response body was already consumed"))?;
        let body = read_body(&incoming, url.authority)?;
        drop(IncomingBody::finish(incoming));

        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), PluginError> {
    if bytes.is_empty() {
        return Ok(());
    }
    let stream = body
        .write()
        .map_err(|()| PluginError::permanent("the host refused the request body stream"))?;
    for chunk in bytes.chunks(WRITE_CHUNK) {
        stream.blocking_write_and_flush(chunk).map_err(|e| {
            PluginError::transient(format!(
                "sending the request body failed: {}",
                stream_error(&e)
            ))
        })?;
    }
    Ok(())
}

fn read_body(incoming: &IncomingBody, authority: &str) -> Result<Vec<u8>, PluginError> {
    let stream = incoming
        .stream()
        .map_err(|()| PluginError::transient("the response body stream was already taken"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(match outgoing_http_error(&e) {
                    Some(code) => error_code(code, authority),
                    None => PluginError::transient(format!(
                        "reading the response from `{authority}` failed: {}",
                        e.to_debug_string()
                    )),
                })
            }
        }
    }
    Ok(body)
}

fn outgoing_http_error(e: &crate::platform_bindings::wasi::io::error::Error) -> Option<ErrorCode> {
    crate::platform_bindings::wasi::http::types::http_error_code(e)
}

fn stream_error(e: &StreamError) -> String {
    match e {
        StreamError::Closed => "the stream was closed".into(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
    }
}

/// Header names whose refusal means "the host injects credentials".
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
];

fn header_error(name: &str, e: HeaderError) -> PluginError {
    let lower = name.to_ascii_lowercase();
    match e {
        HeaderError::Forbidden if CREDENTIAL_HEADERS.contains(&lower.as_str()) => {
            PluginError::permanent(format!(
                "the host forbids plugins to set header `{lower}`: credentials are injected by the host"
            ))
        }
        HeaderError::Forbidden => PluginError::permanent(format!(
            "the host forbids plugins to set header `{lower}`"
        )),
        HeaderError::InvalidSyntax => {
            PluginError::permanent(format!("header `{name}` is not a valid HTTP header"))
        }
        HeaderError::Immutable => {
            PluginError::permanent(format!("header `{lower}` could not be set: headers are immutable"))
        }
    }
}

/// Classify a `wasi:http` error code.
fn error_code(code: ErrorCode, authority: &str) -> PluginError {
    use ErrorCode as E;
    match code {
        E::HttpRequestDenied => PluginError::permanent(format!(
            "the host's allowlist refused the request to `{authority}`: \
             the plugin manifest must declare it and the operator must grant it"
        )),
        E::DestinationIpProhibited => PluginError::permanent(format!(
            "the host refused to connect to `{authority}`: its address is prohibited"
        )),
        E::HttpRequestMethodInvalid
        | E::HttpRequestUriInvalid
        | E::HttpRequestUriTooLong
        | E::HttpRequestLengthRequired
        | E::HttpRequestBodySize(_)
        | E::HttpRequestHeaderSectionSize(_)
        | E::HttpRequestHeaderSize(_)
        | E::HttpRequestTrailerSectionSize(_)
        | E::HttpRequestTrailerSize(_)
        | E::LoopDetected
        | E::ConfigurationError => PluginError::permanent(format!(
            "the request to `{authority}` cannot be sent as built: {code:?}"
        )),
        // Everything else is the network or the server misbehaving.
        other => PluginError::transient(format!("the request to `{authority}` failed: {other:?}")),
    }
}

/// A received response, its body read in full.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers, names in lower case as the host gives them.
    pub headers: Vec<(String, String)>,
    /// The response body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// A body that is not the JSON expected is a permanent error: asking again
    /// will not change what the platform sends.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            PluginError::permanent(format!(
                "the response (HTTP {}) is not the JSON expected: {e}",
                self.status
            ))
        })
    }

    /// [`error_for_status`] as a method.
    pub fn error_for_status(self) -> Result<Response, PluginError> {
        error_for_status(self)
    }
}

/// Turn an error status into the [`PluginError`] class the host acts on.
///
/// | status | class |
/// |---|---|
/// | 2xx | `Ok(resp)` |
/// | 429 | rate-limited, with `retry-after` (seconds) in milliseconds |
/// | 401, 403 | auth |
/// | 400, 422 | validation |
/// | other 4xx (and 1xx, 3xx) | permanent |
/// | 5xx | transient |
///
/// The message quotes the start of the response body.
pub fn error_for_status(resp: Response) -> Result<Response, PluginError> {
    let status = resp.status;
    if resp.is_success() {
        return Ok(resp);
    }
    let message = status_message(&resp);
    Err(match status {
        429 => PluginError::rate_limited(message, retry_after_ms(&resp)),
        401 | 403 => PluginError::auth(message),
        400 | 422 => PluginError {
            class: crate::ErrorClass::Validation,
            message,
            retry_after_ms: None,
            field: None,
        },
        500..=599 => PluginError::transient(message),
        _ => PluginError::permanent(message),
    })
}

fn status_message(resp: &Response) -> String {
    let text = resp.text();
    let text = text.trim();
    if text.is_empty() {
        return format!("HTTP {}", resp.status);
    }
    let mut end = text.len().min(ERROR_BODY_QUOTE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let ellipsis = if end < text.len() { "…" } else { "" };
    format!("HTTP {}: {}{ellipsis}", resp.status, &text[..end])
}

/// `retry-after` in milliseconds, when given in seconds (an HTTP date needs a
/// clock the contract does not give plugins: the host's backoff applies).
fn retry_after_ms(resp: &Response) -> Option<u64> {
    let value = resp.header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let secs = value.parse::<f64>().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).ceil() as u64)
}

/// The parts of an absolute `http`/`https` URL a `wasi:http` request needs.
#[derive(Debug)]
struct Url<'a> {
    scheme: Scheme,
    authority: &'a str,
    path_with_query: &'a str,
}

impl<'a> Url<'a> {
    fn parse(url: &'a str) -> Result<Url<'a>, PluginError> {
        let bad = |why: &str| PluginError::permanent(format!("invalid URL `{url}`: {why}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else {
            return Err(bad("only http and https are supported"));
        };
        // Drop a fragment: it is never sent.
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        if authority.contains('@') {
            return Err(bad("credentials in URLs are not allowed"));
        }
        let path_with_query = if path.is_empty() { "/" } else { path };
        Ok(Url {
            scheme,
            authority,
            path_with_query,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn parses_urls() {
        let u = Url::parse("https://api.example.com:8443/v1/stock?page=2#top").unwrap();
        assert_eq!(u.authority, "api.example.com:8443");
        assert_eq!(u.path_with_query, "/v1/stock?page=2");
        assert!(matches!(u.scheme, Scheme::Https));
        let u = Url::parse("http://example.com").unwrap();
        assert_eq!(u.path_with_query, "/");
        let u = Url::parse("http://example.com?x=1").unwrap();
        assert_eq!(u.authority, "example.com");
        assert_eq!(u.path_with_query, "?x=1");
        for bad in [
            "example.com",
            "ftp://example.com/",
            "https:///x",
            "https://u:p@example.com/",
        ] {
            let e = Url::parse(bad).unwrap_err();
            assert_eq!(e.class, ErrorClass::Permanent, "{bad}");
        }
    }

    #[test]
    fn classifies_statuses() {
        let class = |r: Response| error_for_status(r).unwrap_err().class;
        assert!(error_for_status(resp(204, &[], "")).is_ok());
        assert_eq!(class(resp(401, &[], "")), ErrorClass::Auth);
        assert_eq!(class(resp(403, &[], "")), ErrorClass::Auth);
        assert_eq!(class(resp(400, &[], "")), ErrorClass::Validation);
        assert_eq!(class(resp(422, &[], "")), ErrorClass::Validation);
        assert_eq!(class(resp(404, &[], "")), ErrorClass::Permanent);
        assert_eq!(class(resp(302, &[], "")), ErrorClass::Permanent);
        assert_eq!(class(resp(503, &[], "")), ErrorClass::Transient);
        let e = error_for_status(resp(429, &[("Retry-After", "30")], "slow")).unwrap_err();
        assert_eq!(e.class, ErrorClass::RateLimited);
        assert_eq!(e.retry_after_ms, Some(30_000));
        assert_eq!(e.message, "HTTP 429: slow");
        let e = error_for_status(resp(
            429,
            &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")],
            "",
        ))
        .unwrap_err();
        assert_eq!(e.retry_after_ms, None);
    }

    #[test]
    fn quotes_long_bodies_on_a_char_boundary() {
        let body = "é".repeat(400);
        let e = error_for_status(resp(500, &[], &body)).unwrap_err();
        assert!(e.message.ends_with('…'));
        assert!(e.message.len() < 600);
    }

    #[test]
    fn names_forbidden_headers() {
        let e = header_error("Authorization", HeaderError::Forbidden);
        assert_eq!(e.class, ErrorClass::Permanent);
        assert_eq!(
            e.message,
            "the host forbids plugins to set header `authorization`: credentials are injected by the host"
        );
    }

    #[test]
    fn classifies_transport_errors() {
        let e = error_code(ErrorCode::HttpRequestDenied, "evil.example");
        assert_eq!(e.class, ErrorClass::Permanent);
        assert!(e.message.contains("allowlist"), "{}", e.message);
        let e = error_code(ErrorCode::ConnectionTimeout, "api.example");
        assert_eq!(e.class, ErrorClass::Transient);
    }
}
