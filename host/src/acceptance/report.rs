//! The acceptance report: one line per check, PASS, FAIL or SKIP with the
//! reason, as text for people and JSON for CI.

use serde::Serialize;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The plugin did what the contract asks.
    Pass,
    /// It did not; the detail says how.
    Fail,
    /// Not applicable to this plugin, or not possible with these fixtures.
    Skip,
}

/// One check and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable name, e.g. `transform.deterministic`.
    pub name: String,
    /// The outcome.
    pub status: Status,
    /// What was found (for a failure: what is wrong and where).
    pub detail: String,
}

/// Everything the kit found about one plugin.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The component tested.
    pub component: String,
    /// Plugin id and version from its manifest.
    pub plugin: String,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// An empty report for a component.
    pub fn new(component: &str, plugin: &str) -> Self {
        Report {
            component: component.to_string(),
            plugin: plugin.to_string(),
            checks: Vec::new(),
        }
    }

    /// Record a check.
    pub fn record(&mut self, name: &str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.to_string(),
            status,
            detail: detail.into(),
        });
    }

    /// PASS if `problems` is empty, else FAIL listing them (the first ten).
    pub fn verdict(&mut self, name: &str, pass_detail: impl Into<String>, problems: Vec<String>) {
        if problems.is_empty() {
            self.record(name, Status::Pass, pass_detail);
        } else {
            let mut detail = problems
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ");
            if problems.len() > 10 {
                detail.push_str(&format!("; and {} more", problems.len() - 10));
            }
            self.record(name, Status::Fail, detail);
        }
    }

    /// How many checks ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.count(Status::Fail) == 0
    }

    /// The check called `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The JSON form for CI: the checks and the counts.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "component": self.component,
            "plugin": self.plugin,
            "passed": self.passed(),
            "counts": {
                "pass": self.count(Status::Pass),
                "fail": self.count(Status::Fail),
                "skip": self.count(Status::Skip),
            },
            "checks": self.checks,
        })
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "acceptance tests for {} ({})\n",
            self.plugin, self.component
        )?;
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &self.checks {
            let status = match c.status {
                Status::Pass => "PASS",
                Status::Fail => "FAIL",
                Status::Skip => "SKIP",
            };
            writeln!(f, "{status}  {:<width$}  {}", c.name, c.detail)?;
        }
        writeln!(
            f,
            "\n{} passed, {} failed, {} skipped",
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skip)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_per_check_and_counts() {
        let mut r = Report::new("x.wasm", "x 0.1.0");
        r.verdict("a.one", "fine", vec![]);
        r.verdict("b", "fine", (0..12).map(|n| format!("p{n}")).collect());
        r.record("c", Status::Skip, "feed platform");
        let text = r.to_string();
        assert!(text.contains("PASS  a.one  fine"), "{text}");
        assert!(text.contains("FAIL  b      p0; p1"), "{text}");
        assert!(text.contains("and 2 more"), "{text}");
        assert!(text.ends_with("1 passed, 1 failed, 1 skipped\n"), "{text}");
        assert!(!r.passed());
        assert_eq!(r.to_json()["counts"]["skip"], 1);
    }
}
