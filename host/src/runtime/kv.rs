//! Per-plugin persistent key-value state, behind a small backend trait so the
//! SQLite store (and later PostgreSQL) can hold it.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Most keys one plugin may keep.
pub const MAX_KEYS: usize = 1000;

/// Storage for plugin key-value state. Errors are messages for the plugin;
/// they must not contain data of another plugin.
pub trait KvBackend: Send + Sync {
    /// The value of `key` for `plugin`.
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Set `key` for `plugin`.
    fn set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), String>;
    /// Remove `key` for `plugin` (no error if absent).
    fn delete(&self, plugin: &str, key: &str) -> Result<(), String>;
    /// How many keys `plugin` holds.
    fn key_count(&self, plugin: &str) -> Result<usize, String>;
}

/// Key-value state in memory: lost at exit. Used by tests and one-off commands.
#[derive(Debug, Default)]
pub struct MemoryKv {
    map: Mutex<BTreeMap<(String, String), Vec<u8>>>,
}

impl KvBackend for MemoryKv {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self
            .lock()
            .get(&(plugin.to_string(), key.to_string()))
            .cloned())
    }

    fn set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), String> {
        self.lock()
            .insert((plugin.to_string(), key.to_string()), value.to_vec());
        Ok(())
    }

    fn delete(&self, plugin: &str, key: &str) -> Result<(), String> {
        self.lock().remove(&(plugin.to_string(), key.to_string()));
        Ok(())
    }

    fn key_count(&self, plugin: &str) -> Result<usize, String> {
        Ok(self.lock().keys().filter(|(p, _)| p == plugin).count())
    }
}

impl MemoryKv {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Vec<u8>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}
