//! Verifying signed webhook pushes: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<raw body>">`, the same scheme the host uses to sign what it sends
//! (`hmac-signature` in plugin manifests), so one partner-facing format
//! covers both directions.
//!
//! [`verify`] is pure (secret, header, body, now); [`ReplayGuard`] remembers
//! signatures already accepted until they are too old to be accepted anyway.
//! Nothing here knows which receiver calls it: the enquiry webhook uses it,
//! and any other push receiver (DMS pushes) can.

use std::collections::HashMap;
use std::sync::Mutex;

/// The header carrying the signature, unless a receiver is configured otherwise.
pub const DEFAULT_HEADER: &str = "x-forecourt-signature";

/// How far a timestamp may be from the host's clock, either way, by default.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

/// Why a push was refused. Messages never quote the body or the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature header.
    #[error("the request has no signature header")]
    Missing,
    /// The header is not `t=...,v1=...`.
    #[error("the signature header is malformed: {0}")]
    Malformed(String),
    /// The timestamp is outside the tolerance.
    #[error("the signature timestamp is {age_secs} s from the host's clock (tolerance {tolerance_secs} s): stale or replayed")]
    Stale {
        /// Distance from now, in seconds.
        age_secs: u64,
        /// The tolerance.
        tolerance_secs: u64,
    },
    /// No `v1` value matches the body under the secret.
    #[error("the signature does not match the body")]
    Mismatch,
    /// This exact signature was accepted before.
    #[error("the request was already received (replay)")]
    Replayed,
}

/// A verified signature: its timestamp and the value that identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signed timestamp (unix seconds).
    pub timestamp: u64,
    /// The matching `v1` value (hex), to recognise a replay.
    pub signature: String,
}

/// `t=<t>,v1=<hex>` for `body` at time `t`: what a sender puts in the header.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    crate::push::signature::sign(secret, i64::try_from(timestamp).unwrap_or(i64::MAX), body)
}

/// Check `header` against `body` under `secret` at `now` (unix seconds).
///
/// Several `v1=` values are allowed (a sender rotating its secret signs with
/// both); one must match. The comparison is constant-time. The parsing and
/// the MAC are the DMS pushes' (`push::signature`): one implementation of
/// the scheme for every receiver.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: u64,
    tolerance_secs: u64,
) -> Result<Verified, SignatureError> {
    use crate::push::signature as scheme;
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    match scheme::verify(header, body, &[secret], now, tolerance_secs) {
        Ok((parsed, signature)) => Ok(Verified {
            // A negative timestamp cannot be within the tolerance of now.
            timestamp: u64::try_from(parsed.timestamp).unwrap_or(0),
            signature,
        }),
        Err(scheme::SignatureError::Missing) => Err(SignatureError::Missing),
        Err(scheme::SignatureError::Malformed(why)) => Err(SignatureError::Malformed(why)),
        Err(scheme::SignatureError::Mismatch) => Err(SignatureError::Mismatch),
        Err(scheme::SignatureError::Stale {
            skew, tolerance, ..
        }) => Err(SignatureError::Stale {
            age_secs: skew.unsigned_abs(),
            tolerance_secs: tolerance,
        }),
    }
}

/// Remembers accepted signatures for as long as their timestamps would pass
/// the tolerance, so the same signed request cannot be accepted twice.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: Mutex<HashMap<String, u64>>,
}

impl ReplayGuard {
    /// Record `verified` as accepted; refuse it if it was accepted before.
    /// Entries older than the tolerance are forgotten (they fail as stale).
    pub fn accept(
        &self,
        verified: &Verified,
        now: u64,
        tolerance_secs: u64,
    ) -> Result<(), SignatureError> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, t| now.abs_diff(*t) <= tolerance_secs);
        if seen.contains_key(&verified.signature) {
            return Err(SignatureError::Replayed);
        }
        seen.insert(verified.signature.clone(), verified.timestamp);
        Ok(())
    }

    /// Forget an accepted signature: the receiver could not process the
    /// request, so the sender's identical retry must be accepted.
    pub fn forget(&self, verified: &Verified) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.remove(&verified.signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-test";

    #[test]
    fn a_signed_body_verifies() {
        let header = sign(SECRET, 1_000, b"{\"a\":1}");
        let v = verify(SECRET, Some(&header), b"{\"a\":1}", 1_010, 300).unwrap();
        assert_eq!(v.timestamp, 1_000);
        assert_eq!(header, format!("t=1000,v1={}", v.signature));
    }

    #[test]
    fn a_known_vector() {
        // HMAC-SHA256(key="whsec-test", "1700000000.hello"), computed with Python's hmac.
        assert_eq!(
            sign(SECRET, 1_700_000_000, b"hello"),
            "t=1700000000,v1=22353feffcb31c5d55cdc160fe587cc7dde78e77c8fe014d5377a1b3c858d853"
        );
    }

    #[test]
    fn tampering_staleness_and_garbage_are_refused() {
        let header = sign(SECRET, 1_000, b"body");
        assert_eq!(
            verify(SECRET, Some(&header), b"b0dy", 1_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", Some(&header), b"body", 1_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            verify(SECRET, Some(&header), b"body", 1_301, 300),
            Err(SignatureError::Stale { age_secs: 301, .. })
        ));
        // From the future is as bad as from the past.
        assert!(matches!(
            verify(SECRET, Some(&header), b"body", 600, 300),
            Err(SignatureError::Stale { .. })
        ));
        assert_eq!(
            verify(SECRET, None, b"body", 1_000, 300),
            Err(SignatureError::Missing)
        );
        for bad in ["", "t=abc,v1=00", "v1=00", "t=1000", "t=1000;v1=00"] {
            assert!(
                matches!(
                    verify(SECRET, Some(bad), b"body", 1_000, 300),
                    Err(SignatureError::Malformed(_))
                ),
                "{bad}"
            );
        }
        // A v1 that is not a SHA-256 HMAC in hex is malformed, not a mismatch.
        assert!(matches!(
            verify(SECRET, Some("t=1000,v1=zz"), b"body", 1_000, 300),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn a_rotated_secret_may_sign_twice() {
        let old = sign(b"old", 1_000, b"body");
        let new = sign(SECRET, 1_000, b"body");
        let v1_old = old.split_once(",v1=").unwrap().1;
        let header = format!("{new},v1={v1_old}");
        assert!(verify(b"old", Some(&header), b"body", 1_000, 300).is_ok());
        assert!(verify(SECRET, Some(&header), b"body", 1_000, 300).is_ok());
    }

    #[test]
    fn replays_are_refused_until_they_would_be_stale() {
        let guard = ReplayGuard::default();
        let header = sign(SECRET, 1_000, b"body");
        let v = verify(SECRET, Some(&header), b"body", 1_000, 300).unwrap();
        guard.accept(&v, 1_000, 300).unwrap();
        assert_eq!(guard.accept(&v, 1_100, 300), Err(SignatureError::Replayed));
        // Another body at the same second is a different request.
        let other = verify(SECRET, Some(&sign(SECRET, 1_000, b"x")), b"x", 1_000, 300).unwrap();
        guard.accept(&other, 1_000, 300).unwrap();
        // Forgotten once stale: verify() refuses it by then anyway.
        guard.accept(&v, 1_400, 300).unwrap();
        guard.forget(&v);
        guard.accept(&v, 1_400, 300).unwrap();
    }
}
