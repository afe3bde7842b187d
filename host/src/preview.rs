//! User acceptance: `forecourt preview` renders exactly what each platform
//! would receive (the plugin's transform of the vehicle after the host's
//! quality pipeline) with the validation results and a diff against what is
//! published; `forecourt sync --dry-run` plans a whole cycle on a scratch
//! copy of the store and prints every operation without sending anything.
//! `forecourt completeness` and `forecourt quality reset-mileage` live here too.

use crate::cli::{EXIT_OK, EXIT_RUNTIME};
use crate::commands::ConfigArg;
use crate::quality::{BatchContext, Judged, QualityStore, Verdict};
use crate::store::{now_ms, SqliteStore, Store, StoredVehicle};
use crate::sync::planner::{self, Rendered};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::sync::Arc;

/// `forecourt preview`
#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Only this platform.
    #[arg(long)]
    pub platform: Option<String>,
    /// Only this vehicle (its images of unknown size are measured now).
    #[arg(long)]
    pub vehicle: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `forecourt completeness`
#[derive(Debug, Args)]
pub struct CompletenessArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Only this platform.
    #[arg(long)]
    pub platform: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `forecourt quality ...`
#[derive(Debug, Subcommand)]
pub enum QualityCommand {
    /// Forget a vehicle's mileage history when a lower reading is right (the earlier one was a typing error).
    ResetMileage {
        #[command(flatten)]
        config: ConfigArg,
        /// Stock id.
        #[arg(long)]
        vehicle: String,
    },
    /// Print every rule with its severity and parameters for a dealer and platform.
    Rules {
        #[command(flatten)]
        config: ConfigArg,
        /// Dealer id.
        #[arg(long, default_value = "")]
        dealer: String,
        /// Platform id.
        #[arg(long, default_value = "")]
        platform: String,
    },
}

/// One change between what is published and what would be sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Difference {
    /// JSON path (`adverts.price.amountGBP`), or `line N` / `field N` for other bodies.
    pub path: String,
    /// What the platform has.
    pub published: Option<String>,
    /// What would be sent.
    pub preview: Option<String>,
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn pieces(body: &str) -> Vec<(String, String)> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body) {
        let mut out = Vec::new();
        flatten("", &json, &mut out);
        return out;
    }
    let lines: Vec<&str> = body.lines().collect();
    if lines.len() == 1 && body.contains('\t') {
        return body
            .split('\t')
            .enumerate()
            .map(|(i, f)| (format!("field {}", i + 1), f.to_string()))
            .collect();
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("line {}", i + 1), l.to_string()))
        .collect()
}

/// What differs between a published body and a preview, field by field.
pub fn diff(published: Option<&str>, preview: Option<&str>) -> Vec<Difference> {
    let old = published.map(pieces).unwrap_or_default();
    let new = preview.map(pieces).unwrap_or_default();
    let old_map: std::collections::BTreeMap<&str, &str> =
        old.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let new_map: std::collections::BTreeMap<&str, &str> =
        new.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut out = Vec::new();
    let mut keys: Vec<&str> = old.iter().map(|(k, _)| k.as_str()).collect();
    keys.extend(
        new.iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !old_map.contains_key(k)),
    );
    for k in keys {
        let (a, b) = (old_map.get(k), new_map.get(k));
        if a != b {
            out.push(Difference {
                path: k.to_string(),
                published: a.map(|s| s.to_string()),
                preview: b.map(|s| s.to_string()),
            });
        }
    }
    out
}

/// The preview of one vehicle on one platform.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListingPreview {
    /// Stock id.
    pub stock_id: String,
    /// Platform id.
    pub platform: String,
    /// `send`, `unchanged`, `blocked` or `not-advertised`.
    pub outcome: String,
    /// The operation the planner would queue (`create`, `update`, `remove`, ...).
    pub operation: Option<String>,
    /// Exactly what the platform would receive (JSON bodies parsed).
    pub body: Option<serde_json::Value>,
    /// Host and plugin findings.
    pub issues: Vec<crate::runtime::types::ValidationIssue>,
    /// Host findings with their rule and severity.
    pub rules: Vec<Judged>,
    /// Completeness of what would be sent.
    pub completeness: Option<crate::quality::completeness::Completeness>,
    /// Normalisation applied (field: from -> to).
    pub normalised: Vec<String>,
    /// Personal data removed (field, kind, count).
    pub stripped: Vec<crate::quality::pii_strip::Stripped>,
    /// Against what is published now.
    pub diff: Vec<Difference>,
    /// What the platform shows now (none, live, reserved, removed).
    pub published_state: String,
}

/// Preview `vehicles` on `platforms` of an engine, without changing anything.
pub async fn previews(
    engine: &crate::sync::Engine,
    vehicles: &[StoredVehicle],
    platform: Option<&str>,
    measure_now: bool,
) -> anyhow::Result<Vec<ListingPreview>> {
    let quality = engine.quality();
    let store = engine.store().as_ref();
    let refs: Vec<&StoredVehicle> = vehicles.iter().collect();
    let mut ctx = BatchContext::gather(quality, store, &refs, false)?;
    if let (true, Some(probe)) = (measure_now, quality.probe()) {
        let unknown: Vec<String> = vehicles
            .iter()
            .flat_map(|v| v.record.images.iter())
            .filter(|i| i.width.is_none() || i.height.is_none())
            .map(|i| i.url.clone())
            .collect();
        let measured =
            futures::future::join_all(unknown.iter().map(|u| probe.measure_and_cache(u))).await;
        ctx.add_sizes(unknown.into_iter().zip(measured));
    }
    let mut out = Vec::new();
    let now = now_ms();
    // As planning does: the advertised price (pricing rules), then quality,
    // then the enricher per platform, then the plugin's transform.
    let priced = match engine.pricing() {
        Some(pricing) => pricing.preview_batch(vehicles, now)?,
        None => vehicles.iter().map(|v| v.record.clone()).collect(),
    };
    for (v, record) in vehicles.iter().zip(&priced) {
        let prepared = planner::advertisable(v).then(|| quality.prepare(record));
        for p in engine.platforms() {
            if platform.is_some_and(|id| id != p.id) {
                continue;
            }
            let current = store.listing(&v.record.stock_id, &p.id)?;
            let (verdict, rendered): (Option<Verdict>, Rendered) = match &prepared {
                None => (None, Rendered::NotAdvertisable),
                Some(prepared) => {
                    let (prepared, notes) = engine.enrich_for(p, prepared).await;
                    let verdict =
                        quality.check(&prepared, &p.id, &p.info, &ctx.facts(&v.record.stock_id));
                    let rendered = crate::sync::with_warnings(
                        crate::quality::render(p, &verdict).await,
                        notes,
                    );
                    (Some(verdict), rendered)
                }
            };
            let planned =
                planner::plan(v, &p.id, current.as_ref(), rendered.clone(), p.timing, now);
            let (outcome, body, issues) = match &rendered {
                Rendered::NotAdvertisable => ("not-advertised", None, vec![]),
                Rendered::Blocked(issues) => ("blocked", None, issues.clone()),
                Rendered::Listing { body, warnings, .. } => (
                    if planned.job.is_some() {
                        "send"
                    } else {
                        "unchanged"
                    },
                    Some(body.clone()),
                    warnings.clone(),
                ),
            };
            let published = current.as_ref().and_then(|l| l.published_body.clone());
            out.push(ListingPreview {
                stock_id: v.record.stock_id.clone(),
                platform: p.id.clone(),
                outcome: outcome.into(),
                operation: planned.job.map(|j| j.kind),
                diff: if outcome == "blocked" {
                    vec![]
                } else {
                    diff(published.as_deref(), body.as_deref())
                },
                body: body
                    .map(|b| serde_json::from_str(&b).unwrap_or(serde_json::Value::String(b))),
                issues,
                rules: verdict
                    .as_ref()
                    .map(|v| v.findings.clone())
                    .unwrap_or_default(),
                completeness: verdict.as_ref().map(|v| v.completeness.clone()),
                normalised: prepared
                    .as_ref()
                    .map(|p| p.changes.clone())
                    .unwrap_or_default(),
                stripped: prepared
                    .as_ref()
                    .map(|p| p.stripped.clone())
                    .unwrap_or_default(),
                published_state: current.map_or("none".into(), |l| l.published_state),
            });
        }
    }
    Ok(out)
}

/// `forecourt preview`
pub async fn preview(args: PreviewArgs) -> anyhow::Result<u8> {
    let config = args.config.load()?;
    if let Some(p) = &args.platform {
        anyhow::ensure!(
            config.platforms.iter().any(|c| c.id.get_ref() == p),
            "no platform `{p}` in {}",
            args.config.config.display()
        );
    }
    let app = crate::app::build(&config).await?;
    let vehicles = match &args.vehicle {
        Some(id) => vec![app.store.vehicle(id)?.with_context(|| {
            format!("no vehicle with stock id `{id}` in the store (run a sync first)")
        })?],
        None => app.store.present_vehicles()?,
    };
    let previews = previews(
        &app.engine,
        &vehicles,
        args.platform.as_deref(),
        args.vehicle.is_some(),
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&previews)?);
        return Ok(EXIT_OK);
    }
    let show_body = args.vehicle.is_some();
    for p in &previews {
        println!(
            "{} on {}: {}{} (published: {})",
            p.stock_id,
            p.platform,
            p.outcome.to_uppercase(),
            p.operation
                .as_deref()
                .map(|o| format!(" as {o}"))
                .unwrap_or_default(),
            p.published_state
        );
        for i in &p.issues {
            let severity = match i.severity {
                crate::runtime::types::Severity::Error => "block",
                crate::runtime::types::Severity::Warning => "warn ",
            };
            println!("    {severity} {}: {}", i.field, i.message);
        }
        if let Some(c) = &p.completeness {
            let missing: Vec<&String> = c
                .required_missing
                .iter()
                .chain(&c.recommended_missing)
                .collect();
            println!(
                "    completeness {}/100{}",
                c.score,
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; missing: {}",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            );
        }
        for s in &p.stripped {
            println!("    removed from {}: {} {}", s.field, s.count, s.kind);
        }
        for change in &p.normalised {
            println!("    normalised {change}");
        }
        if show_body {
            if let Some(body) = &p.body {
                let text = match body {
                    serde_json::Value::String(s) => s.clone(),
                    other => serde_json::to_string_pretty(other)?,
                };
                println!("    would send:");
                for line in text.lines() {
                    println!("      {line}");
                }
            }
        }
        if !p.diff.is_empty() && p.published_state != "none" {
            println!("    against what is published:");
            for d in p.diff.iter().take(if show_body { usize::MAX } else { 8 }) {
                println!(
                    "      {}: {} -> {}",
                    d.path,
                    d.published.as_deref().unwrap_or("(absent)"),
                    d.preview.as_deref().unwrap_or("(absent)")
                );
            }
        }
    }
    let blocked = previews.iter().filter(|p| p.outcome == "blocked").count();
    println!(
        "{} listing(s): {} to send, {} unchanged, {} blocked, {} not advertised",
        previews.len(),
        previews.iter().filter(|p| p.outcome == "send").count(),
        previews.iter().filter(|p| p.outcome == "unchanged").count(),
        blocked,
        previews
            .iter()
            .filter(|p| p.outcome == "not-advertised")
            .count()
    );
    Ok(EXIT_OK)
}

/// A scratch copy of the store that is deleted when dropped.
struct Scratch {
    dir: std::path::PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Copy the database at `path` (if any) into a fresh scratch directory.
fn scratch_copy(path: &std::path::Path) -> anyhow::Result<(Scratch, Arc<SqliteStore>)> {
    let dir = std::env::temp_dir().join(format!(
        "forecourt-dry-run-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir)?;
    let scratch = Scratch { dir: dir.clone() };
    let copy = dir.join("forecourt.db");
    if path.exists() {
        // VACUUM INTO reads one consistent snapshot, even while a sync writes.
        let source =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .with_context(|| format!("opening {} read-only", path.display()))?;
        source
            .execute("VACUUM INTO ?1", [copy.to_string_lossy().as_ref()])
            .with_context(|| format!("copying {}", path.display()))?;
    }
    let store = Arc::new(SqliteStore::open(&copy)?);
    Ok((scratch, store))
}

/// One operation a dry run would send.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedOperation {
    /// Platform id.
    pub platform: String,
    /// Stock id.
    pub stock_id: String,
    /// create, update, reserve, unreserve, remove.
    pub operation: String,
    /// 0 removals, 1 new stock and reservations, 2 other updates.
    pub priority: i64,
    /// Earliest time it would be sent (ms since the epoch).
    pub run_at: i64,
    /// Queued by an earlier sync, not by this cycle.
    pub already_queued: bool,
}

/// What a dry run found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DryRun {
    /// Per source.
    pub pulls: Vec<crate::sync::PullReport>,
    /// Vehicles planned.
    pub planned: usize,
    /// Every operation the cycle would send.
    pub operations: Vec<PlannedOperation>,
    /// Listings held back, with why.
    pub blocked: Vec<BlockedListing>,
}

/// A listing the quality rules or the plugin hold back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BlockedListing {
    /// Stock id.
    pub stock_id: String,
    /// Platform id.
    pub platform: String,
    /// Why.
    pub issues: Vec<crate::runtime::types::ValidationIssue>,
}

/// Pull, ingest and plan one cycle on a scratch copy of the store; nothing
/// is delivered and the real store is never written.
pub async fn dry_run_cycle(config: &crate::config::RawConfig) -> anyhow::Result<DryRun> {
    let (scratch, store) = scratch_copy(&crate::app::database_path(config))?;
    let started = now_ms();
    let mut app = crate::app::build_on_store(config, None, store).await?;
    let quality = app.engine.quality().without_fetch();
    Arc::get_mut(&mut app.engine)
        .expect("a freshly built engine is not shared yet")
        .set_quality(quality);
    let mut pulls = Vec::new();
    for source in app.engine.sources() {
        pulls.push(app.engine.pull(source).await?);
    }
    let planned = app.engine.plan().await?;
    let conn = rusqlite::Connection::open(scratch.dir.join("forecourt.db"))?;
    let mut stmt = conn.prepare(
        "SELECT platform, stock_id, kind, priority, run_at, created_at FROM jobs
         WHERE state IN ('available', 'running') ORDER BY platform, priority, run_at, stock_id",
    )?;
    let operations = stmt
        .query_map([], |r| {
            Ok(PlannedOperation {
                platform: r.get(0)?,
                stock_id: r.get(1)?,
                operation: r.get(2)?,
                priority: r.get(3)?,
                run_at: r.get(4)?,
                already_queued: r.get::<_, i64>(5)? < started,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut blocked = Vec::new();
    for p in app.engine.platforms() {
        for l in app.store.listings(&p.id)? {
            if l.lifecycle == "blocked" {
                blocked.push(BlockedListing {
                    issues: serde_json::from_str(l.issues.as_deref().unwrap_or("[]"))
                        .unwrap_or_default(),
                    stock_id: l.stock_id,
                    platform: l.platform,
                });
            }
        }
    }
    drop(stmt);
    drop(conn);
    drop(app);
    drop(scratch);
    Ok(DryRun {
        pulls,
        planned,
        operations,
        blocked,
    })
}

/// `forecourt sync --dry-run`
pub async fn dry_run(config: &ConfigArg, json: bool) -> anyhow::Result<u8> {
    let report = dry_run_cycle(&config.load()?).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(EXIT_OK);
    }
    println!("DRY RUN: nothing is sent and the store is not changed.");
    for p in &report.pulls {
        println!(
            "source {:<16} {} new, {} changed, {} unchanged, {} removed, {} row issue(s)",
            p.source,
            p.created,
            p.updated,
            p.unchanged,
            p.removed,
            p.row_issues.len()
        );
    }
    println!("would plan {} vehicle(s)", report.planned);
    let now = now_ms();
    for op in &report.operations {
        println!(
            "  {:<16} {:<10} {:<12} priority {}{}{}",
            op.platform,
            op.operation,
            op.stock_id,
            op.priority,
            if op.run_at > now {
                format!(", due in {} s", (op.run_at - now) / 1000)
            } else {
                String::new()
            },
            if op.already_queued {
                " (queued earlier)"
            } else {
                ""
            }
        );
    }
    println!("{} operation(s) would be sent", report.operations.len());
    for b in &report.blocked {
        let reasons: Vec<String> = b
            .issues
            .iter()
            .filter(|i| matches!(i.severity, crate::runtime::types::Severity::Error))
            .map(|i| format!("{}: {}", i.field, i.message))
            .collect();
        println!(
            "  BLOCKED {} on {}: {}",
            b.stock_id,
            b.platform,
            reasons.join("; ")
        );
    }
    Ok(EXIT_OK)
}

/// `forecourt completeness`
pub async fn completeness(args: CompletenessArgs) -> anyhow::Result<u8> {
    let config = args.config.load()?;
    let store = crate::app::open_store(&config)?;
    let rows = store.completeness(args.platform.as_deref())?;
    let summary: Vec<_> = crate::quality::completeness::summarise(&rows);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "platforms": summary, "listings": rows })
            )?
        );
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        println!(
            "no completeness scores yet: they are computed when vehicles are planned (run a sync)"
        );
        return Ok(EXIT_OK);
    }
    println!(
        "{:<20} {:>8} {:>8} {:>7} {:>9} {:>16}  most often missing",
        "platform", "vehicles", "average", "lowest", "complete", "missing required"
    );
    for s in &summary {
        println!(
            "{:<20} {:>8} {:>8.1} {:>7} {:>9} {:>16}  {}",
            s.platform,
            s.vehicles,
            s.average,
            s.lowest,
            s.complete,
            s.missing_required,
            s.most_missing
                .iter()
                .take(5)
                .map(|(f, n)| format!("{f} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("\nlowest scores:");
    for r in rows.iter().take(20) {
        let missing: Vec<&str> = r
            .required_missing
            .iter()
            .chain(&r.recommended_missing)
            .map(String::as_str)
            .collect();
        println!(
            "  {:<12} {:<16} {:>3}/100  images {}/{}  missing: {}",
            r.stock_id,
            r.platform,
            r.score,
            r.images,
            r.ideal_images,
            if missing.is_empty() {
                "-".to_string()
            } else {
                missing.join(", ")
            }
        );
    }
    Ok(EXIT_OK)
}

/// `forecourt quality ...`
pub async fn quality(cmd: QualityCommand) -> anyhow::Result<u8> {
    match cmd {
        QualityCommand::ResetMileage { config, vehicle } => {
            let store = crate::app::open_store(&config.load()?)?;
            if store.vehicle(&vehicle)?.is_none() {
                println!("no vehicle with stock id {vehicle}");
                return Ok(EXIT_RUNTIME);
            }
            let n = store.reset_mileage(&vehicle, &crate::commands::operator(), now_ms())?;
            println!("forgot {n} mileage reading(s) of {vehicle}; the next sync accepts its current reading");
            Ok(EXIT_OK)
        }
        QualityCommand::Rules {
            config,
            dealer,
            platform,
        } => {
            let config = config.load()?;
            let settings = crate::quality::Settings::from_config(&config, "forecourt.toml")?;
            let rules = settings.rules(&dealer, &platform);
            for (id, rule) in rules.rules() {
                let params: Vec<String> = rule
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k} = {}", serde_json::to_string(v).unwrap_or_default()))
                    .collect();
                println!(
                    "{:<26} {:<5} {}",
                    id,
                    rule.severity.name(),
                    params.join(", ")
                );
            }
            Ok(EXIT_OK)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_differ_by_path() {
        let d = diff(
            Some(r#"{"price":{"amountGBP":12995},"colour":"Grey","images":["a","b"]}"#),
            Some(r#"{"price":{"amountGBP":12495},"colour":"Grey","images":["a"],"doors":5}"#),
        );
        assert_eq!(
            d,
            vec![
                Difference {
                    path: "images[1]".into(),
                    published: Some("\"b\"".into()),
                    preview: None
                },
                Difference {
                    path: "price.amountGBP".into(),
                    published: Some("12995".into()),
                    preview: Some("12495".into())
                },
                Difference {
                    path: "doors".into(),
                    published: None,
                    preview: Some("5".into())
                },
            ]
        );
        assert!(diff(Some("{\"a\":1}"), Some("{\"a\":1}")).is_empty());
    }

    #[test]
    fn feed_rows_and_text_differ_by_field_and_line() {
        let d = diff(Some("FC1\tFord\t12995"), Some("FC1\tFord\t12495"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "field 3");
        let d = diff(Some("<a>\n<b>1</b>\n</a>"), Some("<a>\n<b>2</b>\n</a>"));
        assert_eq!(d[0].path, "line 2");
        assert_eq!(
            diff(None, Some("{\"a\":1}")).len(),
            1,
            "nothing published: everything is new"
        );
    }
}
