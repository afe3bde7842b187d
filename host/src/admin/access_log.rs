//! The access log: one row per request (who, method, path, status, outcome,
//! duration, peer). Tokens never reach it: `who` is the token's name, and
//! query values under secret-looking keys are replaced before writing.

use crate::store::{AccessRecord, SqliteStore};

/// Query keys whose values are never logged.
const SECRET_KEYS: &[&str] = &[
    "token",
    "access_token",
    "auth",
    "authorization",
    "key",
    "api_key",
    "apikey",
    "secret",
    "password",
    "passwd",
    "signature",
    "sig",
    "code",
];

/// The path, and the query with secret-looking values replaced by `redacted`.
pub fn loggable_path(path: &str, query: Option<&str>) -> String {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return path.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let lower = key.to_ascii_lowercase();
            let secret = SECRET_KEYS
                .iter()
                .any(|s| lower == *s || lower.ends_with(&format!("_{s}")));
            // A value that looks like one of our tokens is hidden whatever its key.
            if secret || value.contains("fct_") {
                format!("{key}=redacted")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// The outcome recorded for a status.
pub fn outcome(status: u16) -> &'static str {
    match status {
        401 => "unauthenticated",
        403 => "forbidden",
        400..=499 => "client_error",
        500..=599 => "server_error",
        _ => "ok",
    }
}

/// Write a row; a failure is logged, never turned into a failed request.
pub fn write(store: &SqliteStore, record: &AccessRecord) {
    if let Err(error) = store.log_access(record) {
        tracing::error!(%error, "Cannot write the admin access log.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_queries_are_redacted() {
        assert_eq!(loggable_path("/api/jobs", None), "/api/jobs");
        assert_eq!(
            loggable_path(
                "/api/jobs",
                Some("platform=autotrader&token=abc&x=fct_123_zzz&client_secret=s")
            ),
            "/api/jobs?platform=autotrader&token=redacted&x=redacted&client_secret=redacted"
        );
        assert_eq!(outcome(401), "unauthenticated");
        assert_eq!(outcome(404), "client_error");
        assert_eq!(outcome(202), "ok");
    }
}
