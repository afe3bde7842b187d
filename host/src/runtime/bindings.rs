//! Host-side bindings of the contract's worlds, generated from `wit/`.
//!
//! Every world shares the `types`, `log` and `kv` interfaces; the other
//! bindings reuse the platform bindings' types so there is one `Vehicle`.
//!
//! The bindings are generated from the current contract (1.1.0). A plugin
//! built for an older minor version (1.0.x) links against them unchanged:
//! wasmtime matches versioned names semver-compatibly (an import or export
//! `forecourt:plugin/platform@1.0.0` is found under `@1.1.0`, both ways, see
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
