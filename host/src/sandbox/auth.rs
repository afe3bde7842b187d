//! Access tokens: issued for a known key and secret, good for the configured
//! lifetime, revocable in bulk (to test that clients re-authenticate).

use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Issued tokens and when each expires.
pub(crate) struct Tokens {
    lifetime: Duration,
    expiry: HashMap<String, Instant>,
}

/// What a presented token turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenState {
    Valid,
    Expired,
    /// Never issued, or revoked.
    Unknown,
}

impl Tokens {
    pub(crate) fn new(lifetime: Duration) -> Self {
        Tokens {
            lifetime,
            expiry: HashMap::new(),
        }
    }

    pub(crate) fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A fresh token, valid from `now` for the lifetime.
    pub(crate) fn issue(&mut self, now: Instant) -> String {
        // Forget tokens long expired, so a client that re-authenticates on
        // every call (which the Go-Live checks fail) cannot grow the map forever.
        let keep = self.lifetime.max(Duration::from_secs(3600));
        self.expiry
            .retain(|_, at| now.saturating_duration_since(*at) < keep);
        let token = hex(&rand::random::<[u8; 20]>());
        self.expiry.insert(token.clone(), now + self.lifetime);
        token
    }

    pub(crate) fn check(&self, token: &str, now: Instant) -> TokenState {
        match self.expiry.get(token) {
            Some(at) if now < *at => TokenState::Valid,
            Some(_) => TokenState::Expired,
            None => TokenState::Unknown,
        }
    }

    /// Revoke every token; returns how many were live.
    pub(crate) fn revoke_all(&mut self, now: Instant) -> usize {
        let live = self.expiry.values().filter(|at| now < **at).count();
        self.expiry.clear();
        live
    }
}

/// The token in an `Authorization: Bearer <token>` header.
pub(crate) fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `key` and `secret` from an `/authenticate` body: form-encoded or JSON,
/// whichever the content type says (or whichever parses, if it says neither).
pub(crate) fn credentials(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(String, String), String> {
    let is_json = content_type.is_some_and(|c| c.contains("json"))
        || (content_type.is_none() && body.trim_ascii_start().starts_with(b"{"));
    let fields: HashMap<String, String> = if is_json {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("body must be a JSON object".into());
        };
        map.into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect()
    } else {
        form_urlencoded::parse(body).into_owned().collect()
    };
    let field = |name: &str| {
        fields
            .get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| format!("missing {name}"))
    };
    Ok((field("key")?, field("secret")?))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_revoke() {
        let start = Instant::now();
        let mut tokens = Tokens::new(Duration::from_secs(10));
        let t = tokens.issue(start);
        assert_eq!(t.len(), 40);
        assert_eq!(tokens.check(&t, start), TokenState::Valid);
        assert_eq!(
            tokens.check(&t, start + Duration::from_secs(10)),
            TokenState::Expired
        );
        assert_eq!(tokens.check("nope", start), TokenState::Unknown);
        assert_eq!(tokens.revoke_all(start), 1);
        assert_eq!(tokens.check(&t, start), TokenState::Unknown);
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }

    #[test]
    fn credentials_from_form_or_json() {
        let form = credentials(
            Some("application/x-www-form-urlencoded"),
            b"key=k%201&secret=s",
        );
        assert_eq!(form, Ok(("k 1".into(), "s".into())));
        let json = credentials(Some("application/json"), br#"{"key":"k","secret":"s"}"#);
        assert_eq!(json, Ok(("k".into(), "s".into())));
        assert_eq!(credentials(None, br#" {"key":"k","secret":"s"}"#), json);
        assert_eq!(credentials(None, b"key=k"), Err("missing secret".into()));
        assert!(credentials(Some("application/json"), b"key=k").is_err());
    }
}
