//! The push signature scheme, for DMS vendors (docs/plugins/dms-webhook.md):
//!
//! ```text
//! X-Forecourt-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//! ```
//!
//! the same scheme forecourt uses to sign its own outgoing webhooks, and the
//! one implementation of it: the enquiry webhook (`webhook_signature`) checks
//! its pushes with this module too. Several
//! `v1=` values may be sent (signed with the old and the new secret while a
//! secret is rotated): one match is enough. The timestamp must be within the
//! tolerance of the host's clock, in the past or the future, so a captured
//! request cannot be replayed later; replays within the tolerance are caught
//! by the inbox, which remembers every accepted signature and event id.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying timestamp and signature.
pub const SIGNATURE_HEADER: &str = "x-forecourt-signature";

/// The header carrying the event's id (optional; replays of it are refused).
pub const EVENT_ID_HEADER: &str = "x-forecourt-event-id";

/// Why a push was not accepted by the signature check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature header.
    #[error("missing {SIGNATURE_HEADER} header (t=<unix seconds>,v1=<hex HMAC-SHA256>)")]
    Missing,
    /// The header is not `t=…,v1=…`.
    #[error("malformed {SIGNATURE_HEADER} header: {0}")]
    Malformed(String),
    /// No `v1` matches the body under any configured secret.
    #[error("signature does not match the body and timestamp")]
    Mismatch,
    /// The timestamp is too far from now.
    #[error("timestamp {signed_at} is {skew} s away from the server's clock; the tolerance is {tolerance} s")]
    Stale {
        /// The sender's timestamp (Unix seconds).
        signed_at: i64,
        /// Seconds between it and now.
        skew: i64,
        /// Seconds allowed.
        tolerance: u64,
    },
}

/// A parsed signature header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// Unix seconds the sender signed at.
    pub timestamp: i64,
    /// Candidate signatures (raw bytes of the hex `v1` values).
    pub signatures: Vec<Vec<u8>>,
}

impl SignatureHeader {
    /// Parse `t=1714557600,v1=5257…[,v1=…]`; unknown keys (a future `v2`) are ignored.
    pub fn parse(value: &str) -> Result<SignatureHeader, SignatureError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in value.split(',') {
            let (key, val) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| SignatureError::Malformed(format!("{part:?} is not key=value")))?;
            match key.trim() {
                "t" => {
                    let t = val.trim().parse::<i64>().map_err(|_| {
                        SignatureError::Malformed(format!("t={val:?} is not Unix seconds"))
                    })?;
                    timestamp = Some(t);
                }
                "v1" => {
                    let bytes = hex::decode(val.trim())
                        .map_err(|_| SignatureError::Malformed("v1 is not hexadecimal".into()))?;
                    if bytes.len() != 32 {
                        return Err(SignatureError::Malformed(
                            "v1 is not a SHA-256 HMAC (64 hex digits)".into(),
                        ));
                    }
                    signatures.push(bytes);
                }
                _ => {}
            }
        }
        let timestamp =
            timestamp.ok_or_else(|| SignatureError::Malformed("no t= timestamp".into()))?;
        if signatures.is_empty() {
            return Err(SignatureError::Malformed("no v1= signature".into()));
        }
        Ok(SignatureHeader {
            timestamp,
            signatures,
        })
    }
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value a sender computes (for tests, the demo and vendors' examples).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// Verify `header` for `body` against any of `secrets`, then the timestamp
/// against `now` (Unix seconds). Returns the hex of the matching signature,
/// the replay key. Comparison is constant-time.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&[u8]],
    now: i64,
    tolerance_secs: u64,
) -> Result<(SignatureHeader, String), SignatureError> {
    let header = SignatureHeader::parse(header.ok_or(SignatureError::Missing)?)?;
    let matched = header.signatures.iter().find(|candidate| {
        secrets.iter().any(|secret| {
            mac(secret, header.timestamp, body)
                .verify_slice(candidate)
                .is_ok()
        })
    });
    let Some(matched) = matched else {
        return Err(SignatureError::Mismatch);
    };
    let skew = (now - header.timestamp).abs();
    if skew > i64::try_from(tolerance_secs).unwrap_or(i64::MAX) {
        return Err(SignatureError::Stale {
            signed_at: header.timestamp,
            skew,
            tolerance: tolerance_secs,
        });
    }
    let key = hex::encode(matched);
    Ok((header, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_714_557_600;

    #[test]
    fn a_signed_body_verifies_and_anything_changed_does_not() {
        let header = sign(b"s3cret", NOW, b"{\"id\":1}");
        let (parsed, key) = verify(Some(&header), b"{\"id\":1}", &[b"s3cret"], NOW, 300).unwrap();
        assert_eq!(parsed.timestamp, NOW);
        assert_eq!(key.len(), 64);
        assert!(header.ends_with(&key));
        for (body, secret) in [
            (&b"{\"id\":2}"[..], &b"s3cret"[..]),
            (b"{\"id\":1}", b"other"),
        ] {
            assert_eq!(
                verify(Some(&header), body, &[secret], NOW, 300).unwrap_err(),
                SignatureError::Mismatch
            );
        }
        // The timestamp is signed too: moving it breaks the signature.
        let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(
            verify(Some(&moved), b"{\"id\":1}", &[b"s3cret"], NOW, 300).unwrap_err(),
            SignatureError::Mismatch
        );
    }

    #[test]
    fn the_timestamp_must_be_within_the_tolerance_either_way() {
        for signed in [NOW - 301, NOW + 301] {
            let header = sign(b"k", signed, b"x");
            assert!(matches!(
                verify(Some(&header), b"x", &[b"k"], NOW, 300),
                Err(SignatureError::Stale { skew: 301, .. })
            ));
        }
        let header = sign(b"k", NOW - 300, b"x");
        assert!(verify(Some(&header), b"x", &[b"k"], NOW, 300).is_ok());
    }

    #[test]
    fn rotation_accepts_either_secret_and_either_signature() {
        let old = sign(b"old", NOW, b"x");
        let new = sign(b"new", NOW, b"x");
        let both = format!("{new},v1={}", old.split("v1=").nth(1).unwrap());
        assert!(verify(Some(&both), b"x", &[b"old"], NOW, 300).is_ok());
        assert!(verify(Some(&old), b"x", &[b"new", b"old"], NOW, 300).is_ok());
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        let cases = [
            ("", "is not key=value"),
            ("v1=00", "not a SHA-256"),
            ("t=abc,v1=00", "Unix seconds"),
            (&format!("v1={}", "0".repeat(64)), "no t="),
            ("t=1", "no v1="),
            ("t=1,v1=zz", "hexadecimal"),
        ];
        for (header, want) in cases {
            let e = verify(Some(header), b"", &[b"k"], NOW, 300).unwrap_err();
            assert!(e.to_string().contains(want), "{header}: {e}");
        }
        assert_eq!(
            verify(None, b"", &[b"k"], NOW, 300).unwrap_err(),
            SignatureError::Missing
        );
        // Unknown schemes are ignored, so v2 can be added later.
        let header = format!("{},v2=abc", sign(b"k", NOW, b""));
        assert!(verify(Some(&header), b"", &[b"k"], NOW, 300).is_ok());
    }
}
