//! A loopback HTTP server that answers from a script and records every
//! request in full (method, path, headers, body): a stand-in for a dealer's
//! CRM endpoint in delivery tests.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST /leads`
    pub line: String,
    /// Lower-case header names.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Received {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Decides the answer to a request: status and body.
pub type Responder = Box<dyn Fn(&Received, usize) -> (u16, String) + Send + Sync>;

/// The server.
pub struct ScriptedServer {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl ScriptedServer {
    /// Start; `respond(request, n)` answers the n-th request (0-based)
    /// unless a status was queued with [`ScriptedServer::queue`].
    pub async fn start(respond: Responder) -> ScriptedServer {
        use hyper::server::conn::http1;
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let statuses: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let respond = Arc::new(respond);
        let (r2, s2) = (received.clone(), statuses.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let (received, statuses, respond) = (r2.clone(), s2.clone(), respond.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (received, statuses, respond) =
                            (received.clone(), statuses.clone(), respond.clone());
                        async move {
                            let line = format!("{} {}", req.method(), req.uri());
                            let headers = req
                                .headers()
                                .iter()
                                .map(|(k, v)| {
                                    (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                                })
                                .collect();
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let r = Received {
                                line,
                                headers,
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let n = {
                                let mut all = received.lock().unwrap();
                                all.push(r.clone());
                                all.len() - 1
                            };
                            let queued = statuses.lock().unwrap().pop_front();
                            let (status, text) = match queued {
                                Some(status) => (status, String::new()),
                                None => respond(&r, n),
                            };
                            let mut response = hyper::Response::new(Full::new(Bytes::from(text)));
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
        ScriptedServer {
            addr,
            received,
            statuses,
        }
    }

    /// Answer the next requests with these statuses (empty bodies), in order.
    pub fn queue(&self, statuses: &[u16]) {
        self.statuses.lock().unwrap().extend(statuses);
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
