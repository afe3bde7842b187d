//! Structured logging into the host's log.
//!
//! The host adds the plugin id, rate-limits and truncates messages. A plugin
//! must not log personal data (customer names, e-mail addresses, phones) nor
//! anything from `vehicle.hub-only`.
//!
//! Use the functions for a fixed message and the macros for a formatted one:
//!
//! ```no_run
//! forecourt_sdk::log::info("feed rendered");
//! forecourt_sdk::log::warn!("{} vehicles skipped", 3);
//! ```

pub use crate::platform_bindings::forecourt::plugin::log::Level;

use crate::platform_bindings::forecourt::plugin::log::log as host_log;

/// Log `message` at `level`.
pub fn log(level: Level, message: &str) {
    host_log(level, message);
}

/// Log at trace level.
pub fn trace(message: &str) {
    log(Level::Trace, message);
}

/// Log at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Log at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Log at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Log at error level.
pub fn error(message: &str) {
    log(Level::Error, message);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __forecourt_log_trace {
    ($($arg:tt)+) => { $crate::log::trace(&::std::format!($($arg)+)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __forecourt_log_debug {
    ($($arg:tt)+) => { $crate::log::debug(&::std::format!($($arg)+)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __forecourt_log_info {
    ($($arg:tt)+) => { $crate::log::info(&::std::format!($($arg)+)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __forecourt_log_warn {
    ($($arg:tt)+) => { $crate::log::warn(&::std::format!($($arg)+)) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __forecourt_log_error {
    ($($arg:tt)+) => { $crate::log::error(&::std::format!($($arg)+)) };
}

/// Log a formatted message at trace level: `log::trace!("{} rows", n)`.
#[doc(inline)]
pub use __forecourt_log_trace as trace;

/// Log a formatted message at debug level: `log::debug!("{} rows", n)`.
#[doc(inline)]
pub use __forecourt_log_debug as debug;

/// Log a formatted message at info level: `log::info!("{} rows", n)`.
#[doc(inline)]
pub use __forecourt_log_info as info;

/// Log a formatted message at warn level: `log::warn!("{} rows", n)`.
#[doc(inline)]
pub use __forecourt_log_warn as warn;

/// Log a formatted message at error level: `log::error!("{} rows", n)`.
#[doc(inline)]
pub use __forecourt_log_error as error;
