//! The Prometheus text exposition format (version 0.0.4): one `# HELP` and
//! `# TYPE` line per family, then its samples, label values escaped.

use super::histogram::HistogramSnapshot;
use std::fmt::Write;

/// The content type of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric type.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Monotonic; the name ends in `_total`.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets, sum and count.
    Histogram,
}

/// Builds an exposition document family by family.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

/// The samples of one family.
pub struct Family<'a> {
    out: &'a mut String,
    name: &'a str,
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_value(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

impl Exposition {
    /// Start a family: writes its HELP and TYPE lines; `samples` adds its samples.
    pub fn family(
        &mut self,
        name: &str,
        kind: Kind,
        help: &str,
        samples: impl FnOnce(&mut Family),
    ) {
        let kind_name = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind_name}");
        samples(&mut Family {
            out: &mut self.out,
            name,
        });
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

impl Family<'_> {
    /// One sample of a counter or gauge.
    pub fn sample(&mut self, pairs: &[(&str, &str)], value: f64) {
        let _ = writeln!(self.out, "{}{} {}", self.name, labels(pairs), number(value));
    }

    /// The series of one histogram: buckets, sum and count.
    pub fn histogram(&mut self, pairs: &[(&str, &str)], h: &HistogramSnapshot) {
        for (bound, count) in &h.buckets {
            let le = number(*bound);
            let mut with_le = pairs.to_vec();
            with_le.push(("le", &le));
            let _ = writeln!(self.out, "{}_bucket{} {count}", self.name, labels(&with_le));
        }
        let _ = writeln!(
            self.out,
            "{}_sum{} {}",
            self.name,
            labels(pairs),
            number(h.sum)
        );
        let _ = writeln!(self.out, "{}_count{} {}", self.name, labels(pairs), h.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::Histogram;

    #[test]
    fn renders_families_escaped() {
        let mut e = Exposition::default();
        e.family(
            "forecourt_x_total",
            Kind::Counter,
            "Line one\nback\\slash",
            |f| f.sample(&[("platform", "a\"b\\c\nd")], 3.0),
        );
        let h = Histogram::new(&[0.5]);
        h.observe(0.25);
        e.family("forecourt_y_seconds", Kind::Histogram, "Y.", |f| {
            f.histogram(&[("platform", "p")], &h.snapshot())
        });
        assert_eq!(
            e.finish(),
            "# HELP forecourt_x_total Line one\\nback\\\\slash\n# TYPE forecourt_x_total counter\n\
             forecourt_x_total{platform=\"a\\\"b\\\\c\\nd\"} 3\n\
             # HELP forecourt_y_seconds Y.\n# TYPE forecourt_y_seconds histogram\n\
             forecourt_y_seconds_bucket{platform=\"p\",le=\"0.5\"} 1\n\
             forecourt_y_seconds_bucket{platform=\"p\",le=\"+Inf\"} 1\n\
             forecourt_y_seconds_sum{platform=\"p\"} 0.25\n\
             forecourt_y_seconds_count{platform=\"p\"} 1\n"
        );
    }
}
