//! Write forecourt plugins as WebAssembly components.
//!
//! A forecourt plugin is a WebAssembly component that implements one world of
//! the `forecourt:plugin@1.2.0` contract: `listing-platform` (a marketplace, a
//! feed file, a website), `dms-source` (a dealer management system),
//! `dms-snapshot-source` (a `dms-source` that parses a whole export file and
//! can skip the rows the host already holds, 1.2), `crm` (where buyers'
//! enquiries are delivered) or `enricher` (adds data to a vehicle before
//! validation). This crate hides the generated bindings: a plugin is a
//! struct, an impl of [`Platform`], [`Source`] (plus [`SnapshotSource`]),
//! [`Crm`] or [`Enricher`], and one macro.
//!
//! | world | implement | export with |
//! |---|---|---|
//! | `listing-platform` | [`Platform`] | [`export_platform!`] |
//! | `dms-source` | [`Source`] | [`export_source!`] |
//! | `dms-snapshot-source` | [`Source`] and [`SnapshotSource`] | [`export_snapshot_source!`] |
//! | `crm` | [`Crm`] | [`export_crm!`] |
//! | `enricher` | [`Enricher`] | [`export_enricher!`] |
//!
//! ```no_run
//! use forecourt_sdk::{
//!     export_platform, Listing, OperationKind, Platform, PlatformInfo, PlatformKind,
//!     Transformed, ValidationIssue, Vehicle,
//! };
//!
//! struct Echo;
//!
//! impl Platform for Echo {
//!     fn describe() -> PlatformInfo {
//!         PlatformInfo {
//!             name: "echo".into(),
//!             version: env!("CARGO_PKG_VERSION").into(),
//!             kind: PlatformKind::Api,
//!             config_schema: r#"{"type":"object"}"#.into(),
//!             required_fields: vec!["make".into()],
//!             recommended_fields: vec![],
//!             max_images: None,
//!             ideal_images: None,
//!             max_description_length: None,
//!             batch_size: 10,
//!             rate_limit_per_minute: None,
//!             operations: vec![OperationKind::Create],
//!             feed: None,
//!         }
//!     }
//!
//!     fn transform(_config: &str, v: Vehicle) -> Result<Transformed, Vec<ValidationIssue>> {
//!         let Some(make) = v.make else {
//!             return Err(vec![ValidationIssue::error("make", "a make is required")]);
//!         };
//!         let listing = Listing { stock_id: v.stock_id, body: make };
//!         Ok(Transformed { listing, warnings: vec![] })
//!     }
//! }
//!
//! export_platform!(Echo);
//! ```
//!
//! Every operation other than `describe` and `transform` (for a platform) or
//! `describe` (for a source) has a default that answers with a permanent
//! [`PluginError`] saying it is not supported; a [`SnapshotSource`] must
//! implement `pull_snapshot`.
//!
//! The export macros also stamp the contract version ([`CONTRACT_VERSION`])
//! into a `forecourt:contract` custom section of the plugin's core module, so
//! the host can refuse a plugin built against a contract it does not speak
//! before instantiating it.
//!
//! Helpers: [`http`] (a blocking HTTP client over `wasi:http`), [`log`] (the
//! host's structured log), [`kv`] (the plugin's private key-value store) and
//! [`errors`] (constructors for [`PluginError`] and [`ValidationIssue`]).
//! For DMS sources: [`normalise`] (UK conventions: prices, mileages, dates,
//! fuel, body and status vocabularies), [`fields`] (the contract fields a
//! column or JSON key can feed, and the names DMSes use for them),
//! [`record`] (a canonical vehicle from one record's values, with row issues)
//! and [`digest`] (row digests for [`SnapshotSource`]).

#![deny(missing_docs)]

pub mod digest;
pub mod errors;
pub mod fields;
pub mod http;
pub mod kv;
pub mod log;
pub mod normalise;
pub mod record;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod text;

/// The version of the `forecourt:plugin` WIT contract this SDK implements.
///
/// The export macros embed it, as UTF-8, in a custom section named
/// `forecourt:contract`.
pub const CONTRACT_VERSION: &str = "1.2.0";

/// The contract version as the exact bytes of the `forecourt:contract` section.
#[doc(hidden)]
pub const CONTRACT_VERSION_BYTES: [u8; 5] = *b"1.2.0";

const _: () = assert!(CONTRACT_VERSION.len() == CONTRACT_VERSION_BYTES.len());

/// Generated bindings for the `listing-platform` world. Not part of the API.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod platform_bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "listing-platform",
        pub_export_macro: true,
        export_macro_name: "export_listing_platform",
        default_bindings_module: "$crate::platform_bindings",
        generate_all,
    });
}

/// Generated bindings for the `dms-source` world. Not part of the API.
///
/// Shares every imported interface with [`platform_bindings`], so there is one
/// `Vehicle` type, one `PluginError`, one set of `wasi:http` resources.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod source_bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "dms-source",
        pub_export_macro: true,
        export_macro_name: "export_dms_source",
        default_bindings_module: "$crate::source_bindings",
        with: {
            "forecourt:plugin/types@1.2.0": crate::platform_bindings::forecourt::plugin::types,
            "forecourt:plugin/log@1.2.0": crate::platform_bindings::forecourt::plugin::log,
            "forecourt:plugin/kv@1.2.0": crate::platform_bindings::forecourt::plugin::kv,
            "wasi:http/types@0.2.12": crate::platform_bindings::wasi::http::types,
            "wasi:http/outgoing-handler@0.2.12": crate::platform_bindings::wasi::http::outgoing_handler,
            "wasi:io/error@0.2.12": crate::platform_bindings::wasi::io::error,
            "wasi:io/poll@0.2.12": crate::platform_bindings::wasi::io::poll,
            "wasi:io/streams@0.2.12": crate::platform_bindings::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": crate::platform_bindings::wasi::clocks::monotonic_clock,
        },
    });
}

/// Generated bindings for the `dms-snapshot-source` world (added in contract
/// 1.2.0). Not part of the API.
///
/// Generated by `build.rs` rather than `generate!`: this world exports
/// `source` too, and two `generate!`s of one exported interface clash in one
/// crate (see `build.rs`). Same options as the others: every import is
/// shared with [`platform_bindings`], and the types of the exported `source`
/// are mapped onto [`source_bindings`]' (the duplicates wit-bindgen still
/// generates for it are unused), so there is one `PullRequest`, one `PullPage`.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod snapshot_bindings {
    include!(concat!(env!("OUT_DIR"), "/snapshot_bindings.rs"));
}

/// Generated bindings for the `crm` world (added in contract 1.1.0). Not part of the API.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod crm_bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "crm",
        pub_export_macro: true,
        export_macro_name: "export_crm_world",
        default_bindings_module: "$crate::crm_bindings",
        with: {
            "forecourt:plugin/types@1.2.0": crate::platform_bindings::forecourt::plugin::types,
            "forecourt:plugin/log@1.2.0": crate::platform_bindings::forecourt::plugin::log,
            "forecourt:plugin/kv@1.2.0": crate::platform_bindings::forecourt::plugin::kv,
            "wasi:http/types@0.2.12": crate::platform_bindings::wasi::http::types,
            "wasi:http/outgoing-handler@0.2.12": crate::platform_bindings::wasi::http::outgoing_handler,
            "wasi:io/error@0.2.12": crate::platform_bindings::wasi::io::error,
            "wasi:io/poll@0.2.12": crate::platform_bindings::wasi::io::poll,
            "wasi:io/streams@0.2.12": crate::platform_bindings::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": crate::platform_bindings::wasi::clocks::monotonic_clock,
        },
    });
}

/// Generated bindings for the `enricher` world (added in contract 1.1.0). Not part of the API.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod enricher_bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "enricher",
        pub_export_macro: true,
        export_macro_name: "export_enricher_world",
        default_bindings_module: "$crate::enricher_bindings",
        with: {
            "forecourt:plugin/types@1.2.0": crate::platform_bindings::forecourt::plugin::types,
            "forecourt:plugin/log@1.2.0": crate::platform_bindings::forecourt::plugin::log,
            "forecourt:plugin/kv@1.2.0": crate::platform_bindings::forecourt::plugin::kv,
            "wasi:http/types@0.2.12": crate::platform_bindings::wasi::http::types,
            "wasi:http/outgoing-handler@0.2.12": crate::platform_bindings::wasi::http::outgoing_handler,
            "wasi:io/error@0.2.12": crate::platform_bindings::wasi::io::error,
            "wasi:io/poll@0.2.12": crate::platform_bindings::wasi::io::poll,
            "wasi:io/streams@0.2.12": crate::platform_bindings::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": crate::platform_bindings::wasi::clocks::monotonic_clock,
        },
    });
}

pub use platform_bindings::forecourt::plugin::types::{
    Attribute, BodyStyle, Condition, Date, Drivetrain, ErrorClass, FuelType, HubOnly, Image,
    Mileage, MileageUnit, Money, PartExchange, Person, PluginError, ServiceHistory, Severity,
    StockStatus, Transmission, ValidationIssue, VatStatus, Vehicle, VehicleType,
};

pub use platform_bindings::exports::forecourt::plugin::platform::{
    Enquiry, EnquiryPage, Feed, FeedFormat, Listing, Operation, OperationKind, OperationResult,
    PlatformInfo, PlatformKind, PublishedItem, PublishedPage, PublishedState, Transformed,
};

pub use source_bindings::exports::forecourt::plugin::source::{
    Change, PullPage, PullRequest, RowIssue, SourceInfo,
};

pub use snapshot_bindings::exports::forecourt::plugin::snapshot::{KnownRow, SnapshotPage};

pub use crm_bindings::exports::forecourt::plugin::leads::{
    CrmInfo, DeliveryResult, Document, Lead,
};

pub use enricher_bindings::exports::forecourt::plugin::enrichment::{
    Enriched, EnricherInfo, Target,
};

/// The standard attribute keys enrichers fill (see `wit/enricher.wit`).
pub mod attributes {
    /// Combined (WLTP) fuel economy in miles per gallon, e.g. "52.3".
    pub const FUEL_ECONOMY_MPG: &str = "fuel-economy-mpg";
    /// The UK vehicle excise duty band letter for the CO2 figure, A to M.
    pub const CO2_BAND: &str = "co2-band";
    /// The UK insurance group, 1 to 50, with its letter, e.g. "14E".
    pub const INSURANCE_GROUP: &str = "insurance-group";
}

pub use kv::KvError;
pub use log::Level;

/// A listing platform: a marketplace API, a feed file, or the dealer's website.
///
/// Implement it on a unit struct and pass that struct to [`export_platform!`].
/// Only [`describe`](Platform::describe) and [`transform`](Platform::transform)
/// are required; the other operations answer "not supported" by default.
/// Every `config` argument is the plugin's configuration as a JSON object.
pub trait Platform {
    /// What this platform is, what it accepts and which operations it supports.
    fn describe() -> PlatformInfo;

    /// Render one vehicle for this platform, or say which fields stop it.
    ///
    /// Must be deterministic and must not call out (no HTTP, no state).
    fn transform(config: &str, vehicle: Vehicle) -> Result<Transformed, Vec<ValidationIssue>>;

    /// Apply a batch of operations: one result per operation, or an error for
    /// the whole batch (for example when the credentials are refused).
    fn publish(
        config: &str,
        operations: Vec<Operation>,
    ) -> Result<Vec<OperationResult>, PluginError> {
        let _ = (config, operations);
        Err(errors::not_supported("publish"))
    }

    /// One page of what the platform currently shows, for reconciliation.
    fn list_published(config: &str, cursor: Option<String>) -> Result<PublishedPage, PluginError> {
        let _ = (config, cursor);
        Err(errors::not_supported("list-published"))
    }

    /// Feed-file platforms: the complete feed for these listings.
    fn render_feed(config: &str, listings: Vec<Listing>) -> Result<Feed, PluginError> {
        let _ = (config, listings);
        Err(errors::not_supported("render-feed"))
    }

    /// One page of customer enquiries (leads) received by the platform.
    fn fetch_enquiries(config: &str, cursor: Option<String>) -> Result<EnquiryPage, PluginError> {
        let _ = (config, cursor);
        Err(errors::not_supported("fetch-enquiries"))
    }
}

/// A DMS source: turns what a dealer management system says into vehicles.
///
/// Implement it on a unit struct and pass that struct to [`export_source!`].
/// Only [`describe`](Source::describe) is required; `pull` and `parse_push`
/// answer "not supported" by default.
pub trait Source {
    /// What this source is and how the host should drive it.
    fn describe() -> SourceInfo;

    /// One page of changes since `request.cursor`.
    fn pull(request: PullRequest) -> Result<PullPage, PluginError> {
        let _ = request;
        Err(errors::not_supported("pull"))
    }

    /// Parse one push notification whose signature the host has verified.
    fn parse_push(
        config: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<PullPage, PluginError> {
        let _ = (config, headers, body);
        Err(errors::not_supported("parse-push"))
    }
}

/// A [`Source`] that can skip the rows the host already holds (contract
/// 1.2.0, world `dms-snapshot-source`).
///
/// For a source that parses a whole document (an export file) on every
/// pull. The host hands back, for each vehicle it stored from this source,
/// the digest the source gave that vehicle's row; a row whose digest is in
/// `known` is reported by its index in [`SnapshotPage::unchanged`] instead
/// of being turned into a vehicle again. [`digest::RowDigest`] computes such
/// digests. Implement it beside [`Source`] and pass the type to
/// [`export_snapshot_source!`].
pub trait SnapshotSource: Source {
    /// [`Source::pull`] for a document, skipping the rows in `known`.
    ///
    /// `page` is what `pull` would return for the new and changed rows;
    /// `digests` has one entry per entry of `page.changes` (the digest of
    /// the row an upsert came from, or `None` when the row must be parsed
    /// again next time); `unchanged` holds indexes into `known`. An empty
    /// `known` means every row is parsed.
    fn pull_snapshot(
        request: PullRequest,
        known: Vec<KnownRow>,
    ) -> Result<SnapshotPage, PluginError>;
}

/// A dealer CRM: where the buyers' enquiries (leads) the hub collects are delivered.
///
/// Implement it on a unit struct and pass that struct to [`export_crm!`].
/// [`describe`](Crm::describe) and [`render`](Crm::render) are required;
/// `deliver` answers "not supported" by default (a CRM reached only by the
/// host's e-mail delivery needs no `deliver`).
pub trait Crm {
    /// What this CRM plugin is and what it renders.
    fn describe() -> CrmInfo;

    /// The document for one lead. Deterministic and offline.
    fn render(config: &str, lead: Lead) -> Result<Document, PluginError>;

    /// Deliver a batch: one result per lead, or an error for the whole batch.
    fn deliver(config: &str, leads: Vec<Lead>) -> Result<Vec<DeliveryResult>, PluginError> {
        let _ = (config, leads);
        Err(errors::not_supported("deliver"))
    }
}

/// An enricher: adds data to a vehicle before validation and transform.
///
/// Implement it on a unit struct and pass that struct to [`export_enricher!`].
pub trait Enricher {
    /// What this enricher is and which fields it may fill.
    fn describe() -> EnricherInfo;

    /// Add data to one vehicle bound for `target`. Deterministic and offline.
    fn enrich(config: &str, vehicle: Vehicle, target: Target) -> Result<Enriched, PluginError>;
}

/// Export a [`Platform`] implementation as this component's `listing-platform`.
///
/// Use it once, at the root of a `cdylib` crate:
///
/// ```ignore
/// forecourt_sdk::export_platform!(MyPlatform);
/// ```
///
/// It defines a hidden struct implementing the generated `Guest` trait by
/// forwarding every call to `<MyPlatform as Platform>`, exports it through the
/// generated bindings, and stamps [`CONTRACT_VERSION`] into the
/// `forecourt:contract` custom section. On targets other than `wasm32` only the
/// forwarding impl is compiled, so the crate's logic can be built and tested
/// natively.
#[macro_export]
macro_rules! export_platform {
    ($ty:ty) => {
        const _: () = {
            #[doc(hidden)]
            struct __ForecourtPlatformExport;

            impl $crate::platform_bindings::exports::forecourt::plugin::platform::Guest
                for __ForecourtPlatformExport
            {
                fn describe() -> $crate::PlatformInfo {
                    <$ty as $crate::Platform>::describe()
                }
                fn transform(
                    config: ::std::string::String,
                    vehicle: $crate::Vehicle,
                ) -> ::std::result::Result<
                    $crate::Transformed,
                    ::std::vec::Vec<$crate::ValidationIssue>,
                > {
                    <$ty as $crate::Platform>::transform(&config, vehicle)
                }
                fn publish(
                    config: ::std::string::String,
                    operations: ::std::vec::Vec<$crate::Operation>,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::OperationResult>,
                    $crate::PluginError,
                > {
                    <$ty as $crate::Platform>::publish(&config, operations)
                }
                fn list_published(
                    config: ::std::string::String,
                    cursor: ::std::option::Option<::std::string::String>,
                ) -> ::std::result::Result<$crate::PublishedPage, $crate::PluginError> {
                    <$ty as $crate::Platform>::list_published(&config, cursor)
                }
                fn render_feed(
                    config: ::std::string::String,
                    listings: ::std::vec::Vec<$crate::Listing>,
                ) -> ::std::result::Result<$crate::Feed, $crate::PluginError> {
                    <$ty as $crate::Platform>::render_feed(&config, listings)
                }
                fn fetch_enquiries(
                    config: ::std::string::String,
                    cursor: ::std::option::Option<::std::string::String>,
                ) -> ::std::result::Result<$crate::EnquiryPage, $crate::PluginError> {
                    <$ty as $crate::Platform>::fetch_enquiries(&config, cursor)
                }
            }

            // Natively nothing calls the forwarding impl (there are no
            // exports): keep it, and through it the plugin, alive so a native
            // build has no dead-code warnings.
            #[cfg(not(target_arch = "wasm32"))]
            #[used]
            static __FORECOURT_NATIVE_KEEP: fn() = || {
                use $crate::platform_bindings::exports::forecourt::plugin::platform::Guest as _;
                let _ = (
                    __ForecourtPlatformExport::describe,
                    __ForecourtPlatformExport::transform,
                    __ForecourtPlatformExport::publish,
                    __ForecourtPlatformExport::list_published,
                    __ForecourtPlatformExport::render_feed,
                    __ForecourtPlatformExport::fetch_enquiries,
                );
            };

            #[cfg(target_arch = "wasm32")]
            $crate::platform_bindings::export_listing_platform!(
                __ForecourtPlatformExport with_types_in $crate::platform_bindings
            );

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "forecourt:contract")]
            #[used]
            static __FORECOURT_CONTRACT: [u8; 5] = $crate::CONTRACT_VERSION_BYTES;
        };
    };
}

/// Export a [`Source`] implementation as this component's `dms-source`.
///
/// Use it once, at the root of a `cdylib` crate:
///
/// ```ignore
/// forecourt_sdk::export_source!(MySource);
/// ```
///
/// Works like [`export_platform!`]: a hidden struct forwards the generated
/// `Guest` trait to `<MySource as Source>`, and [`CONTRACT_VERSION`] is
/// stamped into the `forecourt:contract` custom section.
#[macro_export]
macro_rules! export_source {
    ($ty:ty) => {
        const _: () = {
            #[doc(hidden)]
            struct __ForecourtSourceExport;

            $crate::__forecourt_source_guest!(
                $crate::source_bindings::exports::forecourt::plugin::source::Guest,
                __ForecourtSourceExport,
                $ty
            );

            // See `export_platform!`.
            #[cfg(not(target_arch = "wasm32"))]
            #[used]
            static __FORECOURT_NATIVE_KEEP: fn() = || {
                use $crate::source_bindings::exports::forecourt::plugin::source::Guest as _;
                let _ = (
                    __ForecourtSourceExport::describe,
                    __ForecourtSourceExport::pull,
                    __ForecourtSourceExport::parse_push,
                );
            };

            #[cfg(target_arch = "wasm32")]
            $crate::source_bindings::export_dms_source!(
                __ForecourtSourceExport with_types_in $crate::source_bindings
            );

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "forecourt:contract")]
            #[used]
            static __FORECOURT_CONTRACT: [u8; 5] = $crate::CONTRACT_VERSION_BYTES;
        };
    };
}

/// The `source` interface's `Guest` impl, forwarding to [`Source`]: shared
/// by [`export_source!`] and [`export_snapshot_source!`], whose worlds'
/// bindings each have their own `Guest` trait. Not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __forecourt_source_guest {
    ($guest:path, $export:ident, $ty:ty) => {
        impl $guest for $export {
            fn describe() -> $crate::SourceInfo {
                <$ty as $crate::Source>::describe()
            }
            fn pull(
                request: $crate::PullRequest,
            ) -> ::std::result::Result<$crate::PullPage, $crate::PluginError> {
                <$ty as $crate::Source>::pull(request)
            }
            fn parse_push(
                config: ::std::string::String,
                headers: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                body: ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<$crate::PullPage, $crate::PluginError> {
                <$ty as $crate::Source>::parse_push(&config, headers, body)
            }
        }
    };
}

/// Export a [`SnapshotSource`] implementation as this component's
/// `dms-snapshot-source` world: both `source` and `snapshot`.
///
/// Use it once, at the root of a `cdylib` crate, instead of [`export_source!`]:
///
/// ```ignore
/// forecourt_sdk::export_snapshot_source!(MySource);
/// ```
///
/// Works like [`export_platform!`]: a hidden struct forwards the generated
/// `Guest` traits to `<MySource as Source>` and `<MySource as
/// SnapshotSource>`, and [`CONTRACT_VERSION`] is stamped into the
/// `forecourt:contract` custom section.
#[macro_export]
macro_rules! export_snapshot_source {
    ($ty:ty) => {
        const _: () = {
            #[doc(hidden)]
            struct __ForecourtSnapshotSourceExport;

            $crate::__forecourt_source_guest!(
                $crate::snapshot_bindings::exports::forecourt::plugin::source::Guest,
                __ForecourtSnapshotSourceExport,
                $ty
            );

            impl $crate::snapshot_bindings::exports::forecourt::plugin::snapshot::Guest
                for __ForecourtSnapshotSourceExport
            {
                fn pull_snapshot(
                    request: $crate::PullRequest,
                    known: ::std::vec::Vec<$crate::KnownRow>,
                ) -> ::std::result::Result<$crate::SnapshotPage, $crate::PluginError> {
                    <$ty as $crate::SnapshotSource>::pull_snapshot(request, known)
                }
            }

            // See `export_platform!`.
            #[cfg(not(target_arch = "wasm32"))]
            #[used]
            static __FORECOURT_NATIVE_KEEP: fn() = || {
                use $crate::snapshot_bindings::exports::forecourt::plugin::snapshot::Guest as _;
                use $crate::snapshot_bindings::exports::forecourt::plugin::source::Guest as _;
                let _ = (
                    __ForecourtSnapshotSourceExport::describe,
                    __ForecourtSnapshotSourceExport::pull,
                    __ForecourtSnapshotSourceExport::parse_push,
                    __ForecourtSnapshotSourceExport::pull_snapshot,
                );
            };

            #[cfg(target_arch = "wasm32")]
            $crate::snapshot_bindings::export_dms_snapshot_source!(
                __ForecourtSnapshotSourceExport with_types_in $crate::snapshot_bindings
            );

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "forecourt:contract")]
            #[used]
            static __FORECOURT_CONTRACT: [u8; 5] = $crate::CONTRACT_VERSION_BYTES;
        };
    };
}

/// Export a [`Crm`] implementation as this component's `crm` world.
///
/// Use it once, at the root of a `cdylib` crate:
///
/// ```ignore
/// forecourt_sdk::export_crm!(MyCrm);
/// ```
///
/// Works like [`export_platform!`]: a hidden struct forwards the generated
/// `Guest` trait to `<MyCrm as Crm>`, and [`CONTRACT_VERSION`] is stamped
/// into the `forecourt:contract` custom section.
#[macro_export]
macro_rules! export_crm {
    ($ty:ty) => {
        const _: () = {
            #[doc(hidden)]
            struct __ForecourtCrmExport;

            impl $crate::crm_bindings::exports::forecourt::plugin::leads::Guest
                for __ForecourtCrmExport
            {
                fn describe() -> $crate::CrmInfo {
                    <$ty as $crate::Crm>::describe()
                }
                fn render(
                    config: ::std::string::String,
                    lead: $crate::Lead,
                ) -> ::std::result::Result<$crate::Document, $crate::PluginError> {
                    <$ty as $crate::Crm>::render(&config, lead)
                }
                fn deliver(
                    config: ::std::string::String,
                    leads: ::std::vec::Vec<$crate::Lead>,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::DeliveryResult>,
                    $crate::PluginError,
                > {
                    <$ty as $crate::Crm>::deliver(&config, leads)
                }
            }

            // See `export_platform!`.
            #[cfg(not(target_arch = "wasm32"))]
            #[used]
            static __FORECOURT_NATIVE_KEEP: fn() = || {
                use $crate::crm_bindings::exports::forecourt::plugin::leads::Guest as _;
                let _ = (
                    __ForecourtCrmExport::describe,
                    __ForecourtCrmExport::render,
                    __ForecourtCrmExport::deliver,
                );
            };

            #[cfg(target_arch = "wasm32")]
            $crate::crm_bindings::export_crm_world!(
                __ForecourtCrmExport with_types_in $crate::crm_bindings
            );

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "forecourt:contract")]
            #[used]
            static __FORECOURT_CONTRACT: [u8; 5] = $crate::CONTRACT_VERSION_BYTES;
        };
    };
}

/// Export an [`Enricher`] implementation as this component's `enricher` world.
///
/// Use it once, at the root of a `cdylib` crate:
///
/// ```ignore
/// forecourt_sdk::export_enricher!(MyEnricher);
/// ```
///
/// Works like [`export_platform!`].
#[macro_export]
macro_rules! export_enricher {
    ($ty:ty) => {
        const _: () = {
            #[doc(hidden)]
            struct __ForecourtEnricherExport;

            impl $crate::enricher_bindings::exports::forecourt::plugin::enrichment::Guest
                for __ForecourtEnricherExport
            {
                fn describe() -> $crate::EnricherInfo {
                    <$ty as $crate::Enricher>::describe()
                }
                fn enrich(
                    config: ::std::string::String,
                    vehicle: $crate::Vehicle,
                    target: $crate::Target,
                ) -> ::std::result::Result<$crate::Enriched, $crate::PluginError> {
                    <$ty as $crate::Enricher>::enrich(&config, vehicle, target)
                }
            }

            // See `export_platform!`.
            #[cfg(not(target_arch = "wasm32"))]
            #[used]
            static __FORECOURT_NATIVE_KEEP: fn() = || {
                use $crate::enricher_bindings::exports::forecourt::plugin::enrichment::Guest as _;
                let _ = (
                    __ForecourtEnricherExport::describe,
                    __ForecourtEnricherExport::enrich,
                );
            };

            #[cfg(target_arch = "wasm32")]
            $crate::enricher_bindings::export_enricher_world!(
                __ForecourtEnricherExport with_types_in $crate::enricher_bindings
            );

            #[cfg(target_arch = "wasm32")]
            #[unsafe(link_section = "forecourt:contract")]
            #[used]
            static __FORECOURT_CONTRACT: [u8; 5] = $crate::CONTRACT_VERSION_BYTES;
        };
    };
}
