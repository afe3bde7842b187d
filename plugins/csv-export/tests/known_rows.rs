//! `pull-snapshot` with `known`: the rows it skips without parsing them.
//!
//! With `known`, lines that are whole records are looked up by the digest of
//! their bytes without going through the CSV parser, and only the other
//! records are parsed. These tests check that this never changes what a
//! pull reports: on tricky documents (a second pull of the same document
//! skips every clean row and reports the same issues), and on random ones
//! (a second pull of a changed document gives the vehicles and issues of a
//! plain `pull` of it).

use std::collections::BTreeMap;
use std::path::Path;

use forecourt_plugin_csv_export::{parse, CsvExport};
use forecourt_sdk::testkit::pull_json;
use forecourt_sdk::{
    Change, KnownRow, PluginError, PullPage, PullRequest, SnapshotPage, SnapshotSource, Source,
    Vehicle,
};
use proptest::prelude::*;

mod common;
use common::CONFIG;
const NO_HEADER: &str =
    r#"{"dealer_id": "dealer-1", "has_header": false, "columns": {"stock-id": 0, "make": 1}}"#;

fn request(config: &str, doc: &[u8]) -> PullRequest {
    PullRequest {
        config: config.into(),
        cursor: None,
        document: Some(doc.to_vec()),
    }
}

fn pull(config: &str, doc: &[u8]) -> Result<PullPage, PluginError> {
    CsvExport::pull(request(config, doc))
}

fn snapshot(config: &str, doc: &[u8], known: &[KnownRow]) -> Result<SnapshotPage, PluginError> {
    CsvExport::pull_snapshot(request(config, doc), known.to_vec())
}

fn vehicles(page: &PullPage) -> Vec<&Vehicle> {
    page.changes
        .iter()
        .map(|c| match c {
            Change::Upsert(v) => v,
            Change::Remove(id) => panic!("a snapshot source never removes ({id})"),
        })
        .collect()
}

/// What the host keeps from a pull: each upsert that came with a digest.
fn known_of(page: &SnapshotPage) -> Vec<KnownRow> {
    vehicles(&page.page)
        .into_iter()
        .zip(&page.digests)
        .filter_map(|(v, d)| {
            Some(KnownRow {
                stock_id: v.stock_id.clone(),
                digest: d.clone()?,
            })
        })
        .collect()
}

/// A known row no document has: `known` is never empty with it, so the
/// pull always takes the path that skips rows.
fn stranger() -> KnownRow {
    KnownRow {
        stock_id: "not-in-any-document".into(),
        digest: "0123456789abcdef0123456789abcdef".into(),
    }
}

fn debug<T: std::fmt::Debug>(items: &[T]) -> Vec<String> {
    items.iter().map(|i| format!("{i:?}")).collect()
}

/// Tricky documents, each with its configuration.
fn documents() -> Vec<(String, String, Vec<u8>)> {
    let mut docs = common::fixtures();
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            "StockNo\tMake\r\nU1\tFord\r\nU2\t\"K\r\nia\"\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let synthetic: [(&str, &str, &[u8]); 27] = [
        (
            "quoted line breaks",
            CONFIG,
            b"StockNo,Make,Description\nA,Ford,\"line1\nline2\"\nB,Kia,\"x\r\ny\"\nC,Fiat,plain\nD,Seat,\"\n\"\n",
        ),
        ("crlf", CONFIG, b"StockNo,Make\r\nA,Ford\r\nB,Kia\r\n"),
        ("lone cr", CONFIG, b"StockNo,Make\rA,Ford\rB,Kia\r"),
        (
            "mixed line breaks",
            CONFIG,
            b"StockNo,Make\r\nA,Ford\nB,Kia\rC,Fiat\r\nD,Seat\n\rE,Audi\r\r\nF,BMW\n",
        ),
        (
            "blank lines",
            CONFIG,
            b"\n\r\nStockNo,Make\n\nA,Ford\n\r\n\nB,Kia\n\n\n\r\n\r",
        ),
        ("bom", CONFIG, b"\xef\xbb\xbfStockNo,Make\nA,Ford\nB,Kia\n"),
        (
            "excel sep",
            CONFIG,
            b"sep=;\r\nStockNo;Make;Price\r\nA;Ford;\"\xc2\xa31.000\"\r\nB;\"Ki;a\";\xc2\xa32\r\n",
        ),
        (
            "no final line break",
            CONFIG,
            b"StockNo,Make\nA,Ford\nB,Kia",
        ),
        (
            "final quoted field, no final line break",
            CONFIG,
            b"StockNo,Make\nA,Ford\nB,\"Kia\"",
        ),
        (
            "short last record",
            CONFIG,
            b"StockNo,Make,Model\nA,Ford,Ka\nB,Kia",
        ),
        (
            "short last record, quoted",
            CONFIG,
            b"StockNo,Make,Model\nA,Ford,Ka\nB,\"Kia\"",
        ),
        (
            "truncated quoted field",
            CONFIG,
            b"StockNo,Make,Description\nA,Ford,ok\nB,Kia,\"never closed\nmore\n",
        ),
        (
            "truncated quoted field, last byte a quote",
            CONFIG,
            b"StockNo,Make,Description\nA,Ford,ok\nB,Kia,\"closed\"\"",
        ),
        (
            "duplicates",
            CONFIG,
            b"StockNo,Make\nD,Ford\nE,Kia\nD,Ford\nD,Fiat\nE,Kia\r\nF,Seat\n",
        ),
        (
            "rows with issues",
            CONFIG,
            "StockNo,Make,Mileage,Price\nA,Ford,\"45,000\",£5000\nB,Ford,£12,£1\n,Kia,1,2\nC,Kia,10,abc\n"
                .as_bytes(),
        ),
        (
            "literal quotes",
            CONFIG,
            b"StockNo,Make,Model\nA,Ford,5\" wheels\nB,\"Kia\"x\"y\",Ceed\nC,\"Fi\"\"at\",Panda\nD,\"\"\"\",x\nE,x\"\"\n",
        ),
        (
            "header with a quoted line break",
            CONFIG,
            b"StockNo,\"Ma\r\nke\"\nA,Ford\nB,Kia\n",
        ),
        (
            "blank rows",
            CONFIG,
            b"StockNo,Make\nA,Ford\n  ,  \n,\n \nB,Kia\n",
        ),
        (
            "carriage return in a quoted field",
            CONFIG,
            b"StockNo,Make\nA,\"Fo\rrd\"\nB,Kia\n",
        ),
        (
            "quoted line breaks at the line ends",
            CONFIG,
            b"StockNo,Make\r\nA,\"Ford\"\r\nB,\"Kia\r\n\"\r\nC,\"Fiat\n\"\n",
        ),
        ("lone cr at the end", CONFIG, b"StockNo,Make\nA,Ford\r"),
        ("no header", NO_HEADER, b"A,Ford\nB,\"Kia\"\n\nA,Fiat\nC"),
        (
            "no header, quoted first record",
            NO_HEADER,
            b"\"A\",\"Fo\nrd\"\nB,Kia\n",
        ),
        ("no header, one record", NO_HEADER, b"A,Ford\n"),
        ("header only", CONFIG, b"StockNo,Make\n"),
        ("empty header field", CONFIG, b"StockNo,Make,\nA,Ford,x\nB,Kia\n"),
        ("utf-16", CONFIG, &utf16),
    ];
    for (name, config, doc) in synthetic {
        docs.push((name.to_string(), config.to_string(), doc.to_vec()));
    }
    docs
}

#[test]
fn a_second_pull_skips_every_clean_row_of_tricky_documents() {
    let mut skipped = 0;
    for (name, config, doc) in documents() {
        let first = snapshot(&config, &doc, &[]);
        let plain = pull(&config, &doc);
        assert_eq!(
            pull_json(&first.as_ref().map(|f| f.page.clone()).map_err(Clone::clone)),
            pull_json(&plain),
            "{name}"
        );
        // Without a match in `known`, the skipping path gives `pull`'s page
        // and the same digests.
        let unmatched = snapshot(&config, &doc, &[stranger()]);
        assert_eq!(
            pull_json(
                &unmatched
                    .as_ref()
                    .map(|f| f.page.clone())
                    .map_err(Clone::clone)
            ),
            pull_json(&plain),
            "{name}"
        );
        let (Ok(first), Ok(unmatched)) = (first, unmatched) else {
            continue;
        };
        assert!(unmatched.unchanged.is_empty(), "{name}");
        assert_eq!(unmatched.digests, first.digests, "{name}");

        let mut known = known_of(&first);
        let clean = known.len();
        known.push(stranger());
        let second = snapshot(&config, &doc, &known).unwrap();
        let mut unchanged = second.unchanged.clone();
        unchanged.sort_unstable();
        assert_eq!(
            unchanged,
            (0..clean as u32).collect::<Vec<_>>(),
            "{name}: every clean row is unchanged"
        );
        // Only the rows with issues (no digest) are built again.
        let rebuilt: Vec<&Vehicle> = vehicles(&first.page)
            .into_iter()
            .zip(&first.digests)
            .filter(|(_, d)| d.is_none())
            .map(|(v, _)| v)
            .collect();
        assert_eq!(
            debug(&vehicles(&second.page)),
            debug(&rebuilt),
            "{name}: upserts"
        );
        assert!(second.digests.iter().all(Option::is_none), "{name}");
        assert_eq!(
            debug(&second.page.issues),
            debug(&first.page.issues),
            "{name}: issues"
        );
        skipped += clean;
    }
    assert!(skipped > 50, "only {skipped} rows skipped");
}

#[test]
fn unchanged_lines_are_not_parsed() {
    let canonical =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/canonical.csv"))
            .unwrap();
    let cases: [(&str, &[u8], u32, u32); 8] = [
        // (config, document, records, records parsed on the second pull)
        (CONFIG, &canonical, 7, 1),
        (
            CONFIG,
            b"StockNo,Make,Model\r\nA,Ford,\"\xc2\xa31,000\"\r\nB,Kia,x\rC,Fiat,\"a \"\"b\"\"\"\n\nD,Seat,5\" wheels\n",
            5,
            1,
        ),
        (CONFIG, b"StockNo,Make\nA,\"x\ny\"\nB,Kia\n", 3, 2),
        (CONFIG, b"StockNo,Make\nA,Ford\nB,Kia", 3, 2),
        (CONFIG, b"StockNo,Make\nA,\"Fo\rrd\"\nB,Kia\n", 3, 2),
        (CONFIG, b"sep=;\nStockNo;Make\nA;\"Ford;\"\nB;Kia\n", 3, 1),
        // Without a header row the first record is parsed: it sets the width.
        (NO_HEADER, b"A,Ford\nB,Kia\nC,Fiat\n", 3, 1),
        // A repeated line is parsed: its known row is already claimed.
        (CONFIG, b"StockNo,Make\nA,Ford\nA,Ford\n", 3, 2),
    ];
    for (config, doc, records, parsed) in cases {
        let name = String::from_utf8_lossy(doc);
        let first = parse::parse(config, Some(doc.to_vec()), &[]).unwrap();
        assert_eq!(first.stats.records, records, "{name}");
        assert_eq!(first.stats.parsed, records, "{name}");
        let page = SnapshotPage {
            page: first.page,
            digests: first.digests,
            unchanged: first.unchanged,
        };
        let second = parse::parse(config, Some(doc.to_vec()), &known_of(&page)).unwrap();
        assert_eq!(second.stats.records, records, "{name}");
        assert_eq!(second.stats.parsed, parsed, "{name}");
        assert_eq!(second.unchanged.len(), known_of(&page).len(), "{name}");
    }
}

/// One row of a random document: bytes from a small alphabet that has the
/// characters the CSV parser treats specially.
fn row() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            6 => prop::sample::select(vec!["a", "b", "1", "ab"]),
            2 => Just(","),
            2 => Just("\""),
            1 => Just(" "),
            1 => Just("\r"),
            1 => Just("\n"),
            1 => Just("\r\n"),
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

fn line_break() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["\n", "\n", "\n", "\r\n", "\r\n", "\r", ""])
}

/// A random document's rows: each row and its line break, and whether
/// (and to what) it changes in the second document.
type Rows = Vec<((String, &'static str), Option<(String, &'static str)>)>;

fn rows() -> impl Strategy<Value = Rows> {
    prop::collection::vec(
        (
            (row(), line_break()),
            prop::option::weighted(0.3, (row(), line_break())),
        ),
        0..12,
    )
}

fn document(header: Option<&str>, rows: &[(String, &str)]) -> Vec<u8> {
    let mut doc = String::new();
    if let Some(header) = header {
        doc.push_str(header);
    }
    for (row, line_break) in rows {
        doc.push_str(row);
        doc.push_str(line_break);
    }
    doc.into_bytes()
}

/// The second pull, with the first's digests, reports what a plain `pull`
/// of the second document reports: the same issues, and the same vehicles
/// once the unchanged rows are taken from the first pull.
fn check_second_pull(config: &str, first_doc: &[u8], second_doc: &[u8]) {
    let plain = pull(config, second_doc);
    let (mut known, stored) = match snapshot(config, first_doc, &[]) {
        Ok(first) => {
            // The vehicles the host stored, by stock id.
            let built: BTreeMap<&str, &Vehicle> = vehicles(&first.page)
                .into_iter()
                .map(|v| (v.stock_id.as_str(), v))
                .collect();
            assert_eq!(built.len(), first.page.changes.len());
            let known = known_of(&first);
            let stored: BTreeMap<String, String> = known
                .iter()
                .map(|k| {
                    (
                        k.stock_id.clone(),
                        format!("{:?}", built[k.stock_id.as_str()]),
                    )
                })
                .collect();
            (known, stored)
        }
        Err(_) => (Vec::new(), BTreeMap::new()),
    };
    known.push(stranger());
    compare(config, second_doc, &known, &stored, &plain);
}

fn compare(
    config: &str,
    doc: &[u8],
    known: &[KnownRow],
    stored: &BTreeMap<String, String>,
    plain: &Result<PullPage, PluginError>,
) {
    let second = snapshot(config, doc, known);
    let (second, plain) = match (second, plain) {
        (Ok(second), Ok(plain)) => (second, plain),
        (second, plain) => {
            assert_eq!(
                pull_json(&second.map(|s| s.page)),
                pull_json(plain),
                "{:?}",
                String::from_utf8_lossy(doc)
            );
            return;
        }
    };
    let doc = String::from_utf8_lossy(doc);
    assert_eq!(
        debug(&second.page.issues),
        debug(&plain.issues),
        "issues of {doc:?}"
    );
    assert_eq!(second.digests.len(), second.page.changes.len());
    // The upserts come in `pull`'s order, the unchanged rows in between.
    let expected: Vec<(&str, String)> = vehicles(plain)
        .into_iter()
        .map(|v| (v.stock_id.as_str(), format!("{v:?}")))
        .collect();
    let mut upserts = vehicles(&second.page).into_iter().peekable();
    let unchanged: BTreeMap<&str, u32> = second
        .unchanged
        .iter()
        .map(|&i| (known[i as usize].stock_id.as_str(), i))
        .collect();
    assert_eq!(unchanged.len(), second.unchanged.len(), "{doc:?}");
    for (id, vehicle) in &expected {
        if upserts.peek().is_some_and(|v| v.stock_id == *id) {
            assert_eq!(
                &format!("{:?}", upserts.next().unwrap()),
                vehicle,
                "{doc:?}"
            );
        } else {
            assert!(unchanged.contains_key(id), "{id} missing from {doc:?}");
            assert_eq!(&stored[*id], vehicle, "{doc:?}");
        }
    }
    assert!(upserts.next().is_none(), "{doc:?}");
    assert_eq!(
        second.page.changes.len() + second.unchanged.len(),
        expected.len(),
        "{doc:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_second_pull_reports_what_pull_does(
        rows in rows(),
        header_break in line_break(),
        has_header in prop::bool::weighted(0.8),
    ) {
        let header = format!("StockNo,Make,Model{header_break}");
        let (header, config) = if has_header {
            (Some(header.as_str()), CONFIG)
        } else {
            (None, NO_HEADER)
        };
        let first: Vec<(String, &str)> = rows.iter().map(|(r, _)| r.clone()).collect();
        let second: Vec<(String, &str)> = rows
            .iter()
            .map(|(r, change)| change.clone().unwrap_or_else(|| r.clone()))
            .collect();
        let first = document(header, &first);
        let second = document(header, &second);
        // The same document again, then the changed one.
        check_second_pull(config, &first, &first);
        check_second_pull(config, &first, &second);
    }
}
