//! Host-side bindings of the contract's worlds, generated from `wit/`.
//!
//! Every world shares the `types`, `log` and `kv` interfaces; the other
//! bindings reuse the platform bindings' types so there is one `Vehicle`.
//!
//! The bindings are generated from the current contract (1.2.0). A plugin
//! built for an older minor version (1.0.x) links against them unchanged:
//! wasmtime matches versioned names semver-compatibly (an import or export
//! `forecourt:plugin/platform@1.0.0` is found under `@1.2.0`, both ways, see
//! `wasmtime_environ::component::names::alternate_lookup_key`), and minor
//! versions only add interfaces and worlds, never change existing ones.

#![allow(missing_docs)]

/// The `listing-platform` world.
pub mod platform {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "listing-platform",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        },
    });
}

/// The `dms-source` world.
pub mod source {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "dms-source",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "forecourt:plugin/types": super::platform::forecourt::plugin::types,
            "forecourt:plugin/log": super::platform::forecourt::plugin::log,
            "forecourt:plugin/kv": super::platform::forecourt::plugin::kv,
        },
    });
}

/// The `crm` world (added in 1.1.0).
pub mod crm {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "crm",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "forecourt:plugin/types": super::platform::forecourt::plugin::types,
            "forecourt:plugin/log": super::platform::forecourt::plugin::log,
            "forecourt:plugin/kv": super::platform::forecourt::plugin::kv,
        },
    });
}

/// The `enricher` world (added in 1.1.0).
pub mod enricher {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "enricher",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "forecourt:plugin/types": super::platform::forecourt::plugin::types,
            "forecourt:plugin/log": super::platform::forecourt::plugin::log,
            "forecourt:plugin/kv": super::platform::forecourt::plugin::kv,
        },
    });
}

pub use crm::exports::forecourt::plugin::leads as crm_api;
pub use enricher::exports::forecourt::plugin::enrichment as enricher_api;
pub use platform::exports::forecourt::plugin::platform as platform_api;
pub use platform::forecourt::plugin::types;
pub use source::exports::forecourt::plugin::source as source_api;

/// The `snapshot` interface (added in 1.2.0), which a DMS source may export
/// beside `source` (world `dms-snapshot-source`).
///
/// Typed here rather than by a second `bindgen!` of the `dms-source` world,
/// so a source has one set of types whether or not it exports `snapshot`:
/// the records below derive the canonical ABI, and wasmtime checks them
/// against the component's export when a call is typed.
pub mod snapshot_api {
    use wasmtime::component::{ComponentType, Lift, Lower};

    /// The exported interface.
    pub const INTERFACE: &str = "forecourt:plugin/snapshot@1.2.0";
    /// Its function.
    pub const PULL_SNAPSHOT: &str = "pull-snapshot";
    /// Longest digest a source may give a row.
    pub const MAX_DIGEST_BYTES: usize = 64;

    /// A stored vehicle and the digest its source gave the row it came from.
    #[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
    #[component(record)]
    pub struct KnownRow {
        #[component(name = "stock-id")]
        pub stock_id: String,
        pub digest: String,
    }

    /// What `pull-snapshot` returns.
    #[derive(ComponentType, Lift, Lower, Clone, Debug)]
    #[component(record)]
    pub struct SnapshotPage {
        pub page: super::source_api::PullPage,
        pub digests: Vec<Option<String>>,
        pub unchanged: Vec<u32>,
    }
}
