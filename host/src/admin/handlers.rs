//! The handlers: one function per route, each reading or changing the store
//! or the engine and answering JSON. Authentication and roles are checked
//! before a handler runs; changes are audited with the caller as actor.

use super::auth::{self, Caller, Role};
use super::errors::ApiError;
use super::routes::Op;
use super::runs::{InProgress, Kind};
use super::{AdminState, Reply};
use crate::config::RawConfig;
use crate::store::audit::{AuditEntry, Verification};
use crate::store::{now_ms, JobFilter, ListingFilter, Store, VehicleFilter};
use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A routed request.
pub(crate) struct Request {
    /// Path parameters in template order.
    pub params: Vec<String>,
    /// Decoded query parameters.
    pub query: HashMap<String, String>,
    /// The body.
    pub body: Bytes,
    /// The authenticated caller, if the route needed one.
    pub caller: Option<Caller>,
}

impl Request {
    fn caller(&self) -> Result<&Caller, ApiError> {
        // Routes that change anything require a role, so a caller is always there.
        self.caller
            .as_ref()
            .ok_or_else(|| ApiError::unauthenticated("this endpoint needs a token"))
    }

    fn text(&self, name: &str) -> Option<String> {
        self.query.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn number(&self, name: &str, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.query.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::bad_request(format!(
                    "query parameter `{name}` is `{v}`; use a whole number from 1 to {max}"
                ))),
            },
        }
    }

    /// `(limit, offset, page, per_page)` from `page` and `per_page`.
    fn paging(&self) -> Result<(usize, usize, usize, usize), ApiError> {
        let per_page = self.number("per_page", 50, 500)?;
        let page = self.number("page", 1, 1_000_000)?;
        Ok((per_page, (page - 1) * per_page, page, per_page))
    }

    fn json_body(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))
    }

    fn id(&self) -> Result<i64, ApiError> {
        self.params[0]
            .parse()
            .map_err(|_| ApiError::bad_request(format!("`{}` is not a numeric id", self.params[0])))
    }
}

fn one_of(name: &str, value: Option<String>, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::bad_request(format!(
            "query parameter `{name}` is `{v}`; use one of {}",
            allowed.join(", ")
        ))),
        other => Ok(other),
    }
}

fn page(items: impl serde::Serialize, page: usize, per_page: usize, total: i64) -> Reply {
    Reply::ok(json!({"items": items, "page": page, "per_page": per_page, "total": total}))
}

/// Answer one routed request.
pub(crate) async fn dispatch(state: &AdminState, op: Op, r: Request) -> Result<Reply, ApiError> {
    match op {
        Op::Dashboard => Ok(super::dashboard::page()),
        Op::DashboardScript => Ok(super::dashboard::script()),
        Op::DashboardStyle => Ok(super::dashboard::style()),
        Op::Health => Ok(Reply::ok(json!({"status": "ok"}))),
        Op::OpenApi => Ok(Reply::Raw {
            content_type: "application/json",
            body: Bytes::from_static(super::openapi::DOCUMENT.as_bytes()),
            html: false,
        }),
        Op::Metrics => {
            let text = crate::metrics::render(&state.engine, &state.store, &state.completeness)?;
            Ok(Reply::Raw {
                content_type: crate::metrics::text::CONTENT_TYPE,
                body: Bytes::from(text),
                html: false,
            })
        }
        Op::Me => {
            let c = r.caller()?;
            Ok(Reply::ok(
                json!({"name": c.name, "role": c.role, "token_id": c.token_id, "grants": c.grants}),
            ))
        }
        Op::Status => status(state),
        Op::Platforms => platforms(state),
        Op::Vehicles => {
            let (limit, offset, p, per_page) = r.paging()?;
            let present = match r.text("present").as_deref() {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(other) => {
                    return Err(ApiError::bad_request(format!(
                        "query parameter `present` is `{other}`; use true or false"
                    )))
                }
            };
            let filter = VehicleFilter {
                status: one_of(
                    "status",
                    r.text("status"),
                    &["due-in", "in-stock", "reserved", "sold", "withdrawn"],
                )?,
                source: r.text("source"),
                present,
                stock_id_prefix: r.text("q"),
                limit,
                offset,
            };
            let (items, total) = state.store.vehicles_page(&filter)?;
            Ok(page(items, p, per_page, total))
        }
        Op::Vehicle => vehicle(state, &r.params[0]),
        Op::Listings => {
            let platform = known_platform(state, &r.params[0])?;
            let (limit, offset, p, per_page) = r.paging()?;
            let filter = ListingFilter {
                platform,
                lifecycle: one_of(
                    "lifecycle",
                    r.text("lifecycle"),
                    &["pending", "in-sync", "blocked", "dead"],
                )?,
                published_state: one_of(
                    "state",
                    r.text("state"),
                    &["none", "live", "reserved", "removed"],
                )?,
                limit,
                offset,
            };
            let (rows, total) = state.store.listings_page(&filter)?;
            let items: Vec<Value> = rows.iter().map(listing_json).collect();
            Ok(page(items, p, per_page, total))
        }
        Op::ResumePlatform => {
            let platform = known_platform(state, &r.params[0])?;
            let caller = r.caller()?;
            let Some(reason) = state.store.paused(&platform)? else {
                return Err(ApiError::conflict(
                    "not_paused",
                    format!("platform `{platform}` is not paused"),
                ));
            };
            let now = now_ms();
            state.store.set_paused(&platform, None, now)?;
            state.store.audit(
                &AuditEntry::new("operator", &caller.actor())
                    .platform(&platform)
                    .step("resume-platform"),
                now,
            )?;
            Ok(Reply::ok(
                json!({"platform": platform, "paused": false, "was_paused_because": reason}),
            ))
        }
        Op::Jobs => {
            let (limit, offset, p, per_page) = r.paging()?;
            let filter = JobFilter {
                platform: r.text("platform"),
                state: one_of(
                    "state",
                    r.text("state"),
                    &[
                        "available",
                        "running",
                        "completed",
                        "dead",
                        "discarded",
                        "superseded",
                    ],
                )?,
                stock_id: r.text("stock_id"),
                limit,
                offset,
            };
            let (items, total) = state.store.jobs_page(&filter)?;
            Ok(page(items, p, per_page, total))
        }
        Op::DeadLetters => {
            let items = state.store.dead_letters(r.text("platform").as_deref())?;
            Ok(Reply::ok(json!({"items": items, "total": items.len()})))
        }
        Op::RetryDeadLetter | Op::DiscardDeadLetter => {
            let id = r.id()?;
            let actor = r.caller()?.actor();
            let retry = op == Op::RetryDeadLetter;
            let done = if retry {
                state.store.retry_dead(id, &actor, now_ms())?
            } else {
                state.store.discard_dead(id, &actor, now_ms())?
            };
            if !done {
                return Err(ApiError::not_found(format!("no dead letter with id {id}")));
            }
            Ok(Reply::ok(json!({
                "id": id,
                "state": if retry { "available" } else { "discarded" },
            })))
        }
        Op::Discrepancies => {
            let items = state.store.discrepancies()?;
            Ok(Reply::ok(json!({"items": items, "total": items.len()})))
        }
        Op::Completeness => {
            let platforms = platform_ids(state);
            Ok(Reply::ok(
                serde_json::to_value(state.completeness.report(&state.store, &platforms)?)
                    .unwrap_or_default(),
            ))
        }
        Op::AuditTail => {
            let limit = r.number("limit", 50, 1000)?;
            let items = state.store.audit_tail(limit)?;
            Ok(Reply::ok(json!({"items": items})))
        }
        Op::AuditVerify => Ok(Reply::ok(match state.store.audit_verify()? {
            Verification::Intact { entries } => json!({"intact": true, "entries": entries}),
            Verification::Broken { seq, reason } => {
                json!({"intact": false, "broken_at": seq, "reason": reason})
            }
        })),
        Op::Plugins => Ok(Reply::ok(plugins(state))),
        Op::Config => Ok(Reply::ok(state.config.clone())),
        Op::TriggerSync | Op::TriggerReconcile => {
            let caller = r.caller()?;
            let (kind, platform) = if op == Op::TriggerSync {
                (Kind::Sync, None)
            } else {
                let body = r.json_body()?;
                let platform = r.text("platform").or_else(|| {
                    body.get("platform")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
                let platform = platform.map(|p| known_platform(state, &p)).transpose()?;
                (Kind::Reconcile, platform)
            };
            match state.runs.start(&state.engine, kind, platform, caller)? {
                Ok(run) => Ok(Reply::Json(StatusCode::ACCEPTED, json!({"run": run}))),
                Err(InProgress(id)) => Err(ApiError::conflict(
                    "run_in_progress",
                    format!("run {id} of the same kind is still running; see /api/runs/{id}"),
                )),
            }
        }
        Op::Runs => Ok(Reply::ok(json!({"items": state.runs.list()}))),
        Op::Run => {
            let id = r.id()?;
            state
                .runs
                .get(id as u64)
                .map(|run| Reply::ok(json!({"run": run})))
                .ok_or_else(|| ApiError::not_found(format!("no run with id {id}")))
        }
        Op::Tokens => Ok(Reply::ok(json!({"items": state.store.admin_tokens()?}))),
        Op::CreateToken => {
            let caller = r.caller()?;
            let body = r.json_body()?;
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request("the body needs `name` (a string)"))?;
            let role = body.get("role").and_then(Value::as_str).ok_or_else(|| {
                ApiError::bad_request("the body needs `role`: viewer, operator or admin")
            })?;
            let role = Role::parse(role).ok_or_else(|| {
                ApiError::bad_request(format!("role `{role}`: use viewer, operator or admin"))
            })?;
            let grants = match body.get("grants") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|g| g.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| ApiError::bad_request("`grants` must be a list of strings"))?,
                Some(_) => return Err(ApiError::bad_request("`grants` must be a list of strings")),
            };
            match auth::create(&state.store, name, role, &grants, &caller.actor(), now_ms()) {
                Ok((row, token)) => Ok(Reply::Json(
                    StatusCode::CREATED,
                    json!({"token": token, "id": row.id, "name": row.name, "role": row.role, "grants": row.grants, "created_at": row.created_at}),
                )),
                Err(auth::TokenError::BadName(_)) => Err(ApiError::bad_request(
                    "token names are 1 to 64 letters, digits, dots, dashes and underscores",
                )),
                Err(e @ auth::TokenError::UnknownGrant(_)) => {
                    Err(ApiError::bad_request(e.to_string()))
                }
                Err(auth::TokenError::Store(e)) => Err(e.into()),
            }
        }
        Op::RevokeToken => {
            let caller = r.caller()?;
            match state
                .store
                .revoke_admin_token(&r.params[0], &caller.actor(), now_ms())?
            {
                Some(row) => Ok(Reply::ok(json!({"token": row}))),
                None => Err(ApiError::not_found(format!(
                    "no active token `{}`",
                    r.params[0]
                ))),
            }
        }
        Op::AccessLog => {
            let limit = r.number("limit", 100, 1000)?;
            let failures = matches!(r.text("failures").as_deref(), Some("true"));
            Ok(Reply::ok(
                json!({"items": state.store.access_log(limit, failures)?}),
            ))
        }
        Op::Enquiries => enquiries(state, &r),
        Op::Report => {
            let days = r.number("days", 30, 3650)?;
            let period = crate::report::Period::last_days(days as u32, now_ms());
            let report = crate::report::channel_report(state.store.as_ref(), period)?;
            Ok(Reply::ok(serde_json::to_value(report).map_err(|e| {
                ApiError::internal(&format!("the report did not serialise: {e}"))
            })?))
        }
    }
}

/// `GET /api/enquiries`: buyers' enquiries with their CRM deliveries. The
/// router has checked the `enquiries:read` grant; the access log records
/// who read them (never what).
fn enquiries(state: &AdminState, r: &Request) -> Result<Reply, ApiError> {
    use crate::enquiries::{EnquiryQuery, EnquiryStore};
    let since_ms = match r.text("since_days") {
        None => None,
        Some(_) => Some(now_ms() - r.number("since_days", 30, 3650)? as i64 * 86_400_000),
    };
    let store = state.store.as_ref();
    let items = store
        .enquiries(&EnquiryQuery {
            platform: r.text("platform"),
            stock_id: r.text("stock_id"),
            since_ms,
            limit: Some(r.number("limit", 100, 1000)?),
        })?
        .into_iter()
        .map(|e| {
            let deliveries = store.deliveries_of(e.id)?;
            let mut v = serde_json::to_value(&e).unwrap_or(Value::Null);
            v["deliveries"] = serde_json::to_value(deliveries).unwrap_or(Value::Null);
            Ok(v)
        })
        .collect::<Result<Vec<_>, crate::store::StoreError>>()?;
    Ok(Reply::ok(json!({ "items": items })))
}

fn platform_ids(state: &AdminState) -> Vec<String> {
    state
        .engine
        .platforms()
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

fn known_platform(state: &AdminState, id: &str) -> Result<String, ApiError> {
    if state.engine.platforms().iter().any(|p| p.id == id) {
        Ok(id.to_string())
    } else {
        Err(ApiError::not_found(format!(
            "no platform `{id}`; configured: {}",
            platform_ids(state).join(", ")
        )))
    }
}

fn health(c: &crate::store::PlatformCounts) -> &'static str {
    match (&c.paused, c.dead) {
        (Some(_), _) => "paused",
        (None, 0) if c.queued == 0 => "ok",
        (None, 0) => "catching_up",
        (None, _) => "dead_letters",
    }
}

fn status(state: &AdminState) -> Result<Reply, ApiError> {
    let counts = state.store.platform_counts(&platform_ids(state))?;
    let mut sources = Vec::new();
    for s in state.engine.sources() {
        let last = state.store.last_success(&s.id)?;
        sources.push(json!({
            "source": s.id,
            "last_success_ms": last,
            "minutes_since": last.map(|t| (now_ms() - t) / 60_000),
            "interval_secs": s.interval.as_secs(),
        }));
    }
    let discrepancies = state.store.discrepancies()?;
    Ok(Reply::ok(json!({
        "platforms": counts.iter().map(|c| json!({
            "platform": c.platform, "health": health(c), "published": c.published, "pending": c.pending,
            "blocked": c.blocked, "queued": c.queued, "dead": c.dead, "paused": c.paused,
        })).collect::<Vec<_>>(),
        "sources": sources,
        "queue_depth": state.store.queue_depth(None)?,
        "dead_letters": counts.iter().map(|c| c.dead).sum::<i64>(),
        "discrepancies": discrepancies.len(),
        "stopping": state.engine.is_stopping(),
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

fn platforms(state: &AdminState) -> Result<Reply, ApiError> {
    let counts = state.store.platform_counts(&platform_ids(state))?;
    let items: Vec<Value> = state
        .engine
        .platforms()
        .iter()
        .zip(&counts)
        .map(|(p, c)| {
            json!({
                "platform": p.id,
                "plugin": p.plugin.id(),
                "kind": if matches!(p.info.kind, crate::runtime::platform_api::PlatformKind::FeedFile) { "feed" } else { "api" },
                "name": p.info.name,
                "health": health(c),
                "published": c.published, "pending": c.pending, "blocked": c.blocked,
                "queued": c.queued, "dead": c.dead, "paused": c.paused,
            })
        })
        .collect();
    Ok(Reply::ok(json!({"items": items})))
}

fn listing_json(l: &crate::store::ListingRow) -> Value {
    json!({
        "stock_id": l.stock_id, "platform": l.platform, "desired_state": l.desired_state,
        "published_state": l.published_state, "lifecycle": l.lifecycle, "remote_id": l.remote_id,
        "issues": l.issues.as_deref().and_then(|i| serde_json::from_str::<Value>(i).ok()),
        "last_error": l.last_error, "error_class": l.error_class, "attempts": l.attempts,
        "generation": l.generation, "updated_at": l.updated_at,
        "in_sync": l.desired_hash == l.published_hash,
    })
}

fn vehicle(state: &AdminState, stock_id: &str) -> Result<Reply, ApiError> {
    let Some(v) = state.store.vehicle(stock_id)? else {
        return Err(ApiError::not_found(format!("no vehicle `{stock_id}`")));
    };
    let mut record = v.record.clone();
    // Hub-only data (internal notes, previous keeper, cost price) never leaves the hub.
    let had_hub_only = record.hub_only.take().is_some();
    let listings: Vec<Value> = state
        .store
        .vehicle_listings(stock_id)?
        .iter()
        .map(listing_json)
        .collect();
    Ok(Reply::ok(json!({
        "stock_id": v.record.stock_id,
        "source": v.source,
        "present": v.present,
        "content_hash": v.content_hash,
        "seen_at": v.seen_at,
        "record": serde_json::to_value(&record).unwrap_or_default(),
        "hub_only_withheld": had_hub_only,
        "listings": listings,
    })))
}

fn plugins(state: &AdminState) -> Value {
    let describe = |id: &str, role: &str, plugin: &crate::runtime::Plugin| {
        use std::sync::atomic::Ordering::Relaxed;
        let m = plugin.manifest();
        json!({
            "id": id,
            "role": role,
            "plugin": plugin.id(),
            "version": m.plugin.version,
            "description": m.plugin.description,
            "world": plugin.world().to_string(),
            "contract": plugin.contract_version(),
            "sha256": m.plugin.sha256,
            "limits": m.limits,
            // Origins and how credentials are injected: secret names only, never values.
            "http": m.http,
            "operator_grants": {
                "plain_http_hosts": plugin.grants().plain_http_hosts,
                "private_network_hosts": plugin.grants().private_network_hosts,
            },
            "imports": plugin.imports().iter().map(|(name, verdict)| json!({"import": name, "verdict": format!("{verdict:?}")})).collect::<Vec<_>>(),
            "calls": plugin.stats().calls.load(Relaxed),
            "failures": plugin.stats().failures.load(Relaxed),
            "egress_requests": plugin.egress_stats().sent.load(Relaxed),
            "egress_denied": plugin.egress_stats().denied.load(Relaxed),
        })
    };
    let mut items: Vec<Value> = state
        .engine
        .sources()
        .iter()
        .map(|s| describe(&s.id, "source", &s.plugin))
        .collect();
    items.extend(
        state
            .engine
            .platforms()
            .iter()
            .map(|p| describe(&p.id, "platform", &p.plugin)),
    );
    json!({"items": items})
}

/// The configuration as `GET /api/config` shows it: ids, plugins, schedules,
/// retry and delivery settings, the admin listener. Secrets live outside the
/// file and are never part of it.
pub fn config_view(config: &RawConfig, file: &std::path::Path) -> Value {
    json!({
        "file": file.display().to_string(),
        "data_dir": config.data_dir.display().to_string(),
        "plugins_dir": config.plugins_dir.display().to_string(),
        "secrets_file": config.secrets_file.as_ref().map(|p| p.display().to_string()),
        "sources": config.sources.iter().map(|s| json!({
            "id": s.id.get_ref(),
            "plugin": s.plugin.get_ref(),
            "interval_secs": s.interval_secs.get_ref(),
            "document": s.document.as_ref().map(|d| d.get_ref().kind()),
            "snapshot_grace_secs": s.snapshot_grace_secs,
            "max_snapshot_shrink": s.max_snapshot_shrink.get_ref(),
            "config": s.config,
        })).collect::<Vec<_>>(),
        "platforms": config.platforms.iter().map(|p| json!({
            "id": p.id.get_ref(),
            "plugin": p.plugin.get_ref(),
            "concurrency": p.concurrency.get_ref(),
            "rate_limit_per_minute": p.rate_limit_per_minute.as_ref().map(|r| *r.get_ref()),
            "deadvertise_delay_secs": p.deadvertise_delay_secs,
            "update_window_secs": p.update_window_secs,
            "retry": {"max_attempts": p.retry.max_attempts, "base_ms": p.retry.base_ms, "cap_ms": p.retry.cap_ms},
            "feed_directory": p.feed.as_ref().and_then(|f| f.directory.as_ref()).map(|d| d.display().to_string()),
            "config": p.config,
        })).collect::<Vec<_>>(),
        "admin": config.admin.as_ref().map(|a| json!({
            "listen": a.listen.get_ref(),
            "metrics_require_token": a.metrics_require_token,
            "access_log_retention_days": a.access_log_retention_days.get_ref(),
        })),
    })
}
