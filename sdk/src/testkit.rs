//! Test helpers for plugin authors (feature `testkit`, for dev-dependencies):
//! a shared fixture set of vehicles, golden-file comparison, and the golden
//! JSON of a source's pull pages.

use std::path::Path;

pub mod fixtures;
pub mod page;

pub use page::pull_json;

/// Compare `actual` with the golden file `dir/name`, or rewrite it when
/// `UPDATE_GOLDEN` is set. The error names the first differing line and column.
pub fn check_golden(dir: &Path, name: &str, actual: &str) -> Result<(), String> {
    let path = dir.join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(&path, actual).unwrap();
        return Ok(());
    }
    let expected = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    let e = expected.lines().nth(line).unwrap_or("<end of file>");
    let a = actual.lines().nth(line).unwrap_or("<end of file>");
    let column = e
        .chars()
        .zip(a.chars())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| e.chars().count().min(a.chars().count()));
    let around = |s: &str| -> String {
        s.chars()
            .skip(column.saturating_sub(40))
            .take(100)
            .collect()
    };
    Err(format!(
        "{name} differs from the golden file at line {}, column {}:\n  expected: …{:?}…\n  \
         actual:   …{:?}…\n(run with UPDATE_GOLDEN=1 to accept, then review the diff)",
        line + 1,
        column + 1,
        around(e),
        around(a),
    ))
}
