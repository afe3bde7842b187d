//! The SQLite side of the admin API: bearer tokens (hashed), the access log,
//! and the paged, filtered reads the API serves (vehicles, listings, jobs).
//!
//! Token changes append to the audit trail in the same transaction, so a
//! token can never exist without its audit entry.

use super::{append_audit, db, read_job, read_listing, SqliteStore, JOB_COLS, LISTING_COLS};
use crate::store::audit::AuditEntry;
use crate::store::{Job, ListingRow, StoreError, StoreResult};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// A stored admin token (never the token or its hash).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdminTokenRow {
    /// Public id (part of the token, safe to log).
    pub id: String,
    /// The operator's label.
    pub name: String,
    /// viewer | operator | admin
    pub role: String,
    /// Permissions granted beyond the role (e.g. `enquiries:read`).
    pub grants: Vec<String>,
    /// When it was created.
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
    /// When it was last used.
    pub last_used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// A token to store: its public id, the hash of its secret, and what it may do.
#[derive(Debug, Clone, Copy)]
pub struct NewTokenRow<'a> {
    /// Public id.
    pub id: &'a str,
    /// The operator's label.
    pub name: &'a str,
    /// viewer | operator | admin
    pub role: &'a str,
    /// Permissions beyond the role.
    pub grants: &'a [String],
    /// Hex sha256 of the secret part.
    pub secret_hash: &'a str,
}

/// One admin API request, as logged.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessRecord {
    /// When the request arrived.
    pub at: i64,
    /// Token name, or `anonymous`.
    pub who: String,
    /// The token's public id, when one was accepted.
    pub token_id: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path and query, secret-looking query values replaced.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// ok | unauthenticated | forbidden | client_error | server_error
    pub outcome: String,
    /// Time to answer.
    pub duration_ms: i64,
    /// Peer address.
    pub remote: String,
}

/// Which vehicles to list.
#[derive(Debug, Clone, Default)]
pub struct VehicleFilter {
    /// Only this DMS status (in-stock, sold, ...).
    pub status: Option<String>,
    /// Only this source.
    pub source: Option<String>,
    /// Only vehicles still (true) or no longer (false) in the DMS.
    pub present: Option<bool>,
    /// Stock id prefix.
    pub stock_id_prefix: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

/// A vehicle as the admin API lists it: identity and state, no hub-only data.
#[derive(Debug, Clone, Serialize)]
pub struct VehicleSummary {
    /// Stock id.
    pub stock_id: String,
    /// The source that owns it.
    pub source: String,
    /// DMS status.
    pub status: String,
    /// Still in the DMS.
    pub present: bool,
    /// When this content was first seen.
    pub seen_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Waiting for the planner.
    pub plan_needed: bool,
}

/// Which listings to list.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    /// Platform id.
    pub platform: String,
    /// Only this lifecycle (pending, in-sync, blocked, dead).
    pub lifecycle: Option<String>,
    /// Only this published state (none, live, reserved, removed).
    pub published_state: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this platform.
    pub platform: Option<String>,
    /// Only this state (available, running, completed, dead, discarded, superseded).
    pub state: Option<String>,
    /// Only this vehicle.
    pub stock_id: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

fn read_token(r: &rusqlite::Row) -> rusqlite::Result<AdminTokenRow> {
    Ok(AdminTokenRow {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        created_at: r.get(3)?,
        created_by: r.get(4)?,
        last_used_at: r.get(5)?,
        revoked_at: r.get(6)?,
        grants: r
            .get::<_, String>(7)?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    })
}

const TOKEN_COLS: &str = "id, name, role, created_at, created_by, last_used_at, revoked_at, grants";

impl SqliteStore {
    /// Store a new token (its id and the hash of its secret) and audit it.
    /// Fails if an active token already has this name.
    pub fn create_admin_token(
        &self,
        token: &NewTokenRow,
        actor: &str,
        now: i64,
    ) -> StoreResult<AdminTokenRow> {
        let NewTokenRow {
            id,
            name,
            role,
            grants,
            secret_hash,
        } = *token;
        self.write("create admin token", |tx| {
            let taken: bool = tx
                .query_row(
                    "SELECT COUNT(*) FROM admin_tokens WHERE name = ?1 AND revoked_at IS NULL",
                    params![name],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(db("create admin token"))?
                > 0;
            if taken {
                return Err(StoreError::Conflict {
                    op: "create admin token",
                    message: format!("an active token is already named `{name}`"),
                });
            }
            tx.execute(
                "INSERT INTO admin_tokens (id, name, role, secret_hash, created_at, created_by, grants) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, name, role, secret_hash, now, actor, grants.join(" ")],
            )
            .map_err(db("create admin token"))?;
            append_audit(
                tx,
                &AuditEntry::new("admin", actor)
                    .step("token-create")
                    .detail(serde_json::json!({"token_id": id, "name": name, "role": role, "grants": grants})),
                now,
            )?;
            Ok(AdminTokenRow {
                id: id.into(),
                name: name.into(),
                role: role.into(),
                grants: grants.to_vec(),
                created_at: now,
                created_by: actor.into(),
                last_used_at: None,
                revoked_at: None,
            })
        })
    }

    /// Every token, newest first, revoked ones included.
    pub fn admin_tokens(&self) -> StoreResult<Vec<AdminTokenRow>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {TOKEN_COLS} FROM admin_tokens ORDER BY created_at DESC, id"
                ))
                .map_err(db("admin tokens"))?;
            let rows = stmt.query_map([], read_token).map_err(db("admin tokens"))?;
            rows.collect::<Result<_, _>>().map_err(db("admin tokens"))
        })
    }

    /// An active token by id, with the hash of its secret.
    pub fn active_admin_token(&self, id: &str) -> StoreResult<Option<(AdminTokenRow, String)>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {TOKEN_COLS}, secret_hash FROM admin_tokens WHERE id = ?1 AND revoked_at IS NULL"),
                params![id],
                |r| Ok((read_token(r)?, r.get::<_, String>(8)?)),
            )
            .optional()
            .map_err(db("admin token"))
        })
    }

    /// Revoke an active token by id or name, and audit it. `None` if there is none.
    pub fn revoke_admin_token(
        &self,
        id_or_name: &str,
        actor: &str,
        now: i64,
    ) -> StoreResult<Option<AdminTokenRow>> {
        self.write("revoke admin token", |tx| {
            let token = tx
                .query_row(
                    &format!("SELECT {TOKEN_COLS} FROM admin_tokens WHERE (id = ?1 OR name = ?1) AND revoked_at IS NULL"),
                    params![id_or_name],
                    read_token,
                )
                .optional()
                .map_err(db("revoke admin token"))?;
            let Some(mut token) = token else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE admin_tokens SET revoked_at = ?2 WHERE id = ?1",
                params![token.id, now],
            )
            .map_err(db("revoke admin token"))?;
            append_audit(
                tx,
                &AuditEntry::new("admin", actor)
                    .step("token-revoke")
                    .detail(serde_json::json!({"token_id": token.id, "name": token.name, "role": token.role})),
                now,
            )?;
            token.revoked_at = Some(now);
            Ok(Some(token))
        })
    }

    /// Note that a token was used (at most once a minute per token is written).
    pub fn touch_admin_token(&self, id: &str, now: i64) -> StoreResult<()> {
        self.write("touch admin token", |tx| {
            tx.execute(
                "UPDATE admin_tokens SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2 - 60000)",
                params![id, now],
            )
            .map_err(db("touch admin token"))
            .map(drop)
        })
    }

    /// Append one request to the access log.
    pub fn log_access(&self, r: &AccessRecord) -> StoreResult<()> {
        self.write("access log", |tx| {
            tx.execute(
                "INSERT INTO admin_access_log (at, who, token_id, method, path, status, outcome, duration_ms, remote)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![r.at, r.who, r.token_id, r.method, r.path, r.status, r.outcome, r.duration_ms, r.remote],
            )
            .map_err(db("access log"))
            .map(drop)
        })
    }

    /// The newest access-log rows, newest first; only failures if asked.
    pub fn access_log(&self, limit: usize, failures_only: bool) -> StoreResult<Vec<AccessRecord>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT at, who, token_id, method, path, status, outcome, duration_ms, remote FROM admin_access_log
                     WHERE (?2 = 0 OR outcome != 'ok') ORDER BY id DESC LIMIT ?1",
                )
                .map_err(db("access log"))?;
            let rows = stmt
                .query_map(params![limit as i64, failures_only], |r| {
                    Ok(AccessRecord {
                        at: r.get(0)?,
                        who: r.get(1)?,
                        token_id: r.get(2)?,
                        method: r.get(3)?,
                        path: r.get(4)?,
                        status: r.get::<_, i64>(5)? as u16,
                        outcome: r.get(6)?,
                        duration_ms: r.get(7)?,
                        remote: r.get(8)?,
                    })
                })
                .map_err(db("access log"))?;
            rows.collect::<Result<_, _>>().map_err(db("access log"))
        })
    }

    /// Requests refused for a missing, unknown or revoked token since `since_ms`
    /// (for the failed-login alert).
    pub fn failed_logins_since(&self, since_ms: i64) -> StoreResult<i64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM admin_access_log WHERE outcome = 'unauthenticated' AND at >= ?1",
                params![since_ms],
                |r| r.get(0),
            )
            .map_err(db("failed logins"))
        })
    }

    /// Delete access-log rows older than `before_ms`; returns how many.
    pub fn prune_access_log(&self, before_ms: i64) -> StoreResult<usize> {
        self.write("prune access log", |tx| {
            tx.execute(
                "DELETE FROM admin_access_log WHERE at < ?1",
                params![before_ms],
            )
            .map_err(db("prune access log"))
        })
    }

    /// A page of vehicles and the total matching the filter.
    pub fn vehicles_page(&self, f: &VehicleFilter) -> StoreResult<(Vec<VehicleSummary>, i64)> {
        const WHERE: &str = "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR source = ?2)
             AND (?3 IS NULL OR present = ?3) AND (?4 IS NULL OR stock_id >= ?4 AND stock_id < ?4 || char(1114111))";
        self.with(|c| {
            let args = params![f.status, f.source, f.present, f.stock_id_prefix];
            let total: i64 = c
                .query_row(&format!("SELECT COUNT(*) FROM vehicles {WHERE}"), args, |r| r.get(0))
                .map_err(db("vehicles page"))?;
            let mut stmt = c
                .prepare(&format!(
                    "SELECT stock_id, source, status, present, seen_at, updated_at, plan_needed FROM vehicles {WHERE}
                     ORDER BY stock_id LIMIT ?5 OFFSET ?6"
                ))
                .map_err(db("vehicles page"))?;
            let rows = stmt
                .query_map(
                    params![f.status, f.source, f.present, f.stock_id_prefix, f.limit as i64, f.offset as i64],
                    |r| {
                        Ok(VehicleSummary {
                            stock_id: r.get(0)?,
                            source: r.get(1)?,
                            status: r.get(2)?,
                            present: r.get::<_, i64>(3)? != 0,
                            seen_at: r.get(4)?,
                            updated_at: r.get(5)?,
                            plan_needed: r.get::<_, i64>(6)? != 0,
                        })
                    },
                )
                .map_err(db("vehicles page"))?;
            Ok((rows.collect::<Result<_, _>>().map_err(db("vehicles page"))?, total))
        })
    }

    /// Every platform's listing of one vehicle.
    pub fn vehicle_listings(&self, stock_id: &str) -> StoreResult<Vec<ListingRow>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {LISTING_COLS} FROM listings WHERE stock_id = ?1 ORDER BY platform"
                ))
                .map_err(db("vehicle listings"))?;
            let rows = stmt
                .query_map(params![stock_id], read_listing)
                .map_err(db("vehicle listings"))?;
            rows.collect::<Result<_, _>>()
                .map_err(db("vehicle listings"))
        })
    }

    /// A page of one platform's listings and the total matching the filter.
    pub fn listings_page(&self, f: &ListingFilter) -> StoreResult<(Vec<ListingRow>, i64)> {
        const WHERE: &str =
            "WHERE platform = ?1 AND (?2 IS NULL OR lifecycle = ?2) AND (?3 IS NULL OR published_state = ?3)";
        self.with(|c| {
            let total: i64 = c
                .query_row(
                    &format!("SELECT COUNT(*) FROM listings {WHERE}"),
                    params![f.platform, f.lifecycle, f.published_state],
                    |r| r.get(0),
                )
                .map_err(db("listings page"))?;
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {LISTING_COLS} FROM listings {WHERE} ORDER BY stock_id LIMIT ?4 OFFSET ?5"
                ))
                .map_err(db("listings page"))?;
            let rows = stmt
                .query_map(
                    params![f.platform, f.lifecycle, f.published_state, f.limit as i64, f.offset as i64],
                    read_listing,
                )
                .map_err(db("listings page"))?;
            Ok((rows.collect::<Result<_, _>>().map_err(db("listings page"))?, total))
        })
    }

    /// A page of jobs, newest first, and the total matching the filter.
    pub fn jobs_page(&self, f: &JobFilter) -> StoreResult<(Vec<Job>, i64)> {
        const WHERE: &str =
            "WHERE (?1 IS NULL OR platform = ?1) AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR stock_id = ?3)";
        self.with(|c| {
            let total: i64 = c
                .query_row(
                    &format!("SELECT COUNT(*) FROM jobs {WHERE}"),
                    params![f.platform, f.state, f.stock_id],
                    |r| r.get(0),
                )
                .map_err(db("jobs page"))?;
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {JOB_COLS} FROM jobs {WHERE} ORDER BY id DESC LIMIT ?4 OFFSET ?5"
                ))
                .map_err(db("jobs page"))?;
            let rows = stmt
                .query_map(
                    params![
                        f.platform,
                        f.state,
                        f.stock_id,
                        f.limit as i64,
                        f.offset as i64
                    ],
                    read_job,
                )
                .map_err(db("jobs page"))?;
            Ok((
                rows.collect::<Result<_, _>>().map_err(db("jobs page"))?,
                total,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn record(at: i64, outcome: &str) -> AccessRecord {
        AccessRecord {
            at,
            who: "anonymous".into(),
            token_id: None,
            method: "GET".into(),
            path: "/api/status".into(),
            status: if outcome == "ok" { 200 } else { 401 },
            outcome: outcome.into(),
            duration_ms: 1,
            remote: "127.0.0.1:5000".into(),
        }
    }

    #[test]
    fn tokens_are_unique_by_active_name_and_revocation_is_audited() {
        let s = SqliteStore::in_memory().unwrap();
        s.create_admin_token(
            &NewTokenRow {
                id: "aa",
                name: "ops",
                role: "operator",
                grants: &[],
                secret_hash: "h1",
            },
            "operator:cli",
            1,
        )
        .unwrap();
        let err = s
            .create_admin_token(
                &NewTokenRow {
                    id: "bb",
                    name: "ops",
                    role: "viewer",
                    grants: &[],
                    secret_hash: "h2",
                },
                "operator:cli",
                2,
            )
            .unwrap_err();
        assert!(err.to_string().contains("already named `ops`"), "{err}");
        assert!(s.active_admin_token("aa").unwrap().is_some());
        let revoked = s.revoke_admin_token("ops", "operator:cli", 3).unwrap();
        assert_eq!(revoked.unwrap().revoked_at, Some(3));
        assert!(s.active_admin_token("aa").unwrap().is_none());
        // The name is free again once the old token is revoked.
        s.create_admin_token(
            &NewTokenRow {
                id: "cc",
                name: "ops",
                role: "viewer",
                grants: &[],
                secret_hash: "h3",
            },
            "operator:cli",
            4,
        )
        .unwrap();
        let steps: Vec<_> = s
            .audit_tail(10)
            .unwrap()
            .into_iter()
            .map(|a| a.entry.step.unwrap())
            .collect();
        assert_eq!(steps, ["token-create", "token-revoke", "token-create"]);
        assert!(matches!(
            s.audit_verify().unwrap(),
            crate::store::audit::Verification::Intact { entries: 3 }
        ));
    }

    #[test]
    fn failed_logins_count_only_unauthenticated_requests_in_the_window() {
        let s = SqliteStore::in_memory().unwrap();
        for (at, outcome) in [
            (10, "unauthenticated"),
            (20, "ok"),
            (30, "forbidden"),
            (40, "unauthenticated"),
        ] {
            s.log_access(&record(at, outcome)).unwrap();
        }
        assert_eq!(s.failed_logins_since(0).unwrap(), 2);
        assert_eq!(s.failed_logins_since(11).unwrap(), 1);
        assert_eq!(s.access_log(10, true).unwrap().len(), 3);
        assert_eq!(s.prune_access_log(25).unwrap(), 2);
        assert_eq!(s.access_log(10, false).unwrap().len(), 2);
    }
}
