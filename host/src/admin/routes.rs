//! The route table: every path the admin server answers, the role it needs
//! and the handler. The OpenAPI document (`openapi.json`) describes exactly
//! these routes; a test holds the two together.

use super::auth::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the dashboard's files, the API description, liveness).
    Public,
    /// `/metrics`: anyone, or a viewer token when `[admin] metrics_require_token`.
    Metrics,
    /// A token with at least this role.
    Role(Role),
    /// A token with at least this role and this grant (see `auth::GRANTS`):
    /// routes that return buyers' personal data.
    Granted(Role, &'static str),
}

/// The handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    Dashboard,
    DashboardScript,
    DashboardStyle,
    Health,
    Metrics,
    OpenApi,
    Me,
    Status,
    Vehicles,
    Vehicle,
    Platforms,
    Listings,
    ResumePlatform,
    Jobs,
    DeadLetters,
    RetryDeadLetter,
    DiscardDeadLetter,
    Discrepancies,
    Completeness,
    AuditTail,
    AuditVerify,
    Plugins,
    Config,
    TriggerSync,
    TriggerReconcile,
    Runs,
    Run,
    Tokens,
    CreateToken,
    RevokeToken,
    AccessLog,
    Enquiries,
    Report,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path template; `{name}` matches one segment.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The handler.
    pub op: Op,
}

const fn route(method: &'static str, path: &'static str, access: Access, op: Op) -> Route {
    Route {
        method,
        path,
        access,
        op,
    }
}

use Access::{Metrics, Public};
const VIEWER: Access = Access::Role(Role::Viewer);
const OPERATOR: Access = Access::Role(Role::Operator);
const ADMIN: Access = Access::Role(Role::Admin);
const ENQUIRY_READER: Access = Access::Granted(Role::Viewer, crate::enquiries::READ_PERMISSION);

/// Every route.
pub const ROUTES: &[Route] = &[
    route("GET", "/", Public, Op::Dashboard),
    route("GET", "/dashboard.js", Public, Op::DashboardScript),
    route("GET", "/dashboard.css", Public, Op::DashboardStyle),
    route("GET", "/healthz", Public, Op::Health),
    route("GET", "/metrics", Metrics, Op::Metrics),
    route("GET", "/api/openapi.json", Public, Op::OpenApi),
    route("GET", "/api/me", VIEWER, Op::Me),
    route("GET", "/api/status", VIEWER, Op::Status),
    route("GET", "/api/vehicles", VIEWER, Op::Vehicles),
    route("GET", "/api/vehicles/{stock_id}", VIEWER, Op::Vehicle),
    route("GET", "/api/platforms", VIEWER, Op::Platforms),
    route(
        "GET",
        "/api/platforms/{platform}/listings",
        VIEWER,
        Op::Listings,
    ),
    route(
        "POST",
        "/api/platforms/{platform}/resume",
        OPERATOR,
        Op::ResumePlatform,
    ),
    route("GET", "/api/jobs", VIEWER, Op::Jobs),
    route("GET", "/api/dead-letters", VIEWER, Op::DeadLetters),
    route(
        "POST",
        "/api/dead-letters/{id}/retry",
        OPERATOR,
        Op::RetryDeadLetter,
    ),
    route(
        "POST",
        "/api/dead-letters/{id}/discard",
        OPERATOR,
        Op::DiscardDeadLetter,
    ),
    route("GET", "/api/discrepancies", VIEWER, Op::Discrepancies),
    route("GET", "/api/completeness", VIEWER, Op::Completeness),
    route("GET", "/api/audit", VIEWER, Op::AuditTail),
    route("GET", "/api/audit/verify", VIEWER, Op::AuditVerify),
    route("GET", "/api/plugins", ADMIN, Op::Plugins),
    route("GET", "/api/config", ADMIN, Op::Config),
    route("POST", "/api/sync", OPERATOR, Op::TriggerSync),
    route("POST", "/api/reconcile", OPERATOR, Op::TriggerReconcile),
    route("GET", "/api/runs", VIEWER, Op::Runs),
    route("GET", "/api/runs/{id}", VIEWER, Op::Run),
    route("GET", "/api/tokens", ADMIN, Op::Tokens),
    route("POST", "/api/tokens", ADMIN, Op::CreateToken),
    route("DELETE", "/api/tokens/{id}", ADMIN, Op::RevokeToken),
    route("GET", "/api/access-log", ADMIN, Op::AccessLog),
    route("GET", "/api/enquiries", ENQUIRY_READER, Op::Enquiries),
    route("GET", "/api/report", VIEWER, Op::Report),
];

/// What routing found.
#[derive(Debug)]
pub enum Found {
    /// A route and its path parameters in template order.
    Route(&'static Route, Vec<String>),
    /// The path exists with other methods.
    MethodNotAllowed(Vec<&'static str>),
    /// No such path.
    NotFound,
}

fn decode(segment: &str) -> Option<String> {
    // Percent-decoding via form_urlencoded would turn `+` into a space; path
    // segments keep `+`, so decode %XX by hand.
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn matches(template: &str, path: &str) -> Option<Vec<String>> {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = Vec::new();
    for (t, p) in t.iter().zip(&p) {
        if t.starts_with('{') && t.ends_with('}') {
            if p.is_empty() {
                return None;
            }
            params.push(decode(p)?);
        } else if t != p {
            return None;
        }
    }
    Some(params)
}

/// Route a request.
pub fn find(method: &str, path: &str) -> Found {
    let mut allowed = Vec::new();
    for route in ROUTES {
        if let Some(params) = matches(route.path, path) {
            // HEAD is answered like GET, without the body (hyper drops it).
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return Found::Route(route, params);
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() {
        Found::NotFound
    } else {
        Found::MethodNotAllowed(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_with_parameters_and_methods() {
        match find("POST", "/api/dead-letters/42/retry") {
            Found::Route(r, params) => {
                assert_eq!(r.op, Op::RetryDeadLetter);
                assert_eq!(params, ["42"]);
            }
            other => panic!("{other:?}"),
        }
        match find("GET", "/api/vehicles/AB%2012") {
            Found::Route(r, params) => {
                assert_eq!(r.op, Op::Vehicle);
                assert_eq!(params, ["AB 12"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(find("GET", "/api/dead-letters/42/retry"), Found::MethodNotAllowed(m) if m == ["POST"])
        );
        assert!(matches!(find("GET", "/api/nothing"), Found::NotFound));
        assert!(matches!(find("GET", "/api/vehicles/"), Found::NotFound));
    }

    #[test]
    fn every_route_is_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} twice",
                r.method,
                r.path
            );
        }
    }
}
