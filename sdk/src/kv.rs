//! The plugin's private, persistent key-value store.
//!
//! For small state: cached tokens, last-seen markers. Quotas (enforced by the
//! host): keys up to 256 bytes, values up to 64 KiB, at most 1,000 keys.
//!
//! ```no_run
//! use forecourt_sdk::kv;
//!
//! kv::set("last-seen", b"2024-05-01")?;
//! let marker = kv::get("last-seen")?;
//! # Ok::<(), forecourt_sdk::KvError>(())
//! ```

pub use crate::platform_bindings::forecourt::plugin::kv::KvError;

use crate::platform_bindings::forecourt::plugin::kv as host;

/// The value stored under `key`, or `None` if there is none.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    host::get(key)
}

/// The value stored under `key` as UTF-8 text, or `None` if there is none or
/// it is not valid UTF-8.
pub fn get_string(key: &str) -> Result<Option<String>, KvError> {
    Ok(get(key)?.and_then(|bytes| String::from_utf8(bytes).ok()))
}

/// Store `value` under `key`, replacing any previous value.
pub fn set(key: &str, value: impl AsRef<[u8]>) -> Result<(), KvError> {
    host::set(key, value.as_ref())
}

/// Remove `key`; removing a missing key is not an error.
pub fn delete(key: &str) -> Result<(), KvError> {
    host::delete(key)
}

impl From<KvError> for crate::PluginError {
    /// A full quota will not clear by itself (permanent); an unavailable store
    /// may (transient).
    fn from(e: KvError) -> Self {
        match e {
            KvError::QuotaExceeded(m) => {
                crate::PluginError::permanent(format!("kv quota exceeded: {m}"))
            }
            KvError::Unavailable(m) => {
                crate::PluginError::transient(format!("kv store unavailable: {m}"))
            }
        }
    }
}
