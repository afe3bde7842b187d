//! The load-time review: every import of a component must be granted.
//!
//! This is the first of the sandbox's layers (see docs/security.md). The
//! linker could satisfy far more than a plugin should use, so before a
//! component is compiled the host reads its import list and refuses anything
//! the plugin's manifest does not grant, naming the import and the reason.

use crate::contract::InterfaceName;
use crate::manifest::Manifest;

/// One import that is not allowed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The import as the component names it.
    pub import: String,
    /// Why it is refused and what would allow it.
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "import `{}`: {}", self.import, self.reason)
    }
}

/// The verdict on one import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Granted to every plugin (no authority: clocks, randomness, discarded stdio, an empty environment).
    Baseline,
    /// Granted by the manifest (outbound HTTP to its `[[http]]` origins).
    Granted,
    /// Part of the forecourt contract (log, kv).
    Contract,
    /// Linked to an implementation that denies every call, because the
    /// manifest's `[imports] inert` lists its package (interpreters import
    /// these whether or not the plugin uses them); the text says what is denied.
    Inert(String),
    /// Refused, with the reason.
    Refused(String),
}

/// Judge one import name against a manifest.
pub fn judge(import: &str, manifest: &Manifest) -> Verdict {
    let Some(name) = InterfaceName::parse(import) else {
        return Verdict::Refused(
            "is not an interface import; plugins may only import WASI and forecourt:plugin interfaces".into(),
        );
    };
    let major_ok = |want: &str| name.version.as_deref().is_none_or(|v| v.starts_with(want));
    match (name.package.as_str(), name.interface.as_str()) {
        ("forecourt:plugin", "types" | "log" | "kv") => {
            if major_ok("1.") {
                Verdict::Contract
            } else {
                Verdict::Refused(format!(
                    "contract interface version {} is not served by this host",
                    name.version.unwrap_or_default()
                ))
            }
        }
        ("forecourt:plugin", other) => Verdict::Refused(format!(
            "the contract has no host interface `{other}`"
        )),
        ("wasi:io" | "wasi:clocks" | "wasi:random", _) if major_ok("0.2.") => Verdict::Baseline,
        (
            "wasi:cli",
            "environment" | "exit" | "stdin" | "stdout" | "stderr" | "terminal-input"
            | "terminal-output" | "terminal-stdin" | "terminal-stdout" | "terminal-stderr",
        ) if major_ok("0.2.") => Verdict::Baseline,
        ("wasi:http", "types" | "outgoing-handler") if major_ok("0.2.") => {
            if manifest.http.is_empty() && manifest.imports.is_inert("wasi:http") {
                Verdict::Inert(
                    "no [[http]] origin is granted, so every request is refused".into(),
                )
            } else if manifest.http.is_empty() {
                Verdict::Refused(
                    "outbound HTTP needs at least one [[http]] origin in the manifest, and this manifest grants none".into(),
                )
            } else {
                Verdict::Granted
            }
        }
        ("wasi:filesystem", _) if major_ok("0.2.") && manifest.imports.is_inert("wasi:filesystem") => {
            Verdict::Inert("no directory is ever preopened, so there is no file to open".into())
        }
        ("wasi:sockets", _) if major_ok("0.2.") && manifest.imports.is_inert("wasi:sockets") => {
            Verdict::Inert("socket creation and name lookup are denied".into())
        }
        ("wasi:filesystem", _) => Verdict::Refused(
            "plugins get no file access: the host reads files and hands their bytes to a source's pull(); remove the file-system calls (std::fs) from the plugin".into(),
        ),
        ("wasi:sockets", _) => Verdict::Refused(
            "plugins may not open sockets or resolve names: outbound calls go through wasi:http to the manifest's [[http]] origins".into(),
        ),
        _ => Verdict::Refused("is not an interface this host provides to plugins".into()),
    }
}

/// Review every import; return all refusals at once so an author fixes them in one go.
pub fn review(
    imports: &[String],
    manifest: &Manifest,
) -> Result<Vec<(String, Verdict)>, Vec<Refusal>> {
    let verdicts: Vec<(String, Verdict)> = imports
        .iter()
        .map(|i| (i.clone(), judge(i, manifest)))
        .collect();
    let refusals: Vec<Refusal> = verdicts
        .iter()
        .filter_map(|(import, v)| match v {
            Verdict::Refused(reason) => Some(Refusal {
                import: import.clone(),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    if refusals.is_empty() {
        Ok(verdicts)
    } else {
        Err(refusals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn manifest(http: bool) -> Manifest {
        let mut text = "[plugin]\nid = \"p\"\nkind = \"platform\"\nversion = \"0.1.0\"\ncontract = \"1.0.0\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n".to_string();
        if http {
            text.push_str("[[http]]\norigin = \"https://api.example.com\"\n");
        }
        Manifest::parse(&text, Path::new("p.toml")).unwrap()
    }

    #[test]
    fn baseline_and_contract_imports_pass() {
        let m = manifest(false);
        for i in [
            "wasi:io/streams@0.2.6",
            "wasi:clocks/monotonic-clock@0.2.12",
            "wasi:cli/environment@0.2.0",
            "forecourt:plugin/log@1.0.0",
        ] {
            assert_ne!(
                std::mem::discriminant(&judge(i, &m)),
                std::mem::discriminant(&Verdict::Refused(String::new())),
                "{i}"
            );
        }
    }

    #[test]
    fn http_needs_a_grant() {
        assert!(matches!(
            judge("wasi:http/outgoing-handler@0.2.12", &manifest(false)),
            Verdict::Refused(_)
        ));
        assert_eq!(
            judge("wasi:http/outgoing-handler@0.2.12", &manifest(true)),
            Verdict::Granted
        );
    }

    #[test]
    fn filesystem_and_sockets_are_refused_with_reasons() {
        let m = manifest(true);
        let refusals = review(
            &[
                "wasi:filesystem/preopens@0.2.0".to_string(),
                "wasi:sockets/tcp@0.2.0".to_string(),
                "wasi:io/streams@0.2.0".to_string(),
            ],
            &m,
        )
        .unwrap_err();
        assert_eq!(refusals.len(), 2);
        assert!(refusals[0].to_string().contains("wasi:filesystem/preopens"));
        assert!(refusals[1].reason.contains("sockets"));
    }

    #[test]
    fn inert_imports_need_the_manifest_to_say_so() {
        let text = "[plugin]\nid = \"p\"\nkind = \"platform\"\nversion = \"0.1.0\"\ncontract = \"1.0.0\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n[imports]\ninert = [\"wasi:filesystem\", \"wasi:sockets\", \"wasi:http\"]\n";
        let inert = Manifest::parse(text, Path::new("p.toml")).unwrap();
        for i in [
            "wasi:filesystem/preopens@0.2.9",
            "wasi:sockets/tcp@0.2.9",
            "wasi:http/outgoing-handler@0.2.12",
        ] {
            assert!(matches!(judge(i, &inert), Verdict::Inert(_)), "{i}");
            assert!(
                matches!(judge(i, &manifest(false)), Verdict::Refused(_)),
                "{i}"
            );
        }
        // A newer major version of an inert package is still refused.
        assert!(matches!(
            judge("wasi:sockets/tcp@0.3.0", &inert),
            Verdict::Refused(_)
        ));
    }

    #[test]
    fn unknown_imports_are_refused() {
        assert!(matches!(
            judge("acme:evil/backdoor@1.0.0", &manifest(true)),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            judge("wasi:cli/run@0.2.0", &manifest(true)),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            judge("wasi:io/streams@0.3.0", &manifest(true)),
            Verdict::Refused(_)
        ));
    }
}
