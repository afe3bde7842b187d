//! HTTP credentials of a transport: `auth = "none" | "basic" | "bearer"`,
//! with the password or token kept in the secret store under the owner's
//! id (never in `forecourt.toml`). Used both ways: to authenticate to a
//! DMS export URL, and to check platforms fetching a served feed.
//!
//! Secrets are looked up on every use, so rotating one needs no restart.
//! Checks compare sha256 digests in constant time, so neither the content
//! nor the length of a secret leaks through timing.

use super::{BuildContext, Invalid, TransportError};
use base64::Engine as _;
use http::HeaderValue;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use toml::Spanned;

/// The scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// No credentials.
    None,
    /// `Authorization: Basic base64(username:password)`.
    Basic,
    /// `Authorization: Bearer <token>`.
    Bearer,
}

/// Validated credentials: names of secrets, never their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// None.
    None,
    /// Basic.
    Basic {
        /// The user name (not secret).
        username: String,
        /// Secret holding the password.
        password_secret: String,
    },
    /// Bearer.
    Bearer {
        /// Secret holding the token.
        token_secret: String,
    },
}

/// The credential keys of a configuration table.
pub struct CredentialKeys<'a> {
    /// `auth`.
    pub auth: &'a Spanned<Scheme>,
    /// `username`.
    pub username: Option<&'a Spanned<String>>,
    /// `password_secret`.
    pub password_secret: Option<&'a Spanned<String>>,
    /// `token_secret`.
    pub token_secret: Option<&'a Spanned<String>>,
}

/// Check a secret's name (it becomes part of an environment variable name).
pub fn validate_secret_name(name: &Spanned<String>, key: &str) -> Result<String, Invalid> {
    let n = name.get_ref();
    if n.is_empty()
        || !n
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(Invalid::new(
            name.span(),
            key,
            "names a secret: lower-case letters, digits, `_` and `-` (the value goes in the secrets file or the environment, never here)",
        ));
    }
    Ok(n.clone())
}

impl CredentialKeys<'_> {
    /// The credentials these keys describe, or the key at fault.
    pub fn validate(&self) -> Result<Credentials, Invalid> {
        let unexpected = |v: Option<&Spanned<String>>, key: &str, scheme: &str| match v {
            Some(v) => Err(Invalid::new(
                v.span(),
                key,
                format!("is not used with auth = \"{scheme}\""),
            )),
            None => Ok(()),
        };
        let missing = |key: &str, scheme: &str| {
            Invalid::new(
                self.auth.span(),
                key,
                format!("is required with auth = \"{scheme}\""),
            )
        };
        match self.auth.get_ref() {
            Scheme::None => {
                unexpected(self.username, "username", "none")?;
                unexpected(self.password_secret, "password_secret", "none")?;
                unexpected(self.token_secret, "token_secret", "none")?;
                Ok(Credentials::None)
            }
            Scheme::Basic => {
                unexpected(self.token_secret, "token_secret", "basic")?;
                let username = self.username.ok_or_else(|| missing("username", "basic"))?;
                if username.get_ref().is_empty() || username.get_ref().contains(':') {
                    return Err(Invalid::new(
                        username.span(),
                        "username",
                        "must be non-empty and without `:`",
                    ));
                }
                let secret = self
                    .password_secret
                    .ok_or_else(|| missing("password_secret", "basic"))?;
                Ok(Credentials::Basic {
                    username: username.get_ref().clone(),
                    password_secret: validate_secret_name(secret, "password_secret")?,
                })
            }
            Scheme::Bearer => {
                unexpected(self.username, "username", "bearer")?;
                unexpected(self.password_secret, "password_secret", "bearer")?;
                let secret = self
                    .token_secret
                    .ok_or_else(|| missing("token_secret", "bearer"))?;
                Ok(Credentials::Bearer {
                    token_secret: validate_secret_name(secret, "token_secret")?,
                })
            }
        }
    }
}

/// What a request's credentials amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through.
    Allowed,
    /// Answer 401.
    Denied,
    /// Our own secret is missing: answer 503 and log it.
    Unavailable(String),
}

fn digest_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::Digest;
    let a = sha2::Sha256::digest(a);
    let b = sha2::Sha256::digest(b);
    a.ct_eq(&b).into()
}

impl Credentials {
    /// The secrets these credentials need.
    pub fn secret_names(&self) -> Vec<&str> {
        match self {
            Credentials::None => vec![],
            Credentials::Basic {
                password_secret, ..
            } => vec![password_secret],
            Credentials::Bearer { token_secret } => vec![token_secret],
        }
    }

    /// Fail early when a secret is not set.
    pub fn check_secrets(&self, ctx: &BuildContext) -> Result<(), TransportError> {
        for name in self.secret_names() {
            ctx.secret(name)?;
        }
        Ok(())
    }

    /// The `Authorization` header to send, if any.
    pub fn header(&self, ctx: &BuildContext) -> Result<Option<HeaderValue>, TransportError> {
        let value = match self {
            Credentials::None => return Ok(None),
            Credentials::Basic {
                username,
                password_secret,
            } => {
                let password = ctx.secret(password_secret)?;
                let raw = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
            Credentials::Bearer { token_secret } => {
                format!("Bearer {}", ctx.secret(token_secret)?.expose())
            }
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            TransportError::permanent(format!(
                "a secret of `{}` holds characters not allowed in an HTTP header",
                ctx.owner
            ))
        })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// Check a request's `Authorization` header.
    pub fn verify(&self, ctx: &BuildContext, header: Option<&HeaderValue>) -> Verdict {
        let expected = match self.header(ctx) {
            Ok(None) => return Verdict::Allowed,
            Ok(Some(v)) => v,
            Err(e) => return Verdict::Unavailable(e.message),
        };
        let Some(given) = header else {
            return Verdict::Denied;
        };
        // Schemes are case-insensitive; compare the credentials exactly.
        let (Some((given_scheme, given_cred)), Some((want_scheme, want_cred))) = (
            split_scheme(given.as_bytes()),
            split_scheme(expected.as_bytes()),
        ) else {
            return Verdict::Denied;
        };
        if given_scheme.eq_ignore_ascii_case(want_scheme) && digest_eq(given_cred, want_cred) {
            Verdict::Allowed
        } else {
            Verdict::Denied
        }
    }

    /// The `WWW-Authenticate` challenge of a 401.
    pub fn challenge(&self) -> Option<&'static str> {
        match self {
            Credentials::None => None,
            Credentials::Basic { .. } => Some("Basic realm=\"forecourt feeds\", charset=\"UTF-8\""),
            Credentials::Bearer { .. } => Some("Bearer realm=\"forecourt feeds\""),
        }
    }
}

fn split_scheme(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = value.iter().position(|b| *b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    let rest = rest.trim_ascii_start();
    (!rest.is_empty()).then_some((scheme, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::secrets::MemorySecrets;
    use std::sync::Arc;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        auth: Spanned<Scheme>,
        username: Option<Spanned<String>>,
        password_secret: Option<Spanned<String>>,
        token_secret: Option<Spanned<String>>,
    }

    fn credentials(text: &str) -> Result<Credentials, Invalid> {
        let t: Table = toml::from_str(text).unwrap();
        CredentialKeys {
            auth: &t.auth,
            username: t.username.as_ref(),
            password_secret: t.password_secret.as_ref(),
            token_secret: t.token_secret.as_ref(),
        }
        .validate()
    }

    fn ctx() -> BuildContext {
        let secrets = MemorySecrets::default();
        secrets.set("google", "feed_password", "s3cret");
        secrets.set("google", "feed_token", "tok-123");
        BuildContext {
            owner: "google".into(),
            data_dir: "/nonexistent".into(),
            secrets: Arc::new(secrets),
        }
    }

    #[test]
    fn keys_must_fit_the_scheme() {
        assert_eq!(credentials("auth = \"none\"").unwrap(), Credentials::None);
        assert_eq!(
            credentials("auth = \"basic\"\nusername = \"g\"")
                .unwrap_err()
                .key,
            "password_secret"
        );
        assert_eq!(
            credentials("auth = \"bearer\"\ntoken_secret = \"t\"\nusername = \"u\"")
                .unwrap_err()
                .key,
            "username"
        );
        assert_eq!(
            credentials("auth = \"bearer\"\ntoken_secret = \"Bad Name\"")
                .unwrap_err()
                .key,
            "token_secret"
        );
    }

    #[test]
    fn basic_and_bearer_verify_exactly() {
        let ctx = ctx();
        let basic = credentials(
            "auth = \"basic\"\nusername = \"merchant\"\npassword_secret = \"feed_password\"",
        )
        .unwrap();
        let good = basic.header(&ctx).unwrap().unwrap();
        assert!(good.is_sensitive());
        assert_eq!(basic.verify(&ctx, Some(&good)), Verdict::Allowed);
        let lower =
            HeaderValue::from_str(&good.to_str().unwrap().replace("Basic", "basic")).unwrap();
        assert_eq!(basic.verify(&ctx, Some(&lower)), Verdict::Allowed);
        let wrong = HeaderValue::from_static("Basic bWVyY2hhbnQ6d3Jvbmc="); // merchant:wrong
        assert_eq!(basic.verify(&ctx, Some(&wrong)), Verdict::Denied);
        assert_eq!(basic.verify(&ctx, None), Verdict::Denied);

        let bearer = credentials("auth = \"bearer\"\ntoken_secret = \"feed_token\"").unwrap();
        let token = HeaderValue::from_static("Bearer tok-123");
        assert_eq!(bearer.verify(&ctx, Some(&token)), Verdict::Allowed);
        assert_eq!(
            bearer.verify(&ctx, Some(&HeaderValue::from_static("Bearer tok-12"))),
            Verdict::Denied
        );
        assert_eq!(
            bearer.verify(&ctx, Some(&HeaderValue::from_static("Basic tok-123"))),
            Verdict::Denied
        );
        let missing = Credentials::Bearer {
            token_secret: "nope".into(),
        };
        assert!(matches!(
            missing.verify(&ctx, Some(&token)),
            Verdict::Unavailable(m) if m.contains("FORECOURT_SECRET_GOOGLE_NOPE")
        ));
    }
}
