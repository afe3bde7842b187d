//! Row digests for snapshot sources ([`crate::SnapshotSource`]).
//!
//! A source that parses a whole export on every pull gives each row a
//! digest; the host hands the digests back on the next pull, and a row
//! whose digest is unchanged need not be parsed again. The digest must
//! change whenever anything that changes how the row parses changes: put
//! those things (the plugin version, the configuration, the header row…) in
//! the salt, and the row's raw fields in [`RowDigest::field`].
//!
//! The hash is XXH3-128: fast and well distributed, but **not** a
//! cryptographic hash. A digest only decides whether the source's own
//! earlier output may be reused; it must never be trusted as a proof.
//!
//! ```
//! use forecourt_sdk::digest::RowDigest;
//!
//! // Once per document.
//! let salt = RowDigest::new(&[b"my-source 1.0.0", br#"{"dealer_id":"d1"}"#]);
//! // Once per row.
//! let mut row = salt.clone();
//! for field in [&b"AB12CDE"[..], b"Ford", b"Fiesta"] {
//!     row.field(field);
//! }
//! let digest = row.finish();
//! assert_eq!(digest.len(), 32);
//! ```

use xxhash_rust::xxh3::Xxh3Default;

/// Length in characters of a [`RowDigest::finish`] digest (128 bits in hex).
pub const DIGEST_CHARS: usize = 32;

/// A streaming row hasher: a salt, then a row's fields, each with its
/// length so that field boundaries count (`["ab", "c"]` and `["a", "bc"]`
/// differ).
///
/// Build one salted digest per document and [`clone`](Clone::clone) it for
/// each row: the salt is hashed once.
#[derive(Clone)]
pub struct RowDigest {
    state: Xxh3Default,
}

impl RowDigest {
    /// A digest salted with `salt`: every part, with its length, and the
    /// number of parts, so `["a", "b"]` and `["ab"]` are different salts,
    /// and a salt part never reads as a field.
    pub fn new(salt: &[&[u8]]) -> RowDigest {
        let mut state = Xxh3Default::new();
        state.update(&(salt.len() as u64).to_le_bytes());
        let mut digest = RowDigest { state };
        for part in salt {
            digest.field(part);
        }
        digest
    }

    /// Add one field: its length, then its bytes.
    pub fn field(&mut self, bytes: &[u8]) -> &mut RowDigest {
        self.state.update(&(bytes.len() as u64).to_le_bytes());
        self.state.update(bytes);
        self
    }

    /// The digest of the salt and every field so far: 32 lowercase hex
    /// digits ([`DIGEST_CHARS`]).
    pub fn finish(&self) -> String {
        format!("{:032x}", self.state.digest128())
    }
}

impl std::fmt::Debug for RowDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RowDigest").field(&self.finish()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(salt: &[&[u8]], fields: &[&[u8]]) -> String {
        let mut d = RowDigest::new(salt);
        for f in fields {
            d.field(f);
        }
        d.finish()
    }

    #[test]
    fn lowercase_hex_of_128_bits() {
        let d = digest(&[b"s"], &[b"a"]);
        assert_eq!(d.len(), DIGEST_CHARS);
        assert!(d
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        // Leading zeros are kept: every digest has the same width.
        assert_eq!(format!("{:032x}", 1u128).len(), DIGEST_CHARS);
    }

    #[test]
    fn same_input_same_digest() {
        assert_eq!(
            digest(&[b"v1", b"cfg"], &[b"A1", b"Ford"]),
            digest(&[b"v1", b"cfg"], &[b"A1", b"Ford"])
        );
        // A clone of a salted digest is the same as salting again.
        let salt = RowDigest::new(&[b"v1", b"cfg"]);
        let mut row = salt.clone();
        row.field(b"A1").field(b"Ford");
        assert_eq!(row.finish(), digest(&[b"v1", b"cfg"], &[b"A1", b"Ford"]));
        // The salt itself is untouched by its clones.
        assert_eq!(salt.finish(), digest(&[b"v1", b"cfg"], &[]));
    }

    #[test]
    fn field_boundaries_count() {
        assert_ne!(digest(&[], &[b"ab", b"c"]), digest(&[], &[b"a", b"bc"]));
        assert_ne!(digest(&[], &[b"abc"]), digest(&[], &[b"ab", b"c"]));
        // A trailing empty field is a field.
        assert_ne!(digest(&[], &[b"a"]), digest(&[], &[b"a", b""]));
        assert_ne!(digest(&[], &[]), digest(&[], &[b""]));
    }

    #[test]
    fn salt_changes_the_digest() {
        let row: &[&[u8]] = &[b"A1", b"Ford"];
        assert_ne!(digest(&[b"v1"], row), digest(&[b"v2"], row));
        assert_ne!(digest(&[], row), digest(&[b""], row));
        assert_ne!(digest(&[b"a", b"b"], row), digest(&[b"ab"], row));
        // A salt part is not a field.
        assert_ne!(digest(&[b"s", b"A1"], &[b"Ford"]), digest(&[b"s"], row));
    }

    #[test]
    fn long_rows() {
        // Past the streaming buffer (256 bytes) the state is still cloned right.
        let long = vec![b'x'; 10_000];
        let salt = RowDigest::new(&[&long]);
        let mut a = salt.clone();
        a.field(&long);
        assert_eq!(a.finish(), digest(&[&long], &[&long]));
        let mut b = salt.clone();
        b.field(&long[1..]);
        assert_ne!(a.finish(), b.finish());
    }
}
