//! An export published at an HTTP(S) URL, fetched on the source's schedule.
//!
//! Conditional GET (`If-None-Match` with the last `ETag`, else
//! `If-Modified-Since` with the last `Last-Modified`) means an unchanged
//! export costs a 304 and no parsing; a server without validators that
//! sends the same bytes again is recognised by content hash. Optional
//! basic or bearer credentials come from the secret store.

use super::auth::{CredentialKeys, Credentials, Scheme};
use super::directory::{default_max_bytes, validate_max_bytes};
use super::http_client::{redact, HttpClient};
use super::state::StateFile;
use super::{
    sha256_hex, BuildContext, Document, Invalid, Origin, Pickup, Settlement, TransportError,
};
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// `[source.document.url]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlConfig {
    /// `http://` or `https://` address of the export.
    pub address: Spanned<String>,
    /// `none` (default), `basic` or `bearer`.
    #[serde(default = "no_auth")]
    pub auth: Spanned<Scheme>,
    /// Basic: the user name.
    #[serde(default)]
    pub username: Option<Spanned<String>>,
    /// Basic: the secret holding the password.
    #[serde(default)]
    pub password_secret: Option<Spanned<String>>,
    /// Bearer: the secret holding the token.
    #[serde(default)]
    pub token_secret: Option<Spanned<String>>,
    /// Deadline for the whole request, 1 to 600 seconds (default 60).
    #[serde(default = "default_timeout")]
    pub timeout_secs: Spanned<u64>,
    /// Largest export accepted, in bytes (default 128 MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: Spanned<u64>,
    /// Extra CA certificates (PEM) to trust, for a DMS with a private CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn no_auth() -> Spanned<Scheme> {
    Spanned::new(0..0, Scheme::None)
}
fn default_timeout() -> Spanned<u64> {
    Spanned::new(0..0, 60)
}

impl UrlConfig {
    /// Resolve relative paths against the configuration file's directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        if let Some(ca) = &mut self.ca_file {
            super::resolve(base, ca);
        }
    }

    fn credentials(&self) -> Result<Credentials, Invalid> {
        CredentialKeys {
            auth: &self.auth,
            username: self.username.as_ref(),
            password_secret: self.password_secret.as_ref(),
            token_secret: self.token_secret.as_ref(),
        }
        .validate()
    }

    /// Check the settings; keys are relative to this table.
    pub fn validate(&self) -> Result<(), Invalid> {
        let address = self.address.get_ref();
        let uri: Result<http::Uri, _> = address.parse();
        let ok = matches!(&uri, Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
        if !ok {
            return Err(Invalid::new(
                self.address.span(),
                "address",
                "must be an http:// or https:// URL",
            ));
        }
        if address.contains('@')
            && address
                .split("://")
                .nth(1)
                .is_some_and(|r| r.split('/').next().is_some_and(|a| a.contains('@')))
        {
            return Err(Invalid::new(
                self.address.span(),
                "address",
                "must not carry credentials: use auth, username and password_secret",
            ));
        }
        let credentials = self.credentials()?;
        if credentials != Credentials::None && address.starts_with("http://") {
            tracing::warn!(url = %redact(address), "Credentials will be sent over plain HTTP.");
        }
        if !(1..=600).contains(self.timeout_secs.get_ref()) {
            return Err(Invalid::new(
                self.timeout_secs.span(),
                "timeout_secs",
                format!("is {}; allowed 1 to 600", self.timeout_secs.get_ref()),
            ));
        }
        validate_max_bytes(&self.max_bytes)
    }

    /// The running pickup (reads the CA file, checks the secrets exist).
    pub fn build(&self, ctx: &BuildContext) -> Result<UrlPickup, TransportError> {
        let credentials = self
            .credentials()
            .map_err(|e| TransportError::permanent(format!("{}: {}", e.key, e.message)))?;
        credentials.check_secrets(ctx)?;
        Ok(UrlPickup {
            url: self.address.get_ref().clone(),
            credentials,
            client: HttpClient::new(
                self.ca_file.as_deref(),
                Duration::from_secs(*self.timeout_secs.get_ref()),
                *self.max_bytes.get_ref(),
            )?,
            ctx: ctx.clone(),
            state: StateFile::new(&ctx.data_dir, &ctx.owner),
        })
    }
}

/// A running URL pickup.
pub struct UrlPickup {
    url: String,
    credentials: Credentials,
    client: HttpClient,
    ctx: BuildContext,
    state: StateFile,
}

impl UrlPickup {
    async fn fetch_now(&self) -> Result<Option<Document>, TransportError> {
        let memory = self.state.load()?;
        let mut headers = HeaderMap::new();
        if let Some(etag) = memory
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(http::header::IF_NONE_MATCH, etag);
        } else if let Some(since) = memory
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(http::header::IF_MODIFIED_SINCE, since);
        }
        let authorization = self.credentials.header(&self.ctx)?;
        let response = self
            .client
            .get(&self.url, &headers, authorization.as_ref())
            .await?;
        let shown = redact(&response.url);
        match response.status {
            StatusCode::NOT_MODIFIED => return Ok(None),
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(TransportError::auth(format!(
                    "{shown}: the server refused our credentials ({})",
                    response.status
                )))
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                return Err(TransportError::permanent(format!(
                    "{shown}: no export there ({})",
                    response.status
                )))
            }
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
                return Err(TransportError::transient(format!("{shown}: {s}")))
            }
            s => {
                return Err(TransportError::permanent(format!(
                    "{shown}: unexpected answer {s}"
                )))
            }
        }
        let etag = response.header("etag");
        let last_modified = response.header("last-modified");
        let sha256 = sha256_hex(&response.body);
        if memory.knows(&sha256) {
            // The same export without validators (or new validators): skip it,
            // and remember the validators so next time is a cheap 304.
            self.state.update(|m| {
                m.etag = etag;
                m.last_modified = last_modified;
            })?;
            return Ok(None);
        }
        Ok(Some(Document {
            label: shown,
            bytes: response.body,
            sha256,
            origin: Origin::Http {
                etag,
                last_modified,
            },
        }))
    }

    fn settle_now(&self, document: &Document, outcome: &Settlement) -> Result<(), TransportError> {
        let Origin::Http {
            etag,
            last_modified,
        } = &document.origin
        else {
            return Ok(());
        };
        if let Settlement::Rejected(reason) = outcome {
            tracing::error!(url = %document.label, reason, "Export refused; nothing in it was stored. It is not fetched again until it changes.");
        }
        self.state.update(|m| {
            match outcome {
                Settlement::Ingested => m.ingested(&document.sha256),
                Settlement::Rejected(_) => m.refused(&document.sha256),
            }
            m.etag = etag.clone();
            m.last_modified = last_modified.clone();
        })
    }
}

impl Pickup for UrlPickup {
    fn describe(&self) -> String {
        format!("URL {}", redact(&self.url))
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Option<Document>, TransportError>> {
        Box::pin(self.fetch_now())
    }

    fn settle<'a>(
        &'a self,
        document: &'a Document,
        outcome: &'a Settlement,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move { self.settle_now(document, outcome) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> UrlConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn validation_names_the_key() {
        assert!(config("address = \"https://dms.example/stock.csv\"")
            .validate()
            .is_ok());
        assert_eq!(
            config("address = \"ftp://dms.example/stock.csv\"")
                .validate()
                .unwrap_err()
                .key,
            "address"
        );
        assert_eq!(
            config("address = \"https://u:p@dms.example/stock.csv\"")
                .validate()
                .unwrap_err()
                .key,
            "address"
        );
        assert_eq!(
            config("address = \"https://dms.example/\"\ntimeout_secs = 0")
                .validate()
                .unwrap_err()
                .key,
            "timeout_secs"
        );
        assert_eq!(
            config("address = \"https://dms.example/\"\nauth = \"basic\"")
                .validate()
                .unwrap_err()
                .key,
            "username"
        );
    }
}
