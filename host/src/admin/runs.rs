//! Work triggered from the API (a sync cycle, a reconciliation): started in
//! the background on the running engine, answered at once with 202 and a run
//! id, and kept in a short in-memory history the API and dashboard read.

use crate::store::audit::AuditEntry;
use crate::store::now_ms;
use crate::sync::Engine;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Runs kept in the history.
const HISTORY: usize = 50;

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Pull, plan, deliver.
    Sync,
    /// Read back API platforms, plan corrections, deliver them.
    Reconcile,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for the engine's current cycle to end, or running.
    Running,
    /// Finished without error.
    Succeeded,
    /// Stopped by an error.
    Failed,
}

/// One triggered run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Id, counting from 1 since the server started.
    pub id: u64,
    /// What it does.
    pub kind: Kind,
    /// Only this platform (reconcile).
    pub platform: Option<String>,
    /// Token name that asked for it.
    pub requested_by: String,
    /// State.
    pub state: State,
    /// When it was asked for.
    pub started_at: i64,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// What it did (counts per source and platform).
    pub summary: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
}

/// The history.
#[derive(Default)]
pub struct Runs {
    next: Mutex<u64>,
    list: Mutex<VecDeque<Run>>,
}

/// A run of the same kind is already in progress.
#[derive(Debug)]
pub struct InProgress(pub u64);

impl Runs {
    /// Every run, newest first.
    pub fn list(&self) -> Vec<Run> {
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .rev()
            .cloned()
            .collect()
    }

    /// One run.
    pub fn get(&self, id: u64) -> Option<Run> {
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|r| r.id == id)
            .cloned()
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Run)) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(run) = list.iter_mut().find(|r| r.id == id) {
            f(run);
        }
    }

    /// Record the request in the audit trail and start it in the background.
    pub fn start(
        self: &Arc<Self>,
        engine: &Arc<Engine>,
        kind: Kind,
        platform: Option<String>,
        caller: &super::auth::Caller,
    ) -> Result<Result<Run, InProgress>, crate::store::StoreError> {
        let run = {
            let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(busy) = list
                .iter()
                .find(|r| r.kind == kind && r.state == State::Running)
            {
                return Ok(Err(InProgress(busy.id)));
            }
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            let run = Run {
                id: *next,
                kind,
                platform: platform.clone(),
                requested_by: caller.name.clone(),
                state: State::Running,
                started_at: now_ms(),
                finished_at: None,
                summary: serde_json::Value::Null,
                error: None,
            };
            list.push_back(run.clone());
            while list.len() > HISTORY {
                list.pop_front();
            }
            run
        };
        engine.store().audit(
            &AuditEntry::new("operator", &caller.actor())
                .step(match kind {
                    Kind::Sync => "trigger-sync",
                    Kind::Reconcile => "trigger-reconcile",
                })
                .detail(serde_json::json!({"run": run.id, "platform": platform})),
            run.started_at,
        )?;
        let runs = self.clone();
        let engine = engine.clone();
        let id = run.id;
        tokio::spawn(async move {
            let result = match kind {
                Kind::Sync => engine.sync_once().await.map(|r| cycle_summary(&r)),
                Kind::Reconcile => reconcile(&engine, platform.as_deref()).await,
            };
            runs.update(id, |run| {
                run.finished_at = Some(now_ms());
                match result {
                    Ok(summary) => {
                        run.state = State::Succeeded;
                        run.summary = summary;
                    }
                    Err(error) => {
                        run.state = State::Failed;
                        run.error = Some(format!("{error:#}"));
                    }
                }
            });
        });
        Ok(Ok(run))
    }
}

/// Reconcile API platforms (or one) and deliver the corrections, between scheduler cycles.
async fn reconcile(engine: &Engine, only: Option<&str>) -> anyhow::Result<serde_json::Value> {
    let _turn = engine.exclusive().await;
    let mut out = Vec::new();
    for platform in engine.platforms() {
        if only.is_some_and(|p| p != platform.id) {
            continue;
        }
        let report = engine.reconcile(platform).await?;
        let delivery = engine.deliver(platform).await?;
        out.push(serde_json::json!({
            "platform": platform.id,
            "pages": report.pages,
            "missing": report.missing.len(),
            "stale": report.stale.len(),
            "orphaned": report.orphaned.len(),
            "planned": report.planned,
            "skipped": report.skipped,
            "corrections_acknowledged": delivery.done,
        }));
    }
    Ok(serde_json::Value::Array(out))
}

/// A cycle report without per-operation detail (latencies, row issues).
fn cycle_summary(r: &crate::sync::CycleReport) -> serde_json::Value {
    serde_json::json!({
        "pulls": r.pulls.iter().map(|p| serde_json::json!({
            "source": p.source, "pages": p.pages, "created": p.created, "updated": p.updated,
            "unchanged": p.unchanged, "removed": p.removed, "row_issues": p.row_issues.len(),
        })).collect::<Vec<_>>(),
        "planned": r.planned,
        "deliveries": r.deliveries.iter().map(|d| serde_json::json!({
            "platform": d.platform, "calls": d.calls, "acknowledged": d.done, "retried": d.retried,
            "dead_lettered": d.dead, "held": d.held,
        })).collect::<Vec<_>>(),
    })
}
