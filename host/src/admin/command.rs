//! `forecourt admin token create|list|revoke`: token management on the
//! command line (the admin role can do the same through the API).

use super::auth::{self, Role};
use crate::cli::{EXIT_OK, EXIT_RUNTIME};
use crate::commands::{operator, ConfigArg};
use crate::store::now_ms;
use clap::Subcommand;

/// `forecourt admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create, list or revoke admin API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `forecourt admin token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and only its hash is stored.
    Create {
        #[command(flatten)]
        config: ConfigArg,
        /// A name for the token (who or what uses it); recorded as the actor in the audit trail.
        name: String,
        /// What the token may do.
        #[arg(long, value_enum)]
        role: Role,
        /// A permission beyond the role, e.g. `enquiries:read` (buyers'
        /// enquiries, which hold personal data). Repeatable.
        #[arg(long = "grant", value_name = "PERMISSION")]
        grants: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never their values).
    List {
        #[command(flatten)]
        config: ConfigArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id or name; requests with it fail from now on.
    Revoke {
        #[command(flatten)]
        config: ConfigArg,
        /// Token id or name.
        token: String,
    },
}

fn when(ms: Option<i64>) -> String {
    ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

/// Run an admin command.
pub async fn run(cmd: AdminCommand) -> anyhow::Result<u8> {
    let AdminCommand::Token(cmd) = cmd;
    match cmd {
        TokenCommand::Create {
            config,
            name,
            role,
            grants,
            json,
        } => {
            let store = crate::app::open_store(&config.load()?)?;
            let (row, token) = auth::create(&store, &name, role, &grants, &operator(), now_ms())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "token": token, "id": row.id, "name": row.name, "role": row.role,
                        "grants": row.grants,
                    }))?
                );
            } else {
                println!(
                    "created {} token `{}` (id {}){}",
                    row.role,
                    row.name,
                    row.id,
                    if row.grants.is_empty() {
                        String::new()
                    } else {
                        format!(", granted {}", row.grants.join(", "))
                    }
                );
                println!("{token}");
                println!("Keep it now: it is not stored and cannot be shown again.");
            }
            Ok(EXIT_OK)
        }
        TokenCommand::List { config, json } => {
            let store = crate::app::open_store(&config.load()?)?;
            let tokens = store.admin_tokens()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else if tokens.is_empty() {
                println!(
                    "no tokens; create one with `forecourt admin token create NAME --role viewer`"
                );
            } else {
                println!(
                    "{:<12} {:<24} {:<8} {:<16} {:<16} {:<16} {:<16} created by",
                    "id", "name", "role", "grants", "created", "last used", "revoked"
                );
                for t in &tokens {
                    println!(
                        "{:<12} {:<24} {:<8} {:<16} {:<16} {:<16} {:<16} {}",
                        t.id,
                        t.name,
                        t.role,
                        if t.grants.is_empty() {
                            "-".to_string()
                        } else {
                            t.grants.join(",")
                        },
                        when(Some(t.created_at)),
                        when(t.last_used_at),
                        when(t.revoked_at),
                        t.created_by
                    );
                }
            }
            Ok(EXIT_OK)
        }
        TokenCommand::Revoke { config, token } => {
            let store = crate::app::open_store(&config.load()?)?;
            match store.revoke_admin_token(&token, &operator(), now_ms())? {
                Some(row) => {
                    println!("revoked {} token `{}` (id {})", row.role, row.name, row.id);
                    Ok(EXIT_OK)
                }
                None => {
                    println!("no active token with id or name `{token}`");
                    Ok(EXIT_RUNTIME)
                }
            }
        }
    }
}

/// A token for `forecourt demo`: a fresh admin token named `demo`, allowed
/// to read the sandbox's (invented) enquiries.
pub fn demo_token(store: &crate::store::SqliteStore) -> anyhow::Result<String> {
    // A previous demo's token in a kept database is revoked first.
    store.revoke_admin_token("demo", "operator:demo", now_ms())?;
    let grants = [crate::enquiries::READ_PERMISSION.to_string()];
    let (_, token) = auth::create(
        store,
        "demo",
        Role::Admin,
        &grants,
        "operator:demo",
        now_ms(),
    )?;
    Ok(token)
}
