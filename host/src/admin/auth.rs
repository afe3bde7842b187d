//! Bearer tokens and roles.
//!
//! A token is `fct_<id>_<secret>`: `id` is 12 hex digits, public, and names
//! the stored row; `secret` is 256 random bits, base64url. Only the sha256
//! of the secret is stored, and it is compared in constant time. The token
//! is shown once, when it is created.

use crate::store::{AdminTokenRow, SqliteStore, StoreResult};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a token may do. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything the API shows.
    Viewer,
    /// Also retry and discard dead letters, trigger syncs and reconciliations.
    Operator,
    /// Also see configuration and plugins, and manage tokens.
    Admin,
}

impl Role {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Parse a stored or requested name.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Permissions a token can be granted beyond its role. A role never implies
/// one: access to buyers' personal data is given to named tokens only.
pub const GRANTS: &[&str] = &[crate::enquiries::READ_PERMISSION];

/// Who is calling: a valid, unrevoked token.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The token's public id.
    pub token_id: String,
    /// The token's name (the audit actor).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Permissions granted beyond the role (see [`GRANTS`]).
    pub grants: Vec<String>,
}

impl Caller {
    /// Whether the token was granted `permission`.
    pub fn has(&self, permission: &str) -> bool {
        self.grants.iter().any(|g| g == permission)
    }

    /// The actor recorded in the audit trail.
    pub fn actor(&self) -> String {
        format!("operator:{}", self.name)
    }
}

/// Why a request is not authenticated. The message never echoes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No `Authorization` header.
    #[error("this endpoint needs `Authorization: Bearer <token>`")]
    Missing,
    /// Not a bearer token of this host's format.
    #[error("the Authorization header is not `Bearer fct_...`")]
    Malformed,
    /// No such token, revoked, or wrong secret.
    #[error("the token is unknown or revoked")]
    Rejected,
}

/// A freshly generated token.
pub struct NewToken {
    /// The whole token, to show once.
    pub token: String,
    /// Its public id.
    pub id: String,
    /// sha256 of its secret, to store.
    pub secret_hash: String,
}

const PREFIX: &str = "fct_";

/// Generate a token from the operating system's randomness.
pub fn generate() -> NewToken {
    let id = hex::encode(rand::random::<[u8; 6]>());
    let secret =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    NewToken {
        token: format!("{PREFIX}{id}_{secret}"),
        secret_hash: hash_secret(&secret),
        id,
    }
}

/// Hex sha256 of a token's secret part.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Split a token into id and secret.
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.strip_prefix(PREFIX)?.split_once('_')?;
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() >= 32)
        .then_some((id, secret))
}

/// Check the `Authorization` header value against the stored tokens.
pub fn authenticate(
    store: &SqliteStore,
    header: Option<&str>,
) -> StoreResult<Result<Caller, AuthFailure>> {
    let Some(header) = header else {
        return Ok(Err(AuthFailure::Missing));
    };
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Ok(Err(AuthFailure::Malformed)),
    };
    let Some((id, secret)) = parse(token) else {
        return Ok(Err(AuthFailure::Malformed));
    };
    let Some((row, stored_hash)) = store.active_admin_token(id)? else {
        return Ok(Err(AuthFailure::Rejected));
    };
    let given = hash_secret(secret);
    if !bool::from(given.as_bytes().ct_eq(stored_hash.as_bytes())) {
        return Ok(Err(AuthFailure::Rejected));
    }
    let Some(role) = Role::parse(&row.role) else {
        // A row written by a newer version with a role this one does not know: least privilege.
        return Ok(Err(AuthFailure::Rejected));
    };
    Ok(Ok(Caller {
        token_id: row.id,
        name: row.name,
        role,
        // Only grants this version knows: least privilege for newer rows.
        grants: row
            .grants
            .into_iter()
            .filter(|g| GRANTS.contains(&g.as_str()))
            .collect(),
    }))
}

/// Why a token cannot be created.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name is empty, too long or has odd characters.
    #[error("token name `{0}`: use 1 to 64 letters, digits, dots, dashes and underscores")]
    BadName(String),
    /// A grant this host does not know.
    #[error("unknown grant `{0}`: known grants are {known}", known = GRANTS.join(", "))]
    UnknownGrant(String),
    /// The store refused (for example, the name is taken).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Create and store a token; returns the row and the token to show once.
pub fn create(
    store: &SqliteStore,
    name: &str,
    role: Role,
    grants: &[String],
    actor: &str,
    now: i64,
) -> Result<(AdminTokenRow, String), TokenError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !valid {
        return Err(TokenError::BadName(name.chars().take(80).collect()));
    }
    if let Some(unknown) = grants.iter().find(|g| !GRANTS.contains(&g.as_str())) {
        return Err(TokenError::UnknownGrant(unknown.chars().take(80).collect()));
    }
    let mut grants = grants.to_vec();
    grants.sort();
    grants.dedup();
    let new = generate();
    let row = store.create_admin_token(
        &crate::store::NewTokenRow {
            id: &new.id,
            name,
            role: role.as_str(),
            grants: &grants,
            secret_hash: &new.secret_hash,
        },
        actor,
        now,
    )?;
    Ok((row, new.token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_authenticate_and_others_do_not() {
        let store = SqliteStore::in_memory().unwrap();
        let (row, token) =
            create(&store, "ops-1", Role::Operator, &[], "operator:test", 1).unwrap();
        assert!(token.starts_with("fct_") && token.len() > 50, "{token}");
        let caller = authenticate(&store, Some(&format!("Bearer {token}")))
            .unwrap()
            .unwrap();
        assert_eq!(caller.role, Role::Operator);
        assert_eq!(caller.token_id, row.id);
        // Same id, different secret.
        let (id, _) = parse(&token).unwrap();
        let forged = format!("Bearer fct_{id}_{}", "A".repeat(43));
        assert_eq!(
            authenticate(&store, Some(&forged)).unwrap(),
            Err(AuthFailure::Rejected)
        );
        assert_eq!(
            authenticate(&store, None).unwrap(),
            Err(AuthFailure::Missing)
        );
        assert_eq!(
            authenticate(&store, Some(&format!("Basic {token}"))).unwrap(),
            Err(AuthFailure::Malformed)
        );
        store
            .revoke_admin_token(&row.id, "operator:test", 2)
            .unwrap();
        assert_eq!(
            authenticate(&store, Some(&format!("Bearer {token}"))).unwrap(),
            Err(AuthFailure::Rejected)
        );
        // Nothing stored contains the secret.
        let (_, secret) = parse(&token).unwrap();
        let rows = format!("{:?}", store.admin_tokens().unwrap());
        assert!(!rows.contains(secret));
    }

    #[test]
    fn names_are_checked() {
        let store = SqliteStore::in_memory().unwrap();
        assert!(matches!(
            create(&store, "bad name!", Role::Viewer, &[], "t", 1),
            Err(TokenError::BadName(_))
        ));
        assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
    }

    #[test]
    fn grants_are_known_stored_and_given_to_the_caller() {
        let store = SqliteStore::in_memory().unwrap();
        assert!(matches!(
            create(&store, "x", Role::Admin, &["everything".into()], "t", 1),
            Err(TokenError::UnknownGrant(g)) if g == "everything"
        ));
        let (_, admin) = create(&store, "admin", Role::Admin, &[], "t", 1).unwrap();
        let admin = authenticate(&store, Some(&format!("Bearer {admin}")))
            .unwrap()
            .unwrap();
        // The admin role alone does not read personal data.
        assert!(!admin.has(crate::enquiries::READ_PERMISSION));
        let grant = vec![crate::enquiries::READ_PERMISSION.to_string()];
        let (row, sales) = create(&store, "sales", Role::Viewer, &grant, "t", 1).unwrap();
        assert_eq!(row.grants, grant);
        let sales = authenticate(&store, Some(&format!("Bearer {sales}")))
            .unwrap()
            .unwrap();
        assert!(sales.has(crate::enquiries::READ_PERMISSION));
        let listed = store.admin_tokens().unwrap();
        let listed = listed.iter().find(|t| t.name == "sales").unwrap();
        assert_eq!(listed.grants, grant);
    }
}
