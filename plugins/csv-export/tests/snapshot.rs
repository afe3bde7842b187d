//! `pull-snapshot`: row digests, and the rows the host already holds.
//!
//! A small model of the host ([`Host`]) keeps what a real one keeps between
//! pulls: each stored vehicle's stock id with the digest of its row, or no
//! digest (then the vehicle is not in `known` and its row is parsed again).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use forecourt_plugin_csv_export::CsvExport;
use forecourt_sdk::testkit::pull_json;
use forecourt_sdk::{
    Change, KnownRow, PluginError, PullPage, PullRequest, SnapshotPage, SnapshotSource, Source,
};

mod common;
use common::CONFIG;

fn pull(config: &str, doc: &str) -> Result<PullPage, PluginError> {
    CsvExport::pull(PullRequest {
        config: config.into(),
        cursor: None,
        document: Some(doc.as_bytes().to_vec()),
    })
}

fn snapshot(config: &str, doc: &str, known: &[KnownRow]) -> SnapshotPage {
    try_snapshot(config, doc.as_bytes(), known).unwrap_or_else(|e| panic!("{}", e.message))
}

fn try_snapshot(config: &str, doc: &[u8], known: &[KnownRow]) -> Result<SnapshotPage, PluginError> {
    CsvExport::pull_snapshot(
        PullRequest {
            config: config.into(),
            cursor: None,
            document: Some(doc.to_vec()),
        },
        known.to_vec(),
    )
}

fn upserts(page: &PullPage) -> Vec<&str> {
    page.changes
        .iter()
        .map(|c| match c {
            Change::Upsert(v) => v.stock_id.as_str(),
            Change::Remove(id) => panic!("a snapshot source never removes ({id})"),
        })
        .collect()
}

fn issues(page: &PullPage) -> Vec<(u32, Option<&str>, Option<&str>)> {
    page.issues
        .iter()
        .map(|i| (i.record_number, i.stock_id.as_deref(), i.field.as_deref()))
        .collect()
}

/// What the host keeps between pulls.
#[derive(Default)]
struct Host {
    known: Vec<KnownRow>,
    /// The stock ids the last pull reported unchanged.
    unchanged: Vec<String>,
}

impl Host {
    /// Pull, then keep what a host keeps: the unchanged rows, and every
    /// upsert that came with a digest. Checks the page's invariants.
    fn pull(&mut self, config: &str, doc: &str) -> SnapshotPage {
        let page = snapshot(config, doc, &self.known);
        assert_eq!(page.digests.len(), page.page.changes.len());
        let distinct: BTreeSet<u32> = page.unchanged.iter().copied().collect();
        assert_eq!(distinct.len(), page.unchanged.len(), "{:?}", page.unchanged);
        let mut known: Vec<KnownRow> = page
            .unchanged
            .iter()
            .map(|&i| self.known[i as usize].clone())
            .collect();
        self.unchanged = known.iter().map(|k| k.stock_id.clone()).collect();
        for (id, digest) in upserts(&page.page).into_iter().zip(&page.digests) {
            if let Some(digest) = digest {
                assert_eq!(digest.len(), 32);
                assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
                known.push(KnownRow {
                    stock_id: id.into(),
                    digest: digest.clone(),
                });
            }
        }
        self.known = known;
        page
    }

    fn unchanged_ids(&self) -> &[String] {
        &self.unchanged
    }
}

/// `rows` clean vehicles, `,`-delimited.
fn stock_doc(rows: usize) -> String {
    stock_doc_delimited(rows, ',')
}

fn stock_doc_delimited(rows: usize, d: char) -> String {
    let mut doc = format!("StockNo{d}Make{d}Model{d}Price{d}Mileage\n");
    for i in 0..rows {
        let (price, miles) = (10 + i, 20 + i);
        writeln!(
            doc,
            "S{i}{d}Ford{d}Fiesta{d}\"£{price},995\"{d}\"{miles},000\""
        )
        .unwrap();
    }
    doc
}

#[test]
fn first_pull_equals_pull_on_every_fixture() {
    let mut seen = 0;
    for (name, config, doc) in common::fixtures() {
        let pulled = CsvExport::pull(PullRequest {
            config: config.clone(),
            cursor: None,
            document: Some(doc.clone()),
        });
        let snap = try_snapshot(&config, &doc, &[]);
        assert_eq!(
            pull_json(&snap.as_ref().map(|s| s.page.clone()).map_err(Clone::clone)),
            pull_json(&pulled),
            "{name}"
        );
        if let Ok(snap) = snap {
            assert!(snap.unchanged.is_empty(), "{name}");
            assert_eq!(snap.digests.len(), snap.page.changes.len(), "{name}");
            // A digest for every row whose vehicle was built without an issue.
            for (id, digest) in upserts(&snap.page).into_iter().zip(&snap.digests) {
                let had_issue = snap.page.issues.iter().any(|i| {
                    i.stock_id.as_deref() == Some(id)
                        && i.field.is_some()
                        && i.field.as_deref() != Some("stock-id")
                });
                assert_eq!(digest.is_none(), had_issue, "{name}: {id}");
            }
        }
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} fixtures");
}

#[test]
fn second_pull_skips_every_row() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/canonical.csv"),
    )
    .unwrap();
    let mut host = Host::default();
    let first = host.pull(CONFIG, &doc);
    assert_eq!(first.page.changes.len(), 6);
    assert!(first.digests.iter().all(Option::is_some));
    assert_eq!(host.known.len(), 6);

    let second = host.pull(CONFIG, &doc);
    assert!(second.page.changes.is_empty() && second.page.issues.is_empty());
    assert!(second.page.full_snapshot && !second.page.has_more);
    let mut unchanged = second.unchanged.clone();
    unchanged.sort_unstable();
    assert_eq!(unchanged, [0, 1, 2, 3, 4, 5]);
    assert_eq!(host.known.len(), 6);
}

#[test]
fn one_changed_cell_is_one_upsert() {
    let doc = stock_doc(50);
    let mut host = Host::default();
    let first = host.pull(CONFIG, &doc);
    let old_digest = first.digests[17].clone().unwrap();

    let changed = doc.replace("S17,Ford,Fiesta", "S17,Ford,Focus");
    let second = host.pull(CONFIG, &changed);
    assert_eq!(upserts(&second.page), ["S17"]);
    let new_digest = second.digests[0].clone().unwrap();
    assert_ne!(new_digest, old_digest);
    assert_eq!(second.unchanged.len(), 49);
    assert!(!host.unchanged_ids().contains(&"S17".to_string()));

    // And the next pull of the same file skips everything again.
    let third = host.pull(CONFIG, &changed);
    assert!(third.page.changes.is_empty());
    assert_eq!(third.unchanged.len(), 50);
}

#[test]
fn header_config_or_delimiter_change_reparses_every_row() {
    let doc = stock_doc(10);
    let first = snapshot(CONFIG, &doc, &[]);
    let known: Vec<KnownRow> = upserts(&first.page)
        .into_iter()
        .zip(&first.digests)
        .map(|(id, d)| KnownRow {
            stock_id: id.into(),
            digest: d.clone().unwrap(),
        })
        .collect();
    assert!(snapshot(CONFIG, &doc, &known).page.changes.is_empty());

    let swapped = {
        // Make and Model swapped in the header and in every row: the same vehicles.
        let mut out = String::new();
        for line in doc.lines() {
            let mut cells: Vec<&str> = line.splitn(4, ',').collect();
            cells.swap(1, 2);
            writeln!(out, "{}", cells.join(",")).unwrap();
        }
        out
    };
    let renamed = doc.replacen("Price", "Retail Price", 1);
    let semicolons = stock_doc_delimited(10, ';');
    let config_compact = r#"{"dealer_id":"dealer-1"}"#;
    for (what, config, doc) in [
        ("column order", CONFIG, swapped.as_str()),
        ("renamed column", CONFIG, renamed.as_str()),
        ("config string", config_compact, doc.as_str()),
        ("delimiter", CONFIG, semicolons.as_str()),
    ] {
        let page = snapshot(config, doc, &known);
        assert!(page.unchanged.is_empty(), "{what}");
        assert_eq!(page.page.changes.len(), 10, "{what}");
        assert!(page.digests.iter().all(Option::is_some), "{what}");
        // The vehicles themselves are the same: only the digests moved.
        assert_eq!(
            pull_json(&Ok(page.page.clone())),
            pull_json(&Ok(first.page.clone())),
            "{what}"
        );
    }
}

#[test]
fn rows_with_issues_have_no_digest_and_are_reported_again() {
    let doc = "StockNo,Make,Mileage\nA,Ford,\"45,000\"\nB,Ford,£12\nC,Kia,10\n";
    let mut host = Host::default();
    let first = host.pull(CONFIG, doc);
    assert_eq!(upserts(&first.page), ["A", "B", "C"]);
    assert!(first.digests[0].is_some() && first.digests[1].is_none());
    assert_eq!(issues(&first.page), [(3, Some("B"), Some("mileage"))]);
    assert_eq!(host.known.len(), 2);

    let second = host.pull(CONFIG, doc);
    assert_eq!(upserts(&second.page), ["B"]);
    assert_eq!(second.digests, [None]);
    assert_eq!(issues(&second.page), [(3, Some("B"), Some("mileage"))]);
    assert_eq!(host.unchanged_ids().len(), 2);
}

#[test]
fn a_repeated_line_is_a_duplicate_every_time() {
    let doc = "StockNo,Make\nD1,Ford\nD2,Kia\nD1,Ford\n";
    let mut host = Host::default();
    let first = host.pull(CONFIG, doc);
    assert_eq!(upserts(&first.page), ["D1", "D2"]);
    assert_eq!(issues(&first.page), [(4, Some("D1"), Some("stock-id"))]);

    let second = host.pull(CONFIG, doc);
    assert!(second.page.changes.is_empty());
    assert_eq!(second.unchanged.len(), 2);
    assert_eq!(issues(&second.page), [(4, Some("D1"), Some("stock-id"))]);
    assert!(second.page.issues[0]
        .message
        .contains("first seen at record 2"));
}

#[test]
fn an_unchanged_row_after_its_stock_id_is_a_duplicate() {
    let mut host = Host::default();
    host.pull(CONFIG, "StockNo,Make\nS,Ford\n");
    // The stored row comes second, after a new row with the same stock id:
    // the first occurrence wins, as in `pull`.
    let page = host.pull(CONFIG, "StockNo,Make\nS,Kia\nS,Ford\n");
    assert!(page.unchanged.is_empty());
    assert_eq!(upserts(&page.page), ["S"]);
    assert_eq!(issues(&page.page), [(3, Some("S"), Some("stock-id"))]);
    assert_eq!(
        pull_json(&Ok(page.page.clone())),
        pull_json(&pull(CONFIG, "StockNo,Make\nS,Kia\nS,Ford\n"))
    );
}

#[test]
fn a_truncated_last_row_is_never_unchanged() {
    let mut host = Host::default();
    host.pull(
        CONFIG,
        "StockNo,Make,Description\nT1,Ford,Fine\nT2,Kia,Nice car\n",
    );
    assert_eq!(host.known.len(), 2);
    // The same fields, but the quoted field never closes.
    let page = host.pull(
        CONFIG,
        "StockNo,Make,Description\nT1,Ford,Fine\nT2,Kia,\"Nice car",
    );
    assert_eq!(host.unchanged_ids(), ["T1"]);
    assert!(page.page.changes.is_empty());
    assert_eq!(issues(&page.page), [(3, Some("T2"), None)]);

    let mut host = Host::default();
    host.pull(CONFIG, "StockNo,Make,Model\nT1,Ford,Ka\nT2,Kia\n");
    assert_eq!(host.known.len(), 2);
    // A short last record without a line break.
    let page = host.pull(CONFIG, "StockNo,Make,Model\nT1,Ford,Ka\nT2,Kia");
    assert_eq!(host.unchanged_ids(), ["T1"]);
    assert_eq!(issues(&page.page), [(3, Some("T2"), None)]);
}

#[test]
fn vanished_rows_are_not_unchanged() {
    let doc = stock_doc(5);
    let mut host = Host::default();
    host.pull(CONFIG, &doc);
    let before = host.known.clone();
    let fewer: String =
        doc.lines()
            .filter(|l| !l.starts_with("S2,"))
            .fold(String::new(), |mut out, l| {
                writeln!(out, "{l}").unwrap();
                out
            });
    let page = snapshot(CONFIG, &fewer, &before);
    assert!(page.page.changes.is_empty());
    let ids: BTreeSet<&str> = page
        .unchanged
        .iter()
        .map(|&i| before[i as usize].stock_id.as_str())
        .collect();
    assert_eq!(ids, BTreeSet::from(["S0", "S1", "S3", "S4"]));
}

#[test]
fn unknown_digests_are_ignored() {
    let doc = stock_doc(3);
    let known = vec![KnownRow {
        stock_id: "S0".into(),
        digest: "not a digest".into(),
    }];
    let page = snapshot(CONFIG, &doc, &known);
    assert!(page.unchanged.is_empty());
    assert_eq!(upserts(&page.page), ["S0", "S1", "S2"]);
}

#[test]
fn the_vehicle_limit_counts_unchanged_rows() {
    let mut doc = String::from("StockNo\n");
    for i in 0..50_000 {
        writeln!(doc, "V{i}").unwrap();
    }
    let mut host = Host::default();
    host.pull(CONFIG, &doc);
    let page = host.pull(CONFIG, &doc);
    assert_eq!(page.unchanged.len(), 50_000);
    doc.push_str("V50000\n");
    let e = try_snapshot(CONFIG, doc.as_bytes(), &host.known).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("document"));
    assert!(
        e.message.contains("more than 50000 vehicles"),
        "{}",
        e.message
    );
}

#[test]
fn errors_are_those_of_pull() {
    let e = CsvExport::pull_snapshot(
        PullRequest {
            config: CONFIG.into(),
            cursor: None,
            document: None,
        },
        vec![],
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("document"));
    let e = try_snapshot("{}", b"StockNo\nA\n", &[]).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("config"));
}
