//! Progress of long operations (initial sync, reconcile) on a terminal.
//!
//! The engine reports `(task, done, total)` through [`Progress`]; the
//! [`Terminal`] sink redraws one line on stderr, at most ten times a second,
//! and clears it when the work is done. Commands install it only when stderr
//! is a terminal and `--json` was not asked for, so scripts and logs never
//! see it.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Receives progress reports.
pub trait Progress: Send + Sync {
    /// `done` of `total` (if known) units of `task` are finished.
    fn update(&self, task: &str, done: u64, total: Option<u64>);
    /// `task` is over.
    fn finish(&self, task: &str);
}

/// A progress sink for a command: the terminal line when stderr is a
/// terminal and the output is for people, otherwise none.
pub fn for_command(json: bool) -> Option<Arc<dyn Progress>> {
    (!json && std::io::stderr().is_terminal())
        .then(|| Arc::new(Terminal::new(Box::new(std::io::stderr()))) as Arc<dyn Progress>)
}

/// One redrawn line on a terminal.
pub struct Terminal {
    inner: Mutex<State>,
}

struct State {
    out: Box<dyn Write + Send>,
    tasks: BTreeMap<String, (u64, Option<u64>)>,
    last_draw: Option<Instant>,
    width: usize,
}

const REDRAW_EVERY: Duration = Duration::from_millis(100);

impl Terminal {
    /// Draw on `out` (stderr, or a buffer in tests).
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            inner: Mutex::new(State {
                out,
                tasks: BTreeMap::new(),
                last_draw: None,
                width: 0,
            }),
        }
    }
}

/// The text of the line for these tasks.
pub fn line(tasks: &BTreeMap<String, (u64, Option<u64>)>) -> String {
    tasks
        .iter()
        .map(|(task, (done, total))| match total {
            Some(total) if *total > 0 => format!(
                "{task} {done}/{total} ({}%)",
                (done.min(total) * 100) / total
            ),
            _ => format!("{task} {done}"),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

impl State {
    fn draw(&mut self, force: bool) {
        if !force && self.last_draw.is_some_and(|t| t.elapsed() < REDRAW_EVERY) {
            return;
        }
        self.last_draw = Some(Instant::now());
        let text = line(&self.tasks);
        // Pad over what the previous, longer line left behind.
        let pad = self.width.saturating_sub(text.chars().count());
        let _ = write!(self.out, "\r{text}{}", " ".repeat(pad));
        if text.is_empty() {
            let _ = write!(self.out, "\r");
        }
        let _ = self.out.flush();
        self.width = text.chars().count();
    }
}

impl Progress for Terminal {
    fn update(&self, task: &str, done: u64, total: Option<u64>) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        state.tasks.insert(task.to_string(), (done, total));
        state.draw(false);
    }

    fn finish(&self, task: &str) {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if state.tasks.remove(task).is_some() {
            state.draw(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn line_shows_each_task_with_percentages() {
        let mut tasks = BTreeMap::new();
        tasks.insert("deliver autotrader".to_string(), (50, Some(200)));
        tasks.insert("plan".to_string(), (10, None));
        assert_eq!(line(&tasks), "deliver autotrader 50/200 (25%) · plan 10");
    }

    #[test]
    fn finishing_the_last_task_clears_the_line() {
        let buffer = Buffer::default();
        let t = Terminal::new(Box::new(buffer.clone()));
        t.update("reconcile autotrader", 3, None);
        t.finish("reconcile autotrader");
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(text.starts_with("\rreconcile autotrader 3"), "{text:?}");
        // Cleared: overwritten with spaces, cursor back at the start.
        assert!(
            text.ends_with(&format!("\r{}\r", " ".repeat(22))),
            "{text:?}"
        );
    }

    #[test]
    fn json_output_never_gets_a_progress_line() {
        assert!(for_command(true).is_none());
    }
}
