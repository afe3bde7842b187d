//! The plugin contract: which versions of `forecourt:plugin` this host serves,
//! and how a component's version is read before anything is compiled.
//!
//! A component says which contract it was built for in two places: the
//! version of the `forecourt:plugin/...` interface it exports (every
//! component toolchain writes this, whatever the language), and, for plugins
//! built with the Rust SDK, a `forecourt:contract` custom section stamped into
//! the binary. The export is authoritative; the stamp must agree with it.
//!
//! Versions side by side: the host's bindings are generated from the current
//! contract, and a plugin built for any earlier minor version of the same
//! major links against them unchanged (minor versions only add interfaces
//! and worlds; wasmtime matches `@1.0.0` names to `@1.2.0` definitions). A
//! plugin built for another major, or for a newer minor, is refused here
//! with both versions named, before it is compiled. docs/plugins.md
//! ("Contract versions") has the policy.

use semver::Version;
use wasmparser::{Parser, Payload};

/// The contract version this host implements.
pub const CURRENT: &str = "1.2.0";

/// The oldest contract version this host still serves, per major served.
/// Minor versions are additive, so a plugin built for 1.0 runs on a host at 1.1.
pub const SERVED: &[(u64, &str)] = &[(1, "1.0.0")];

/// Major versions this host serves, newest first.
pub const SUPPORTED_MAJORS: &[u64] = &[1];

/// The custom section the SDK stamps into every plugin.
pub const STAMP_SECTION: &str = "forecourt:contract";

/// What this host serves, in words: "1.0.0 to 1.2.0".
pub fn served_range() -> String {
    SERVED
        .iter()
        .map(|(major, oldest)| {
            let newest = if Version::parse(CURRENT).ok().map(|v| v.major) == Some(*major) {
                CURRENT
            } else {
                oldest
            };
            if *oldest == newest {
                newest.to_string()
            } else {
                format!("{oldest} to {newest}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The world a component implements, from the interface it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// Exports `forecourt:plugin/source`: the `dms-source` world.
    DmsSource,
    /// Exports `forecourt:plugin/platform`: the `listing-platform` world.
    ListingPlatform,
    /// Exports `forecourt:plugin/leads`: the `crm` world (since 1.1.0).
    Crm,
    /// Exports `forecourt:plugin/enrichment`: the `enricher` world (since 1.1.0).
    Enricher,
}

impl World {
    /// The WIT world name.
    pub fn name(self) -> &'static str {
        match self {
            World::DmsSource => "dms-source",
            World::ListingPlatform => "listing-platform",
            World::Crm => "crm",
            World::Enricher => "enricher",
        }
    }

    /// The first contract version that has this world.
    pub fn since(self) -> &'static str {
        match self {
            World::DmsSource | World::ListingPlatform => "1.0.0",
            World::Crm | World::Enricher => "1.1.0",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An interface name of the form `namespace:package/interface@version`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InterfaceName {
    /// `namespace:package`, e.g. `wasi:http`.
    pub package: String,
    /// The interface within the package, e.g. `outgoing-handler`.
    pub interface: String,
    /// The package version, if the name carries one.
    pub version: Option<String>,
}

impl InterfaceName {
    /// Parse `ns:pkg/iface@1.2.3`; plain names (`run`) return `None`.
    pub fn parse(name: &str) -> Option<Self> {
        let (path, version) = match name.split_once('@') {
            Some((p, v)) => (p, Some(v.to_string())),
            None => (name, None),
        };
        let (package, interface) = path.split_once('/')?;
        if !package.contains(':') {
            return None;
        }
        Some(Self {
            package: package.to_string(),
            interface: interface.to_string(),
            version,
        })
    }
}

/// What a component says about itself, read without compiling it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ComponentFacts {
    /// Every import name of the top-level component.
    pub imports: Vec<String>,
    /// Every export name of the top-level component.
    pub exports: Vec<String>,
    /// The world, from the `forecourt:plugin` interface exported.
    pub world: Option<World>,
    /// The contract version of that export.
    pub contract_version: Option<String>,
    /// The SDK's stamp, if present.
    pub stamp: Option<String>,
}

/// Why a component's contract could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// Not a component at all (a core module, or garbage).
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// The component exports no `forecourt:plugin` interface.
    #[error("the component exports no forecourt:plugin interface (exports: {0}); build it against wit/ with world `dms-source`, `listing-platform`, `crm` or `enricher`")]
    NoPluginExport(String),
    /// Built for a major version this host does not serve.
    #[error("the component was built for contract {found}, but this host serves contract {served}; rebuild the plugin against a served contract (see docs/plugins.md, \"Contract versions\")")]
    Unsupported {
        /// The version the component carries.
        found: String,
        /// What this host serves.
        served: String,
    },
    /// Built for a newer minor version than this host implements.
    #[error("the component was built for contract {found}, newer than this host's {CURRENT} (it serves {}); upgrade forecourt, or rebuild the plugin against {CURRENT}", served_range())]
    TooNew {
        /// The version the component carries.
        found: String,
    },
    /// A world exported under a contract version that did not have it yet.
    #[error("the component implements world `{world}` under contract {found}, but `{world}` exists only from contract {} on; the binary is mis-built", world.since())]
    WorldTooNew {
        /// The world.
        world: World,
        /// The version the component carries.
        found: String,
    },
    /// The SDK stamp disagrees with the exported interface.
    #[error("the component's {STAMP_SECTION} stamp says {stamp} but it exports contract {export}; the binary has been altered or mis-built")]
    StampMismatch {
        /// The stamped version.
        stamp: String,
        /// The version of the export.
        export: String,
    },
}

/// Read imports, exports and the contract version of a component.
pub fn read_facts(bytes: &[u8]) -> Result<ComponentFacts, ContractError> {
    if !Parser::is_component(bytes) {
        return Err(ContractError::NotAComponent(
            "the file does not start with a component header (a core module or another file?)"
                .into(),
        ));
    }
    let mut facts = ComponentFacts {
        imports: Vec::new(),
        exports: Vec::new(),
        world: None,
        contract_version: None,
        stamp: None,
    };
    // Nesting depth: 0 is the top-level component, whose imports and exports
    // are the ones the host must satisfy.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| ContractError::NotAComponent(e.to_string()))?;
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import = import.map_err(|e| ContractError::NotAComponent(e.to_string()))?;
                    facts.imports.push(import.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(|e| ContractError::NotAComponent(e.to_string()))?;
                    facts.exports.push(export.name.name.to_string());
                }
            }
            Payload::CustomSection(reader) if reader.name() == STAMP_SECTION => {
                facts.stamp = Some(String::from_utf8_lossy(reader.data()).trim().to_string());
            }
            _ => {}
        }
    }
    for export in &facts.exports {
        let Some(name) = InterfaceName::parse(export) else {
            continue;
        };
        if name.package != "forecourt:plugin" {
            continue;
        }
        let world = match name.interface.as_str() {
            "source" => World::DmsSource,
            "platform" => World::ListingPlatform,
            "leads" => World::Crm,
            "enrichment" => World::Enricher,
            _ => continue,
        };
        facts.world = Some(world);
        facts.contract_version = name.version.clone();
    }
    Ok(facts)
}

/// Check the component's contract version against what this host serves.
pub fn check_version(facts: &ComponentFacts) -> Result<(World, Version), ContractError> {
    let (Some(world), Some(found)) = (facts.world, facts.contract_version.as_deref()) else {
        return Err(ContractError::NoPluginExport(facts.exports.join(", ")));
    };
    let served = served_range();
    let version = Version::parse(found).map_err(|_| ContractError::Unsupported {
        found: found.to_string(),
        served: served.clone(),
    })?;
    if !SUPPORTED_MAJORS.contains(&version.major) {
        return Err(ContractError::Unsupported {
            found: found.to_string(),
            served,
        });
    }
    let current = Version::parse(CURRENT).expect("CURRENT is a valid version");
    if version.major == current.major && version > current {
        return Err(ContractError::TooNew {
            found: found.to_string(),
        });
    }
    let oldest = SERVED
        .iter()
        .find(|(major, _)| *major == version.major)
        .and_then(|(_, oldest)| Version::parse(oldest).ok());
    if oldest.is_some_and(|oldest| version < oldest) {
        return Err(ContractError::Unsupported {
            found: found.to_string(),
            served,
        });
    }
    let since = Version::parse(world.since()).expect("world versions are valid");
    if version.major == since.major && version < since {
        return Err(ContractError::WorldTooNew {
            world,
            found: found.to_string(),
        });
    }
    if let Some(stamp) = &facts.stamp {
        if stamp != found {
            return Err(ContractError::StampMismatch {
                stamp: stamp.clone(),
                export: found.to_string(),
            });
        }
    }
    Ok((world, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(export: &str, stamp: Option<&str>) -> ComponentFacts {
        let name = InterfaceName::parse(export).unwrap();
        ComponentFacts {
            imports: vec![],
            exports: vec![export.to_string()],
            world: Some(match name.interface.as_str() {
                "source" => World::DmsSource,
                "leads" => World::Crm,
                "enrichment" => World::Enricher,
                _ => World::ListingPlatform,
            }),
            contract_version: name.version,
            stamp: stamp.map(str::to_string),
        }
    }

    #[test]
    fn parses_interface_names() {
        let n = InterfaceName::parse("wasi:http/outgoing-handler@0.2.12").unwrap();
        assert_eq!(n.package, "wasi:http");
        assert_eq!(n.interface, "outgoing-handler");
        assert_eq!(n.version.as_deref(), Some("0.2.12"));
        assert!(InterfaceName::parse("run").is_none());
    }

    #[test]
    fn accepts_current_and_older_minor() {
        assert!(check_version(&facts("forecourt:plugin/platform@1.0.0", Some("1.0.0"))).is_ok());
        assert!(check_version(&facts("forecourt:plugin/source@1.0.0", None)).is_ok());
        assert!(check_version(&facts("forecourt:plugin/platform@1.1.0", Some("1.1.0"))).is_ok());
        assert!(check_version(&facts("forecourt:plugin/leads@1.1.0", Some("1.1.0"))).is_ok());
        let (world, _) = check_version(&facts("forecourt:plugin/enrichment@1.1.0", None)).unwrap();
        assert_eq!(world, World::Enricher);
    }

    #[test]
    fn refuses_other_majors_and_newer_minors() {
        let err = check_version(&facts("forecourt:plugin/platform@2.0.0", None)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the component was built for contract 2.0.0, but this host serves contract 1.0.0 to 1.2.0; rebuild the plugin against a served contract (see docs/plugins.md, \"Contract versions\")"
        );
        let err = check_version(&facts("forecourt:plugin/platform@0.9.0", None)).unwrap_err();
        assert!(matches!(err, ContractError::Unsupported { .. }), "{err}");
        let err = check_version(&facts("forecourt:plugin/platform@1.9.0", None)).unwrap_err();
        assert!(matches!(err, ContractError::TooNew { .. }), "{err}");
        assert!(
            err.to_string().contains("1.9.0") && err.to_string().contains("1.2.0"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_new_world_under_an_old_version() {
        let err = check_version(&facts("forecourt:plugin/leads@1.0.0", None)).unwrap_err();
        assert!(matches!(err, ContractError::WorldTooNew { .. }), "{err}");
    }

    #[test]
    fn served_range_names_oldest_and_current() {
        assert_eq!(served_range(), "1.0.0 to 1.2.0");
    }

    #[test]
    fn refuses_a_stamp_that_disagrees() {
        let err =
            check_version(&facts("forecourt:plugin/platform@1.0.0", Some("0.9.0"))).unwrap_err();
        assert!(matches!(err, ContractError::StampMismatch { .. }), "{err}");
    }

    #[test]
    fn refuses_garbage() {
        assert!(matches!(
            read_facts(b"hello"),
            Err(ContractError::NotAComponent(_))
        ));
    }
}
