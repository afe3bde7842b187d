//! What a pickup remembers between pulls and restarts: the documents it has
//! already ingested or refused, and the HTTP validators of the last export.
//!
//! Kept as a small JSON file per source under `<data_dir>/pickup/`, written
//! atomically. It is written only after the store committed the document,
//! so a crash in between re-ingests the same export, which the store's
//! content hashes make a no-op.

use super::TransportError;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Documents remembered per source (newest kept).
const REMEMBERED: usize = 256;

/// The remembered facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PickupMemory {
    /// sha256 of documents ingested, newest last.
    #[serde(default)]
    pub ingested: VecDeque<String>,
    /// sha256 of documents the plugin refused, newest last.
    #[serde(default)]
    pub refused: VecDeque<String>,
    /// `ETag` of the last HTTP response used.
    #[serde(default)]
    pub etag: Option<String>,
    /// `Last-Modified` of the last HTTP response used.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Path, size and mtime of the last remote file settled.
    #[serde(default)]
    pub remote: Option<(String, u64, u64)>,
    /// Modification time (ms) of the newest file ingested: older files are
    /// superseded snapshots and never ingested after it.
    #[serde(default)]
    pub newest_mtime_ms: Option<u64>,
}

impl PickupMemory {
    /// Whether this content was already ingested or refused.
    pub fn knows(&self, sha256: &str) -> bool {
        self.ingested.iter().any(|h| h == sha256) || self.refused.iter().any(|h| h == sha256)
    }

    /// The newest ingested document's hash.
    pub fn last_ingested(&self) -> Option<&str> {
        self.ingested.back().map(String::as_str)
    }

    fn push(list: &mut VecDeque<String>, sha256: &str) {
        list.retain(|h| h != sha256);
        list.push_back(sha256.to_string());
        while list.len() > REMEMBERED {
            list.pop_front();
        }
    }

    /// Remember an ingested document.
    pub fn ingested(&mut self, sha256: &str) {
        Self::push(&mut self.ingested, sha256);
    }

    /// Remember a refused document.
    pub fn refused(&mut self, sha256: &str) {
        Self::push(&mut self.refused, sha256);
    }
}

/// A source's memory file.
pub struct StateFile {
    path: PathBuf,
    cached: Mutex<Option<PickupMemory>>,
}

impl StateFile {
    /// The memory of source `owner` under `data_dir`.
    pub fn new(data_dir: &Path, owner: &str) -> Self {
        Self {
            path: data_dir.join("pickup").join(format!("{owner}.json")),
            cached: Mutex::new(None),
        }
    }

    /// Where it is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current memory (empty when the file does not exist yet).
    pub fn load(&self) -> Result<PickupMemory, TransportError> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(memory) = cached.as_ref() {
            return Ok(memory.clone());
        }
        let memory = match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                TransportError::permanent(format!(
                    "pickup state {} is damaged ({e}); delete it to start afresh (the next export is then ingested again)",
                    self.path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => PickupMemory::default(),
            Err(e) => {
                return Err(TransportError::transient(format!(
                    "cannot read pickup state {}: {e}",
                    self.path.display()
                )))
            }
        };
        *cached = Some(memory.clone());
        Ok(memory)
    }

    /// Change the memory and write it durably.
    pub fn update(&self, change: impl FnOnce(&mut PickupMemory)) -> Result<(), TransportError> {
        let mut memory = self.load()?;
        change(&mut memory);
        let bytes = serde_json::to_vec_pretty(&memory).expect("memory serialises");
        crate::files::write_atomic(&self.path, &bytes).map_err(|e| {
            TransportError::transient(format!(
                "cannot write pickup state {}: {e:#}",
                self.path.display()
            ))
        })?;
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some(memory);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_survives_a_restart_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateFile::new(dir.path(), "dms");
        assert_eq!(state.load().unwrap(), PickupMemory::default());
        state
            .update(|m| {
                for i in 0..300 {
                    m.ingested(&format!("h{i}"));
                }
                m.refused("bad");
                m.etag = Some("\"v1\"".into());
            })
            .unwrap();
        let again = StateFile::new(dir.path(), "dms").load().unwrap();
        assert_eq!(again.ingested.len(), REMEMBERED);
        assert_eq!(again.last_ingested(), Some("h299"));
        assert!(again.knows("bad") && again.knows("h299") && !again.knows("h0"));
        assert_eq!(again.etag.as_deref(), Some("\"v1\""));
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_silent_reset() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateFile::new(dir.path(), "dms");
        std::fs::create_dir_all(state.path().parent().unwrap()).unwrap();
        std::fs::write(state.path(), b"{not json").unwrap();
        let err = state.load().unwrap_err();
        assert!(err.message.contains("damaged"), "{err}");
    }
}
