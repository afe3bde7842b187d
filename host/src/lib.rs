//! forecourt: a stock-feed integration hub for car dealers.
//!
//! Vehicles flow from DMS sources to listing platforms; both ends are
//! sandboxed WebAssembly components (see [`runtime`]). docs/ARCHITECTURE.md
//! maps the modules and the path a vehicle record takes.

pub mod acceptance;
pub mod admin;
pub mod alerts;
pub mod app;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod completeness;
pub mod config;
pub mod contract;
pub mod demo;
pub mod dms_sandbox;
pub mod enquiries;
pub mod enrich;
pub mod files;
pub mod inspect;
pub mod manifest;
pub mod metrics;
pub mod pii;
pub mod preview;
pub mod pricing;
pub mod progress;
pub mod push;
pub mod quality;
pub mod report;
pub mod runtime;
pub mod sample;
pub mod sandbox;
pub mod scaffold;
pub mod signing;
pub mod store;
pub mod sync;
pub mod transport;
pub mod webhook_signature;
