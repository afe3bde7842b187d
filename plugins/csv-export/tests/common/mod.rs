//! Shared by the snapshot tests: the fixtures with their configurations.

use std::path::Path;

/// The configuration of a fixture without a `<stem>.config.json`.
pub const CONFIG: &str = r#"{"dealer_id": "dealer-1"}"#;

/// Every fixture document as (file name, configuration, bytes).
pub fn fixtures() -> Vec<(String, String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.starts_with('.') || name.ends_with(".config.json") {
            continue;
        }
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let config = std::fs::read_to_string(dir.join(format!("{stem}.config.json")))
            .unwrap_or_else(|_| CONFIG.to_string());
        docs.push((name.clone(), config, std::fs::read(&path).unwrap()));
    }
    docs
}
