//! Verifying signed webhook pushes: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<raw body>">`, the same scheme the host uses to sign what it sends
//! (`hmac-signature` in plugin manifests), so one partner-facing format
//! covers both directions.
//!
//! [`verify`] is pure (secret, header, body, now); [`ReplayGuard`] remembers
//! signatures already accepted until they are too old to be accepted anyway.
//! Nothing here knows which receiver calls it: the enquiry webhook uses it,
//! and any other push receiver (DMS pushes) can.

use hmac::{Hmac, Mac};
use sha2::Sha256;
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
    Malformed(&'static str),
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
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

fn mac(secret: &[u8], timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Check `header` against `body` under `secret` at `now` (unix seconds).
///
/// Several `v1=` values are allowed (a sender rotating its secret signs with
/// both); one must match. The comparison is constant-time.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: u64,
    tolerance_secs: u64,
) -> Result<Verified, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(SignatureError::Malformed("expected key=value pairs"));
        };
        match key.trim() {
            "t" => {
                timestamp =
                    Some(value.trim().parse::<u64>().map_err(|_| {
                        SignatureError::Malformed("t is not a unix time in seconds")
                    })?)
            }
            "v1" => candidates.push(value.trim()),
            _ => {} // other schemes (v0, future versions) are ignored
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed("no t= timestamp"))?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed("no v1= signature"));
    }
    let age_secs = now.abs_diff(timestamp);
    if age_secs > tolerance_secs {
        return Err(SignatureError::Stale {
            age_secs,
            tolerance_secs,
        });
    }
    let expected = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
    for candidate in candidates {
        let Ok(bytes) = hex::decode(candidate) else {
            continue;
        };
        let mut check = expected.clone();
        check.update(format!("{timestamp}.").as_bytes());
        check.update(body);
        if check.verify_slice(&bytes).is_ok() {
            return Ok(Verified {
                timestamp,
                signature: candidate.to_ascii_lowercase(),
            });
        }
    }
    Err(SignatureError::Mismatch)
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
        assert_eq!(
            verify(SECRET, Some("t=1000,v1=zz"), b"body", 1_000, 300),
            Err(SignatureError::Mismatch)
        );
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
