//! Compiled components, cached on disk so a restart does not recompile.
//!
//! Deserialising a compiled artefact runs its machine code, so the cache is
//! only trusted if it is authenticated: each file carries an HMAC-SHA256
//! under a per-installation key kept beside the cache (mode 0600). A file
//! that fails the check (corrupted, truncated, edited) is discarded and the
//! component is compiled again. The cache key is the component's sha256 plus
//! the engine's compatibility hash, so a wasmtime upgrade or a different
//! engine configuration never reuses an old artefact. Keep the directory
//! writable only by the host's user: plugins have no file access at all.

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

const KEY_FILE: &str = "cache.key";
const TAG_LEN: usize = 32;

/// Why the cache could not be used. Callers fall back to compiling.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The directory or key could not be prepared.
    #[error("compiled-component cache at {path}: {source}")]
    Io {
        /// The cache directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What a cache lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// A valid artefact was used.
    Hit,
    /// Nothing cached; compiled and stored.
    Miss,
    /// An artefact failed authentication; discarded, compiled and stored anew.
    Rejected,
}

/// An authenticated on-disk cache of compiled components.
pub struct CompileCache {
    dir: Dir,
    path: PathBuf,
    key: Vec<u8>,
}

impl CompileCache {
    /// Open (creating if needed) the cache at `path`.
    pub fn open(path: &Path) -> Result<Self, CacheError> {
        let io = |source| CacheError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(path).map_err(io)?;
        let dir = Dir::open_ambient_dir(path, ambient_authority()).map_err(io)?;
        let key = match dir.read(KEY_FILE) {
            Ok(key) if key.len() == 32 => key,
            _ => {
                let key: [u8; 32] = rand::random();
                let tmp = format!("{KEY_FILE}.tmp");
                dir.write(&tmp, key).map_err(io)?;
                #[cfg(unix)]
                {
                    use cap_std::fs::PermissionsExt;
                    dir.set_permissions(&tmp, cap_std::fs::Permissions::from_mode(0o600))
                        .map_err(io)?;
                }
                dir.rename(&tmp, &dir, KEY_FILE).map_err(io)?;
                key.to_vec()
            }
        };
        Ok(Self {
            dir,
            path: path.to_path_buf(),
            key,
        })
    }

    /// The directory holding the cache.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file name of a component's artefact for this engine.
    pub fn file_name(engine: &Engine, component_sha256: &str) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        format!("{component_sha256}-{:016x}.cwasm", hasher.finish())
    }

    fn tag(&self, bytes: &[u8]) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(bytes);
        mac.finalize().into_bytes().to_vec()
    }

    /// Load the component from the cache, or compile it and store the artefact.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        component_sha256: &str,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let name = Self::file_name(engine, component_sha256);
        let mut outcome = CacheOutcome::Miss;
        if let Ok(stored) = self.dir.read(&name) {
            if stored.len() > TAG_LEN {
                let (tag, artefact) = stored.split_at(TAG_LEN);
                let mut mac =
                    <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length");
                mac.update(artefact);
                if mac.verify_slice(tag).is_ok() {
                    // SAFETY: the artefact was produced by `precompile_component`
                    // of an engine with the same compatibility hash, and its
                    // HMAC proves it has not changed since this host wrote it.
                    match unsafe { Component::deserialize(engine, artefact) } {
                        Ok(component) => return Ok((component, CacheOutcome::Hit)),
                        Err(error) => {
                            tracing::warn!(file = %name, error = %error, "Cached component could not be loaded; recompiling.")
                        }
                    }
                }
            }
            tracing::warn!(file = %name, "Cached compiled component failed its integrity check; discarding it and recompiling.");
            let _ = self.dir.remove_file(&name);
            outcome = CacheOutcome::Rejected;
        }
        let artefact = engine.precompile_component(wasm)?;
        let mut stored = self.tag(&artefact);
        stored.extend_from_slice(&artefact);
        let tmp = format!("{name}.{}.tmp", std::process::id());
        if self.dir.write(&tmp, &stored).is_ok() && self.dir.rename(&tmp, &self.dir, &name).is_err()
        {
            let _ = self.dir.remove_file(&tmp);
        }
        // SAFETY: produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &artefact)? };
        Ok((component, outcome))
    }
}
