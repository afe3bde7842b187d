//! Host-side bindings of the contract's two worlds, generated from `wit/`.
//!
//! Both worlds share the `types`, `log` and `kv` interfaces; the source
//! bindings reuse the platform bindings' types so there is one `Vehicle`.

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

pub use platform::exports::forecourt::plugin::platform as platform_api;
pub use platform::forecourt::plugin::types;
pub use source::exports::forecourt::plugin::source as source_api;
