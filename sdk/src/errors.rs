//! Constructors for the contract's error and validation types.
//!
//! The class of a [`PluginError`] decides what the host does next (retry with
//! backoff, wait, pause the platform, dead-letter), so plugins should never
//! build one by hand with a guessed class: these constructors name the intent.
//!
//! ```
//! use forecourt_sdk::{ErrorClass, PluginError, ValidationIssue};
//!
//! let e = PluginError::rate_limited("slow down", Some(30_000));
//! assert_eq!(e.class, ErrorClass::RateLimited);
//! let w = ValidationIssue::warning("images", "fewer than 10 photos");
//! assert_eq!(w.field, "images");
//! ```

use std::fmt;

use crate::{ErrorClass, PluginError, Severity, ValidationIssue};

impl PluginError {
    fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        PluginError {
            class,
            message: message.into(),
            retry_after_ms: None,
            field: None,
        }
    }

    /// A failure that may succeed later (timeouts, 5xx): retried with backoff.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Transient, message)
    }

    /// The platform asked us to slow down (HTTP 429); retried after
    /// `retry_after_ms` when given, else with backoff.
    pub fn rate_limited(message: impl Into<String>, retry_after_ms: Option<u64>) -> Self {
        PluginError {
            retry_after_ms,
            ..Self::new(ErrorClass::RateLimited, message)
        }
    }

    /// The platform refused the credentials: the host pauses it and alerts.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Auth, message)
    }

    /// The platform refused the data, naming the field at fault: dead-lettered.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        PluginError {
            field: Some(field.into()),
            ..Self::new(ErrorClass::Validation, message)
        }
    }

    /// A request that will never succeed as sent: dead-lettered, no retry.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Permanent, message)
    }
}

/// A permanent error saying `operation` is not implemented by this plugin.
///
/// This is what the default methods of [`Platform`](crate::Platform) and
/// [`Source`](crate::Source) return.
pub fn not_supported(operation: &str) -> PluginError {
    PluginError::permanent(format!("{operation} is not supported by this plugin"))
}

/// Free-function form of [`PluginError::transient`].
pub fn transient(message: impl Into<String>) -> PluginError {
    PluginError::transient(message)
}

/// Free-function form of [`PluginError::rate_limited`].
pub fn rate_limited(message: impl Into<String>, retry_after_ms: Option<u64>) -> PluginError {
    PluginError::rate_limited(message, retry_after_ms)
}

/// Free-function form of [`PluginError::auth`].
pub fn auth(message: impl Into<String>) -> PluginError {
    PluginError::auth(message)
}

/// Free-function form of [`PluginError::validation`].
pub fn validation(field: impl Into<String>, message: impl Into<String>) -> PluginError {
    PluginError::validation(field, message)
}

/// Free-function form of [`PluginError::permanent`].
pub fn permanent(message: impl Into<String>) -> PluginError {
    PluginError::permanent(message)
}

impl ValidationIssue {
    /// A problem that stops the vehicle from being published.
    pub fn error(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationIssue {
            field: field.into(),
            severity: Severity::Error,
            message: message.into(),
        }
    }

    /// A problem worth fixing that does not block publication.
    pub fn warning(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationIssue {
            field: field.into(),
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    /// Whether this issue blocks publication.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Transient => "transient",
            ErrorClass::RateLimited => "rate-limited",
            ErrorClass::Auth => "auth",
            ErrorClass::Validation => "validation",
            ErrorClass::Permanent => "permanent",
        })
    }
}
