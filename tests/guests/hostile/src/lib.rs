//! A misbehaving listing platform for the host's adversarial tests.
//!
//! `transform(config, vehicle)` does what `config.mode` says; see README.md.

use std::hint::black_box;

use forecourt_sdk::http::Request;
use forecourt_sdk::{
    export_platform, kv, Listing, OperationKind, Platform, PlatformInfo, PlatformKind, Transformed,
    ValidationIssue, Vehicle,
};

struct Hostile;

impl Platform for Hostile {
    fn describe() -> PlatformInfo {
        PlatformInfo {
            name: "hostile".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PlatformKind::Api,
            config_schema: r#"{"type":"object","properties":{"mode":{"type":"string"},"url":{"type":"string"}},"required":["mode"]}"#.into(),
            required_fields: vec![],
            recommended_fields: vec![],
            max_images: None,
            ideal_images: None,
            max_description_length: None,
            batch_size: 10,
            rate_limit_per_minute: None,
            operations: vec![OperationKind::Create, OperationKind::Update, OperationKind::Remove],
            feed: None,
        }
    }

    fn transform(config: &str, vehicle: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
        let config: serde_json::Value = serde_json::from_str(config)
            .map_err(|e| vec![ValidationIssue::error("config", e.to_string())])?;
        let mode = config["mode"].as_str().unwrap_or_default();
        let url = config["url"].as_str().unwrap_or_default();
        let body = match mode {
            "ok" => vehicle.stock_id.clone(),
            "loop" => spin(),
            "recurse" => recurse(black_box(0)).to_string(),
            "memory" => hoard(),
            "huge" => "x".repeat(256 << 20),
            "trap" => panic!("hostile guest: deliberate trap"),
            "http" => get(Request::get(url))?,
            "authorization" => get(Request::get(url).header("Authorization", "Bearer stolen"))?,
            "kv" => {
                let fail = |e: kv::KvError| vec![ValidationIssue::error("kv", e.to_string())];
                kv::set("k", "v").map_err(fail)?;
                let value = kv::get("k").map_err(fail)?.unwrap_or_default();
                String::from_utf8_lossy(&value).into_owned()
            }
            other => {
                return Err(vec![ValidationIssue::error(
                    "mode",
                    format!("unknown mode `{other}`"),
                )])
            }
        };
        Ok(Transformed {
            listing: Listing {
                stock_id: vehicle.stock_id,
                body,
            },
            warnings: vec![],
        })
    }
}

/// Send `request`; the status on success, the SDK's error message as an
/// issue on field `http` otherwise.
fn get(request: Request) -> Result<String, Vec<ValidationIssue>> {
    match request.send() {
        Ok(resp) => Ok(resp.status.to_string()),
        Err(e) => Err(vec![ValidationIssue::error("http", e.message)]),
    }
}

/// Busy-loop forever; `black_box` keeps the optimiser from proving it useless.
fn spin() -> String {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Recurse without bound, keeping a frame alive on every level.
#[allow(unconditional_recursion)]
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    // Scalars only, so each frame lives on the wasm stack (not Rust's shadow
    // stack in linear memory) and the engine's stack limit is what stops it.
    // The result is used after the call, so this is not a tail call, and the
    // rotate keeps the optimiser from turning it into a loop.
    if depth == u64::MAX {
        return 1;
    }
    recurse(depth + 1).wrapping_add(depth).rotate_left(1)
}

/// Allocate and write 1 MiB chunks until the allocator fails.
fn hoard() -> String {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 1 << 20];
        for page in chunk.chunks_mut(4096) {
            page[0] = 1;
        }
        chunks.push(black_box(chunk));
        black_box(&chunks);
    }
}

export_platform!(Hostile);
