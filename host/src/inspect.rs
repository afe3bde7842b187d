//! `forecourt plugin inspect`: everything a security reviewer needs to know
//! about a component, read without compiling or running it.

use crate::contract::{self, ComponentFacts};
use crate::manifest::{AuthInjection, Manifest};
use crate::runtime::review::{self, Verdict};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The inspection report.
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// The component file.
    pub component: String,
    /// Its size in bytes.
    pub size_bytes: usize,
    /// Its sha256.
    pub sha256: String,
    /// What the component says about itself.
    pub facts: ComponentFacts,
    /// Whether this host serves its contract version, and if not, why.
    pub contract_check: Result<String, String>,
    /// The manifest, if one was found.
    pub manifest: Option<Manifest>,
    /// Why the manifest could not be read, if it could not.
    pub manifest_error: Option<String>,
    /// Each import with its verdict under the manifest.
    pub imports: Vec<(String, Verdict)>,
    /// The publisher signature (`<id>.sig`): who signed, or why it does not check out.
    pub signature: Result<crate::signing::Verified, crate::signing::VerifyError>,
    /// Whether the signer was checked against a trust list (`--trusted`).
    pub trust_checked: bool,
    /// Whether everything matches: hash, contract, kind and imports (and the
    /// signature, when a trust list is given).
    pub verdict: Result<(), Vec<String>>,
}

/// Inspect `component`, with its manifest (by default beside it as `.toml`).
pub fn inspect(component: &Path, manifest_path: Option<&Path>) -> anyhow::Result<Inspection> {
    inspect_with_trust(component, manifest_path, None)
}

/// [`inspect`], also checking the signer against `trusted` when given.
pub fn inspect_with_trust(
    component: &Path,
    manifest_path: Option<&Path>,
    trusted: Option<&crate::signing::TrustedKeys>,
) -> anyhow::Result<Inspection> {
    use anyhow::Context;
    let bytes =
        std::fs::read(component).with_context(|| format!("cannot read {}", component.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let facts = contract::read_facts(&bytes)
        .with_context(|| format!("cannot inspect {}", component.display()))?;
    let contract_check = contract::check_version(&facts)
        .map(|(world, version)| format!("{world} {version}"))
        .map_err(|e| e.to_string());
    let manifest_path = manifest_path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| component.with_extension("toml"));
    let (manifest, manifest_error) = match Manifest::load(&manifest_path) {
        Ok(m) => (Some(m), None),
        Err(e) => (None, Some(e.to_string())),
    };

    let mut problems = Vec::new();
    if let Err(e) = &contract_check {
        problems.push(e.clone());
    }
    let imports = match &manifest {
        Some(m) => {
            if !m.plugin.sha256.eq_ignore_ascii_case(&sha256) {
                problems.push(format!(
                    "sha256 {sha256} does not match the manifest's {}",
                    m.plugin.sha256
                ));
            }
            if facts.contract_version.as_deref() != Some(m.plugin.contract.as_str()) {
                problems.push(format!(
                    "manifest contract {} but component exports {}",
                    m.plugin.contract,
                    facts.contract_version.as_deref().unwrap_or("none")
                ));
            }
            let imports: Vec<(String, Verdict)> = facts
                .imports
                .iter()
                .map(|i| (i.clone(), review::judge(i, m)))
                .collect();
            for (import, verdict) in &imports {
                if let Verdict::Refused(reason) = verdict {
                    problems.push(format!("import `{import}`: {reason}"));
                }
            }
            imports
        }
        None => {
            problems.push(manifest_error.clone().unwrap_or_default());
            Vec::new()
        }
    };
    let signature = match &manifest {
        Some(_) => crate::signing::verify_files(component, Some(&manifest_path), trusted)?,
        None => Err(crate::signing::VerifyError::Malformed {
            path: crate::signing::signature_path(component)
                .display()
                .to_string(),
            message: "cannot be checked without a manifest".into(),
        }),
    };
    if let (Some(_), Err(e)) = (trusted, &signature) {
        problems.push(e.to_string());
    }
    Ok(Inspection {
        component: component.display().to_string(),
        size_bytes: bytes.len(),
        sha256,
        facts,
        contract_check,
        manifest,
        manifest_error,
        imports,
        signature,
        trust_checked: trusted.is_some(),
        verdict: if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        },
    })
}

impl std::fmt::Display for Inspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "component  {} ({} bytes)",
            self.component, self.size_bytes
        )?;
        writeln!(f, "sha256     {}", self.sha256)?;
        match &self.contract_check {
            Ok(c) => writeln!(f, "contract   {c} (served by this host)")?,
            Err(e) => writeln!(f, "contract   REFUSED: {e}")?,
        }
        writeln!(
            f,
            "stamp      {}",
            self.facts
                .stamp
                .as_deref()
                .unwrap_or("none (not built with the Rust SDK)")
        )?;
        match &self.signature {
            Ok(v) => writeln!(
                f,
                "signature  {}",
                crate::signing::describe_verified(v, self.trust_checked)
            )?,
            Err(e) => writeln!(f, "signature  {e}")?,
        }
        writeln!(f, "\nexports")?;
        for e in &self.facts.exports {
            writeln!(f, "  {e}")?;
        }
        writeln!(f, "\nimports")?;
        if self.imports.is_empty() {
            for i in &self.facts.imports {
                writeln!(f, "  {i}")?;
            }
        }
        for (import, verdict) in &self.imports {
            let v = match verdict {
                Verdict::Baseline => "ok       baseline (no authority)".to_string(),
                Verdict::Contract => "ok       forecourt contract".to_string(),
                Verdict::Granted => "ok       granted by manifest [[http]]".to_string(),
                Verdict::Inert(what) => format!("inert    {what} (manifest [imports] inert)"),
                Verdict::Refused(r) => format!("REFUSED  {r}"),
            };
            writeln!(f, "  {import:<48} {v}")?;
        }
        writeln!(f, "\nmanifest grants")?;
        match &self.manifest {
            None => writeln!(
                f,
                "  no manifest: {}",
                self.manifest_error.as_deref().unwrap_or("")
            )?,
            Some(m) => {
                writeln!(
                    f,
                    "  id         {} ({:?}, version {})",
                    m.plugin.id, m.plugin.kind, m.plugin.version
                )?;
                writeln!(
                    f,
                    "  limits     memory {} MiB, {} ms per call, HTTP responses up to {} KiB, output up to {} KiB",
                    m.limits.memory_mib, m.limits.call_timeout_ms, m.limits.http_response_kib, m.limits.max_output_kib
                )?;
                if m.http.is_empty() {
                    writeln!(
                        f,
                        "  http       none: the plugin cannot make any outbound call"
                    )?;
                }
                for g in &m.http {
                    let auth = match &g.auth {
                        None => "no credentials".to_string(),
                        Some(AuthInjection::Bearer { secret }) => {
                            format!("host injects Authorization: Bearer <{secret}>")
                        }
                        Some(AuthInjection::Basic {
                            username_secret,
                            password_secret,
                        }) => format!("host injects Authorization: Basic <{username_secret}>:<{password_secret}>"),
                        Some(AuthInjection::TokenExchange { token_path, form, .. }) => format!(
                            "host exchanges <{}> at {token_path} for a token and injects Authorization: Bearer <token>",
                            form.values().cloned().collect::<Vec<_>>().join(">, <")
                        ),
                        Some(AuthInjection::HmacSignature { secret, header }) => {
                            format!("host signs each body with <{secret}> into {header}")
                        }
                        Some(AuthInjection::Header { name, secret, .. }) => {
                            format!("host injects {name}: <{secret}>")
                        }
                    };
                    writeln!(f, "  http       {} ({auth})", g.origin)?;
                }
                writeln!(f, "  files      none (no preopened directories, ever)")?;
                writeln!(f, "  sockets    none (wasi:sockets is never granted)")?;
                writeln!(f, "  env        none (empty environment)")?;
            }
        }
        match &self.verdict {
            Ok(()) => writeln!(f, "\nverdict    OK: the component and its manifest match"),
            Err(problems) => {
                writeln!(f, "\nverdict    REFUSED")?;
                for p in problems {
                    writeln!(f, "  - {p}")?;
                }
                Ok(())
            }
        }
    }
}
