//! A watched drop directory: the DMS (or an operator) drops export files
//! into a folder; the newest complete file matching a pattern is ingested.
//!
//! "Complete" means it has stopped growing: its modification time is at
//! least `settle_secs` old, and its size and time are the same after it was
//! read. A processed file is moved to `processed/` (or, with
//! `after = "remember"`, left in place and remembered by content hash); a
//! file the plugin cannot parse at all is moved to `failed/` with the reason
//! beside it. Files older than the newest one ingested are superseded
//! snapshots and are never ingested after it.

use super::state::StateFile;
use super::{
    glob_match, sha256_hex, unix_ms, BuildContext, Document, Invalid, Origin, Pickup, Settlement,
    TransportError,
};
use futures::future::BoxFuture;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use toml::Spanned;

/// What happens to a file once ingested.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum After {
    /// Move it into `processed/` beside it.
    #[default]
    Move,
    /// Leave it and remember its content hash.
    Remember,
}

/// `[source.document.directory]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// The watched directory (relative to the configuration file).
    pub path: Spanned<PathBuf>,
    /// File names to pick up (`*` and `?` wildcards), default `*`.
    #[serde(default = "default_pattern")]
    pub pattern: Spanned<String>,
    /// A file must be unchanged for this long to count as complete (default 5).
    #[serde(default = "default_settle")]
    pub settle_secs: Spanned<u64>,
    /// `move` (default) or `remember`.
    #[serde(default)]
    pub after: After,
    /// Largest file accepted, in bytes (default 128 MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: Spanned<u64>,
}

fn default_pattern() -> Spanned<String> {
    Spanned::new(0..0, "*".into())
}
fn default_settle() -> Spanned<u64> {
    Spanned::new(0..0, 5)
}
/// Default size cap of a fetched document (the csv-export plugin's memory is 256 MiB).
pub fn default_max_bytes() -> Spanned<u64> {
    Spanned::new(0..0, 128 * 1024 * 1024)
}

/// Check a `max_bytes` setting (shared by every pickup).
pub fn validate_max_bytes(max: &Spanned<u64>) -> Result<(), Invalid> {
    if !(1..=1024 * 1024 * 1024).contains(max.get_ref()) {
        return Err(Invalid::new(
            max.span(),
            "max_bytes",
            format!("is {}; allowed 1 to 1073741824 (1 GiB)", max.get_ref()),
        ));
    }
    Ok(())
}

/// Check a wildcard file-name pattern.
pub fn validate_pattern(pattern: &Spanned<String>, key: &str) -> Result<(), Invalid> {
    let p = pattern.get_ref();
    if p.is_empty() || p.contains(['/', '\\']) {
        return Err(Invalid::new(
            pattern.span(),
            key,
            "must be a file-name pattern such as `stock-*.csv` (no directories)",
        ));
    }
    Ok(())
}

impl DirectoryConfig {
    /// Resolve relative paths against the configuration file's directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        super::resolve(base, self.path.get_mut());
    }

    /// Check the settings; keys are relative to this table.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.path.get_ref().as_os_str().is_empty() {
            return Err(Invalid::new(
                self.path.span(),
                "path",
                "must name a directory",
            ));
        }
        validate_pattern(&self.pattern, "pattern")?;
        if *self.settle_secs.get_ref() > 3600 {
            return Err(Invalid::new(
                self.settle_secs.span(),
                "settle_secs",
                format!("is {}; allowed 0 to 3600", self.settle_secs.get_ref()),
            ));
        }
        validate_max_bytes(&self.max_bytes)
    }

    /// The running pickup.
    pub fn build(&self, ctx: &BuildContext) -> DirectoryPickup {
        DirectoryPickup {
            dir: self.path.get_ref().clone(),
            pattern: self.pattern.get_ref().clone(),
            settle: Duration::from_secs(*self.settle_secs.get_ref()),
            after: self.after,
            max_bytes: *self.max_bytes.get_ref(),
            state: StateFile::new(&ctx.data_dir, &ctx.owner),
        }
    }
}

/// A running directory pickup.
pub struct DirectoryPickup {
    dir: PathBuf,
    pattern: String,
    settle: Duration,
    after: After,
    max_bytes: u64,
    state: StateFile,
}

/// A matching file and what its metadata said.
#[derive(Debug, Clone)]
struct Candidate {
    path: PathBuf,
    size: u64,
    modified: SystemTime,
}

impl DirectoryPickup {
    /// Matching regular files, newest first.
    fn candidates(&self) -> Result<Vec<Candidate>, TransportError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| {
            TransportError::transient(format!(
                "cannot read watched directory {}: {e}",
                self.dir.display()
            ))
        })?;
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            // Hidden files are other programs' temporaries (`.stock.csv.part`).
            if name.starts_with('.') || !glob_match(&self.pattern, name) {
                continue;
            }
            let Ok(meta) = std::fs::metadata(entry.path()) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            found.push(Candidate {
                path: entry.path(),
                size: meta.len(),
                modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
        found.sort_by(|a, b| {
            b.modified
                .cmp(&a.modified)
                .then_with(|| b.path.cmp(&a.path))
        });
        Ok(found)
    }

    fn settled(&self, c: &Candidate) -> bool {
        SystemTime::now()
            .duration_since(c.modified)
            .is_ok_and(|age| age >= self.settle)
    }

    fn fetch_now(&self) -> Result<Option<Document>, TransportError> {
        let memory = self.state.load()?;
        let floor = memory.newest_mtime_ms.unwrap_or(0);
        let (current, superseded): (Vec<_>, Vec<_>) = self
            .candidates()?
            .into_iter()
            .partition(|c| unix_ms(c.modified) >= floor);
        for old in superseded.iter().filter(|c| self.settled(c)) {
            // Older than the newest export ingested: applying it would go back in time.
            if self.after == After::Move {
                tracing::info!(file = %old.path.display(), "Export older than the newest one ingested; moved to processed/ unparsed.");
                self.move_into(&old.path, "processed")?;
            } else {
                tracing::debug!(file = %old.path.display(), "Export older than the newest one ingested; ignored.");
            }
        }
        let Some(newest) = current.into_iter().find(|c| self.settled(c)) else {
            return Ok(None);
        };
        let label = newest.path.display().to_string();
        if newest.size > self.max_bytes {
            let reason = format!(
                "{} bytes is more than max_bytes ({})",
                newest.size, self.max_bytes
            );
            self.set_aside(&newest.path, &reason)?;
            return Err(TransportError::permanent(format!("{label}: {reason}")));
        }
        let bytes = std::fs::read(&newest.path)
            .map_err(|e| TransportError::transient(format!("cannot read {label}: {e}")))?;
        // Still being written if it changed while we read it.
        let after = std::fs::metadata(&newest.path)
            .map_err(|e| TransportError::transient(format!("cannot read {label}: {e}")))?;
        if after.len() != newest.size
            || after.modified().ok() != Some(newest.modified)
            || bytes.len() as u64 != newest.size
        {
            tracing::debug!(file = %label, "Export still growing; picked up on a later pull.");
            return Ok(None);
        }
        let sha256 = sha256_hex(&bytes);
        let mtime_ms = unix_ms(newest.modified);
        if memory.knows(&sha256) {
            // The same export again (or one refused before): nothing to parse.
            if self.after == After::Move {
                let refused = memory.refused.iter().any(|h| *h == sha256);
                if refused {
                    self.set_aside(&newest.path, "same content as a file refused before")?;
                } else {
                    self.move_into(&newest.path, "processed")?;
                }
            }
            return Ok(None);
        }
        Ok(Some(Document {
            label,
            bytes,
            sha256,
            origin: Origin::Local {
                path: newest.path,
                mtime_ms,
            },
        }))
    }

    /// Move `path` into the subfolder `sub` of the watched directory,
    /// keeping its name (with a time suffix if that name is taken).
    fn move_into(&self, path: &Path, sub: &str) -> Result<PathBuf, TransportError> {
        let target_dir = self.dir.join(sub);
        std::fs::create_dir_all(&target_dir).map_err(|e| {
            TransportError::transient(format!("cannot create {}: {e}", target_dir.display()))
        })?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let mut target = target_dir.join(&*name);
        if target.exists() {
            target = target_dir.join(format!("{name}.{}", unix_ms(SystemTime::now())));
        }
        std::fs::rename(path, &target).map_err(|e| {
            TransportError::transient(format!(
                "cannot move {} to {}: {e}",
                path.display(),
                target.display()
            ))
        })?;
        Ok(target)
    }

    /// Move a refused file into `failed/`, with the reason in `<name>.reason.txt`.
    fn set_aside(&self, path: &Path, reason: &str) -> Result<(), TransportError> {
        let target = self.move_into(path, "failed")?;
        let mut note = target.clone().into_os_string();
        note.push(".reason.txt");
        // The reason names rows and fields, never their content.
        let _ = std::fs::write(&note, format!("{reason}\n"));
        tracing::error!(file = %path.display(), moved_to = %target.display(), reason, "Export file refused; moved aside. Nothing in it was stored.");
        Ok(())
    }

    fn settle_now(&self, document: &Document, outcome: &Settlement) -> Result<(), TransportError> {
        let Origin::Local { path, mtime_ms } = &document.origin else {
            return Ok(());
        };
        match outcome {
            Settlement::Ingested => {
                self.state.update(|m| {
                    m.ingested(&document.sha256);
                    m.newest_mtime_ms = Some(m.newest_mtime_ms.unwrap_or(0).max(*mtime_ms));
                })?;
                if self.after == After::Move {
                    self.move_into(path, "processed")?;
                    // Older drops are superseded snapshots: tidy them away too.
                    for older in self.candidates()? {
                        if unix_ms(older.modified) <= *mtime_ms && self.settled(&older) {
                            tracing::info!(file = %older.path.display(), "Older export superseded by a newer one; moved to processed/ unparsed.");
                            self.move_into(&older.path, "processed")?;
                        }
                    }
                }
            }
            Settlement::Rejected(reason) => {
                self.state.update(|m| m.refused(&document.sha256))?;
                self.set_aside(path, reason)?;
            }
        }
        Ok(())
    }
}

impl Pickup for DirectoryPickup {
    fn describe(&self) -> String {
        format!("directory {} ({})", self.dir.display(), self.pattern)
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Option<Document>, TransportError>> {
        // Local file system calls: quick, and a pull is not latency-critical.
        Box::pin(async move { self.fetch_now() })
    }

    fn settle<'a>(
        &'a self,
        document: &'a Document,
        outcome: &'a Settlement,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move { self.settle_now(document, outcome) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::secrets::MemorySecrets;
    use std::sync::Arc;

    fn pickup(dir: &Path, data: &Path, after: After, settle_secs: u64) -> DirectoryPickup {
        let config: DirectoryConfig =
            toml::from_str(&format!(
            "path = {:?}\npattern = \"stock-*.csv\"\nsettle_secs = {settle_secs}\nafter = \"{}\"\n",
            dir.display().to_string(),
            if after == After::Move { "move" } else { "remember" }
        ))
            .unwrap();
        config.validate().unwrap();
        config.build(&BuildContext {
            owner: "dms".into(),
            data_dir: data.to_path_buf(),
            secrets: Arc::new(MemorySecrets::default()),
        })
    }

    fn drop_file(dir: &Path, name: &str, body: &str, age_secs: u64) {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age_secs))
            .unwrap();
    }

    #[test]
    fn newest_settled_file_wins_and_is_moved_with_superseded_ones() {
        let drop = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let p = pickup(drop.path(), data.path(), After::Move, 5);
        drop_file(drop.path(), "stock-1.csv", "old", 100);
        drop_file(drop.path(), "stock-2.csv", "new", 50);
        drop_file(drop.path(), "stock-3.csv", "growing", 0);
        drop_file(drop.path(), "other.csv", "ignored", 200);
        drop_file(drop.path(), ".stock-4.csv", "hidden", 200);
        let doc = p.fetch_now().unwrap().expect("a document");
        assert_eq!(doc.bytes, b"new");
        p.settle_now(&doc, &Settlement::Ingested).unwrap();
        let processed = drop.path().join("processed");
        assert_eq!(
            std::fs::read(processed.join("stock-2.csv")).unwrap(),
            b"new"
        );
        assert_eq!(
            std::fs::read(processed.join("stock-1.csv")).unwrap(),
            b"old"
        );
        assert!(
            drop.path().join("stock-3.csv").exists(),
            "the growing file stays"
        );
        // Nothing settled is left: the growing one is not picked up yet.
        assert!(p.fetch_now().unwrap().is_none());
        // A copy of an older export arriving late is never applied.
        drop_file(drop.path(), "stock-0.csv", "older", 70);
        assert!(p.fetch_now().unwrap().is_none());
        assert!(processed.join("stock-0.csv").exists());
    }

    #[test]
    fn remember_mode_never_reparses_and_never_goes_back_in_time() {
        let drop = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let p = pickup(drop.path(), data.path(), After::Remember, 0);
        drop_file(drop.path(), "stock-1.csv", "old", 100);
        drop_file(drop.path(), "stock-2.csv", "new", 50);
        let doc = p.fetch_now().unwrap().unwrap();
        assert_eq!(doc.bytes, b"new");
        p.settle_now(&doc, &Settlement::Ingested).unwrap();
        assert!(p.fetch_now().unwrap().is_none(), "same file again");
        // A restart remembers it too.
        let p = pickup(drop.path(), data.path(), After::Remember, 0);
        assert!(p.fetch_now().unwrap().is_none());
        // The operator deletes the newest: the older one is still superseded.
        std::fs::remove_file(drop.path().join("stock-2.csv")).unwrap();
        assert!(p.fetch_now().unwrap().is_none());
        // A newer drop is picked up.
        drop_file(drop.path(), "stock-3.csv", "newest", 10);
        assert_eq!(p.fetch_now().unwrap().unwrap().bytes, b"newest");
    }

    #[test]
    fn a_refused_file_goes_to_failed_with_its_reason() {
        let drop = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let p = pickup(drop.path(), data.path(), After::Move, 0);
        drop_file(drop.path(), "stock-1.csv", "garbage", 10);
        let doc = p.fetch_now().unwrap().unwrap();
        p.settle_now(&doc, &Settlement::Rejected("record 1: no header".into()))
            .unwrap();
        let failed = drop.path().join("failed");
        assert_eq!(
            std::fs::read(failed.join("stock-1.csv")).unwrap(),
            b"garbage"
        );
        assert_eq!(
            std::fs::read_to_string(failed.join("stock-1.csv.reason.txt")).unwrap(),
            "record 1: no header\n"
        );
        // Dropped again with the same content: set aside without parsing.
        drop_file(drop.path(), "stock-1.csv", "garbage", 5);
        assert!(p.fetch_now().unwrap().is_none());
        assert!(!drop.path().join("stock-1.csv").exists());
    }

    #[test]
    fn too_large_files_are_refused_and_config_errors_name_the_key() {
        let drop = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let mut config: DirectoryConfig = toml::from_str(&format!(
            "path = {:?}\nmax_bytes = 4\nsettle_secs = 0\n",
            drop.path().display().to_string()
        ))
        .unwrap();
        let p = config.build(&BuildContext {
            owner: "dms".into(),
            data_dir: data.path().to_path_buf(),
            secrets: Arc::new(MemorySecrets::default()),
        });
        drop_file(drop.path(), "stock.csv", "too long", 10);
        let err = p.fetch_now().unwrap_err();
        assert!(err.message.contains("max_bytes"), "{err}");
        assert!(drop.path().join("failed/stock.csv").exists());

        config.pattern = Spanned::new(3..9, "a/b".into());
        assert_eq!(config.validate().unwrap_err().key, "pattern");
        config.pattern = default_pattern();
        config.settle_secs = Spanned::new(0..0, 7200);
        assert_eq!(config.validate().unwrap_err().key, "settle_secs");
    }

    #[test]
    fn a_missing_directory_is_a_transient_error() {
        let data = tempfile::tempdir().unwrap();
        let p = pickup(&data.path().join("nope"), data.path(), After::Move, 0);
        let err = p.fetch_now().unwrap_err();
        assert!(err.is_transient() && err.message.contains("nope"), "{err}");
    }
}
