//! The cursor the host stores for this source: where the next pull
//! continues, as JSON (opaque to the host).
//!
//! Position is `(updated_at, the ids already read at exactly that
//! instant)`: a record is behind the cursor when it is older, or equally old
//! and already read. Comparing ids with a set rather than an order means the
//! API's order of ids with equal timestamps does not matter, so a page
//! boundary that falls among many vehicles updated in the same second (a bulk
//! price change) neither skips nor loops.

use serde::{Deserialize, Serialize};

use crate::time::Instant;

/// Version of the cursor format; a cursor of another version starts over.
const VERSION: u32 = 1;

/// An instant and the ids read at exactly that instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// The newest `updated_at` read.
    pub at: Instant,
    /// Ids read with exactly that `updated_at`.
    pub ids: Vec<String>,
}

impl Mark {
    /// Whether a record `(at, id)` was read already.
    pub fn covers(&self, at: Instant, id: &str) -> bool {
        at < self.at || (at == self.at && self.ids.iter().any(|i| i == id))
    }

    /// Move `mark` forward to include `(at, id)`.
    pub fn advance(mark: &mut Option<Mark>, at: Instant, id: &str) {
        match mark {
            Some(m) if at < m.at => {}
            Some(m) if at == m.at => {
                if !m.ids.iter().any(|i| i == id) {
                    m.ids.push(id.to_string());
                }
            }
            _ => {
                *mark = Some(Mark {
                    at,
                    ids: vec![id.to_string()],
                })
            }
        }
    }

    /// The later of two marks (their ids joined when equal).
    pub fn max(a: Option<Mark>, b: &Option<Mark>) -> Option<Mark> {
        let mut out = a;
        if let Some(b) = b {
            for id in &b.ids {
                Mark::advance(&mut out, b.at, id);
            }
        }
        out
    }
}

/// A pass through the API's listing that is under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    /// A full listing whose pages are a full snapshot.
    pub snapshot: bool,
    /// The updated-since sent (page pagination moves it forward).
    pub since: Option<Instant>,
    /// Page pagination: the page to ask for next.
    pub page: u32,
    /// Cursor pagination: the API's next cursor or next-page URL.
    pub token: Option<String>,
    /// Records this mark covers were handed to the host already.
    pub skip: Option<Mark>,
    /// Page pagination: a fingerprint of the last page read under the same
    /// `since`, to notice an API that ignores the page number.
    pub last_page: Option<String>,
}

/// Everything the plugin remembers between pulls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The newest record read, over all passes.
    pub high: Option<Mark>,
    /// Passes completed (for `snapshot_every`).
    pub passes: u64,
    /// The pass under way, if the last pull left one.
    pub pass: Option<Pass>,
}

#[derive(Serialize, Deserialize)]
struct RawMark {
    at: String,
    ids: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct RawPass {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    snapshot: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    skip: Option<RawMark>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_page: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct RawCursor {
    v: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    high: Option<RawMark>,
    #[serde(default)]
    passes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pass: Option<RawPass>,
}

fn to_raw(mark: &Option<Mark>) -> Option<RawMark> {
    mark.as_ref().map(|m| RawMark {
        at: m.at.to_string(),
        ids: m.ids.clone(),
    })
}

fn from_raw(mark: Option<RawMark>) -> Result<Option<Mark>, String> {
    mark.map(|m| {
        Ok(Mark {
            at: Instant::parse(&m.at)?,
            ids: m.ids,
        })
    })
    .transpose()
}

impl Cursor {
    /// The cursor in `text`; the error says why it cannot be used.
    pub fn parse(text: &str) -> Result<Cursor, String> {
        let raw: RawCursor =
            serde_json::from_str(text).map_err(|e| format!("not a dms-rest cursor: {e}"))?;
        if raw.v != VERSION {
            return Err(format!("cursor version {} is not {VERSION}", raw.v));
        }
        let pass = raw
            .pass
            .map(|p| -> Result<Pass, String> {
                Ok(Pass {
                    snapshot: p.snapshot,
                    since: p.since.as_deref().map(Instant::parse).transpose()?,
                    page: p.page.unwrap_or(1).max(1),
                    token: p.token,
                    skip: from_raw(p.skip)?,
                    last_page: p.last_page,
                })
            })
            .transpose()?;
        Ok(Cursor {
            high: from_raw(raw.high)?,
            passes: raw.passes,
            pass,
        })
    }

    /// The cursor as the host stores it.
    pub fn to_json(&self) -> String {
        let raw = RawCursor {
            v: VERSION,
            high: to_raw(&self.high),
            passes: self.passes,
            pass: self.pass.as_ref().map(|p| RawPass {
                snapshot: p.snapshot,
                since: p.since.map(|s| s.to_string()),
                page: (p.page > 1).then_some(p.page),
                token: p.token.clone(),
                skip: to_raw(&p.skip),
                last_page: p.last_page.clone(),
            }),
        };
        serde_json::to_string(&raw).expect("cursors serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        Instant::parse(s).unwrap()
    }

    #[test]
    fn marks_cover_older_records_and_the_ids_read_at_their_instant() {
        let mut mark = None;
        Mark::advance(&mut mark, at("2024-05-01T10:00:00Z"), "B");
        Mark::advance(&mut mark, at("2024-05-01T10:00:00Z"), "A");
        Mark::advance(&mut mark, at("2024-05-01T09:00:00Z"), "Z");
        let m = mark.clone().unwrap();
        assert_eq!(m.ids, ["B", "A"]);
        assert!(m.covers(at("2024-05-01T09:59:59Z"), "Q"));
        assert!(m.covers(at("2024-05-01T10:00:00Z"), "A"));
        assert!(!m.covers(at("2024-05-01T10:00:00Z"), "C"));
        assert!(!m.covers(at("2024-05-01T10:00:01Z"), "A"));
        Mark::advance(&mut mark, at("2024-05-01T10:00:01Z"), "C");
        assert_eq!(mark.as_ref().unwrap().ids, ["C"]);
        let joined = Mark::max(Some(m), &mark);
        assert_eq!(joined, mark);
    }

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let mut high = None;
        Mark::advance(&mut high, at("2024-05-01T10:00:00.5Z"), "A1");
        let cursor = Cursor {
            high: high.clone(),
            passes: 3,
            pass: Some(Pass {
                snapshot: true,
                since: Some(at("2024-05-01T09:00:00Z")),
                page: 4,
                token: Some("tok".into()),
                skip: high,
                last_page: Some("2:A:B".into()),
            }),
        };
        let json = cursor.to_json();
        assert_eq!(Cursor::parse(&json).unwrap(), cursor);
        assert!(json.contains("\"at\":\"2024-05-01T10:00:00.5Z\""), "{json}");
        assert!(Cursor::parse(r#"{"v":2}"#).unwrap_err().contains("version"));
        assert!(Cursor::parse("page=3").is_err());
        assert_eq!(Cursor::parse(r#"{"v":1}"#).unwrap(), Cursor::default());
    }
}
