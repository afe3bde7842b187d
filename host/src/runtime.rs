//! The plugin runtime: wasmtime engine, load-time review, sandbox and limits.
//!
//! Layers, outermost first (docs/security.md describes each):
//! 1. [`review`]: a component's imports must be granted by its manifest;
//! 2. [`engine`]: sha256 and contract checks, compilation, a linker that
//!    only offers WASI and the contract's host interfaces;
//! 3. [`state`]: an empty WASI context per instance (no files, environment
//!    or sockets), a memory limiter, `log` and `kv`;
//! 4. [`egress`]: the only way out: allowlisted HTTP with host-side DNS,
//!    address filtering and credential injection;
//! 5. [`plugin`]: epoch deadlines plus async timeouts on every call, and a
//!    fresh instance after any failure.

pub mod bindings;
pub mod cache;
pub mod egress;
pub mod engine;
pub mod kv;
pub mod plugin;
pub mod review;
pub mod secrets;
pub mod state;

pub use bindings::{crm_api, enricher_api, platform_api, source_api, types};
pub use engine::{LoadError, Runtime, RuntimeOptions};
pub use plugin::{CallError, Plugin};
