//! Where plugin secrets come from: environment variables or a secrets file
//! kept out of the main configuration. Values are looked up at the moment a
//! request is sent, so rotating a secret needs no restart, and they never
//! appear in `Debug` output, logs or guest memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A secret value. `Debug` and `Display` print a placeholder.
#[derive(Clone)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// A source of named secrets, per plugin.
pub trait SecretStore: Send + Sync {
    /// The value of secret `name` of plugin `plugin`, if configured.
    fn get(&self, plugin: &str, name: &str) -> Option<SecretValue>;
}

/// `FORECOURT_SECRET_<PLUGIN>_<NAME>`, upper-cased, dashes as underscores.
#[derive(Debug, Default)]
pub struct EnvSecrets;

impl EnvSecrets {
    /// The variable that holds a secret.
    pub fn variable(plugin: &str, name: &str) -> String {
        format!("FORECOURT_SECRET_{plugin}_{name}")
            .to_ascii_uppercase()
            .replace(['-', '.'], "_")
    }
}

impl SecretStore for EnvSecrets {
    fn get(&self, plugin: &str, name: &str) -> Option<SecretValue> {
        std::env::var(Self::variable(plugin, name))
            .ok()
            .map(SecretValue)
    }
}

/// A TOML file of `[plugin-id]` tables of `name = "value"`, re-read whenever
/// its modification time changes.
pub struct FileSecrets {
    path: PathBuf,
    cache: Mutex<Option<(SystemTime, SecretsByPlugin)>>,
}

/// `plugin id → secret name → value`.
type SecretsByPlugin = BTreeMap<String, BTreeMap<String, String>>;

impl FileSecrets {
    /// Secrets from `path`; the file is read on first use.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            cache: Mutex::new(None),
        }
    }

    /// Read and parse the file, naming the file in any error.
    pub fn load(path: &Path) -> anyhow::Result<SecretsByPlugin> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read secrets file {}", path.display()))?;
        toml::from_str(&text).with_context(|| {
            format!(
                "invalid secrets file {}: expected [plugin-id] tables of name = \"value\"",
                path.display()
            )
        })
    }
}

impl SecretStore for FileSecrets {
    fn get(&self, plugin: &str, name: &str) -> Option<SecretValue> {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.as_ref().is_none_or(|(at, _)| *at != modified) {
            match Self::load(&self.path) {
                Ok(map) => *cache = Some((modified, map)),
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "Secrets file could not be read; keeping the previous values.");
                }
            }
        }
        let (_, map) = cache.as_ref()?;
        map.get(plugin)?.get(name).cloned().map(SecretValue)
    }
}

/// Secrets held in memory: for the demo's sandbox credentials and for tests.
#[derive(Debug, Default)]
pub struct MemorySecrets {
    values: Mutex<BTreeMap<(String, String), SecretValue>>,
}

impl MemorySecrets {
    /// Set or replace a secret.
    pub fn set(&self, plugin: &str, name: &str, value: &str) {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                (plugin.to_string(), name.to_string()),
                SecretValue::new(value),
            );
    }
}

impl SecretStore for MemorySecrets {
    fn get(&self, plugin: &str, name: &str) -> Option<SecretValue> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(plugin.to_string(), name.to_string()))
            .cloned()
    }
}

/// The first store that has a value wins (environment before file).
pub struct LayeredSecrets(pub Vec<Box<dyn SecretStore>>);

impl SecretStore for LayeredSecrets {
    fn get(&self, plugin: &str, name: &str) -> Option<SecretValue> {
        self.0.iter().find_map(|s| s.get(plugin, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let v = SecretValue::new("hunter2");
        assert!(!format!("{v:?}").contains("hunter2"));
    }

    #[test]
    fn env_variable_names() {
        assert_eq!(
            EnvSecrets::variable("dms-rest", "api_key"),
            "FORECOURT_SECRET_DMS_REST_API_KEY"
        );
    }

    #[test]
    fn file_secrets_rotate_without_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        std::fs::write(&path, "[webhook]\nkey = \"one\"\n").unwrap();
        let s = FileSecrets::new(&path);
        assert_eq!(s.get("webhook", "key").unwrap().expose(), "one");
        // Ensure a different mtime even on coarse file systems.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "[webhook]\nkey = \"two\"\n").unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(s.get("webhook", "key").unwrap().expose(), "two");
        assert!(s.get("webhook", "missing").is_none());
    }
}
