//! What lives in each plugin instance's `Store`: an empty WASI context, the
//! egress hooks, the memory limiter, and the host side of `log` and `kv`.
//!
//! Each capability is granted the same way (Spin's shape): a small state
//! struct here, an implementation of the generated `Host` trait, and one
//! `add_to_linker` call in [`crate::runtime::engine`].

use crate::runtime::bindings::platform::forecourt::plugin::{kv, log, types};
use crate::runtime::egress::{EgressHooks, EgressPolicy};
use crate::runtime::kv::{KvBackend, MAX_KEYS, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Log lines a plugin may write per call before the rest are dropped.
const MAX_LOG_LINES_PER_CALL: u32 = 200;
/// Longest log line kept, in bytes.
const MAX_LOG_LINE_BYTES: usize = 2048;
/// Bytes of stderr kept (panic messages end up there).
const STDERR_CAPACITY: usize = 8 * 1024;

/// Caps the total linear memory of one instance (wasmtime's own
/// `StoreLimits` caps each memory separately, and components have several).
pub struct MemoryLimiter {
    limit: usize,
    total: usize,
    /// A growth was refused: the trap that follows is a memory-limit trap.
    pub exceeded: bool,
}

impl MemoryLimiter {
    /// A limiter allowing `limit` bytes in total.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            total: 0,
            exceeded: false,
        }
    }
}

impl MemoryLimiter {
    /// Linear memory the instance holds now, in bytes.
    pub fn used(&self) -> usize {
        self.total
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let next = self.total.saturating_sub(current).saturating_add(desired);
        if next > self.limit {
            self.exceeded = true;
            return Ok(false);
        }
        self.total = next;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The data of one plugin instance's store.
pub struct HostState {
    plugin_id: Arc<str>,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: EgressHooks,
    kv: Arc<dyn KvBackend>,
    stderr: MemoryOutputPipe,
    /// Enforces `limits.memory_mib`.
    pub limiter: MemoryLimiter,
    /// When the current call must end (checked at every epoch tick).
    pub deadline: Instant,
    log_lines: u32,
}

impl HostState {
    /// Fresh state: no files, no environment, no sockets, stdio discarded
    /// except a small stderr buffer kept for panic messages.
    pub fn new(
        plugin_id: Arc<str>,
        egress: Arc<EgressPolicy>,
        kv: Arc<dyn KvBackend>,
        memory_bytes: usize,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            // Guests may ask for random bytes; cap what one call can make the host allocate.
            .max_random_size(1 << 20)
            // Sockets are never granted. Deny creation and name lookup
            // outright (not only every address), so `wasi:sockets` linked
            // inert for an interpreter can do nothing at all.
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(10_000);
        Self {
            plugin_id,
            wasi,
            http: WasiHttpCtx::new(),
            table,
            hooks: EgressHooks::new(egress),
            kv,
            stderr,
            limiter: MemoryLimiter::new(memory_bytes),
            deadline: Instant::now(),
            log_lines: 0,
        }
    }

    /// Reset per-call budgets before a call.
    pub fn begin_call(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.log_lines = 0;
    }

    /// The guest's panic message from stderr (Rust's "panicked at ...:
    /// message" block), else its last stderr line; redacted.
    pub fn panic_message(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let message = match text.rfind("panicked at ") {
            Some(start) => {
                let block = &text[start..];
                let end = block.find("\nnote:").unwrap_or(block.len());
                block[..end]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            None => text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())?
                .trim()
                .to_string(),
        };
        Some(crate::pii::redact(&message).0)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl types::Host for HostState {}

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES_PER_CALL {
            if self.log_lines == MAX_LOG_LINES_PER_CALL + 1 {
                tracing::warn!(plugin = %self.plugin_id, "Plugin log lines beyond {MAX_LOG_LINES_PER_CALL} in one call are dropped.");
            }
            return Ok(());
        }
        let mut message: String = message.chars().filter(|c| !c.is_control()).collect();
        if message.len() > MAX_LOG_LINE_BYTES {
            let cut = (0..=MAX_LOG_LINE_BYTES)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        // A plugin must not log personal data; the host removes what it can recognise.
        let (message, _) = crate::pii::redact(&message);
        let plugin = &*self.plugin_id;
        match level {
            log::Level::Trace => tracing::trace!(target: "plugin", plugin, "{message}"),
            log::Level::Debug => tracing::debug!(target: "plugin", plugin, "{message}"),
            log::Level::Info => tracing::info!(target: "plugin", plugin, "{message}"),
            log::Level::Warn => tracing::warn!(target: "plugin", plugin, "{message}"),
            log::Level::Error => tracing::error!(target: "plugin", plugin, "{message}"),
        }
        Ok(())
    }
}

impl kv::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, kv::KvError>> {
        if key.len() > MAX_KEY_BYTES {
            return Ok(Err(kv::KvError::QuotaExceeded(format!(
                "keys are at most {MAX_KEY_BYTES} bytes"
            ))));
        }
        Ok(self
            .kv
            .get(&self.plugin_id, &key)
            .map_err(kv::KvError::Unavailable))
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), kv::KvError>> {
        if key.len() > MAX_KEY_BYTES {
            return Ok(Err(kv::KvError::QuotaExceeded(format!(
                "keys are at most {MAX_KEY_BYTES} bytes"
            ))));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Ok(Err(kv::KvError::QuotaExceeded(format!(
                "values are at most {MAX_VALUE_BYTES} bytes"
            ))));
        }
        let exists = match self.kv.get(&self.plugin_id, &key) {
            Ok(v) => v.is_some(),
            Err(e) => return Ok(Err(kv::KvError::Unavailable(e))),
        };
        if !exists {
            match self.kv.key_count(&self.plugin_id) {
                Ok(n) if n >= MAX_KEYS => {
                    return Ok(Err(kv::KvError::QuotaExceeded(format!(
                        "a plugin may keep at most {MAX_KEYS} keys"
                    ))))
                }
                Ok(_) => {}
                Err(e) => return Ok(Err(kv::KvError::Unavailable(e))),
            }
        }
        Ok(self
            .kv
            .set(&self.plugin_id, &key, &value)
            .map_err(kv::KvError::Unavailable))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), kv::KvError>> {
        Ok(self
            .kv
            .delete(&self.plugin_id, &key)
            .map_err(kv::KvError::Unavailable))
    }
}
