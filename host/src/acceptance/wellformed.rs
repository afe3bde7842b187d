//! Whether a rendered feed is well-formed for the content type it declares.

/// `Ok(what was checked)` or `Err(what is wrong and where)`.
pub fn check(content_type: &str, body: &[u8]) -> Result<String, String> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let text = || std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"));
    match essence.as_str() {
        "text/tab-separated-values" => delimited(text()?, b'\t', "TSV"),
        "text/csv" => delimited(text()?, b',', "CSV"),
        "application/json" | "application/ld+json" | "application/feed+json" => {
            serde_json::from_str::<serde_json::Value>(text()?)
                .map(|_| "one JSON document".to_string())
                .map_err(|e| format!("not JSON: {e}"))
        }
        "application/x-ndjson" | "application/jsonl" | "application/json-seq" => {
            let mut n = 0;
            for (i, line) in text()?.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                serde_json::from_str::<serde_json::Value>(line)
                    .map_err(|e| format!("line {}: not JSON: {e}", i + 1))?;
                n += 1;
            }
            Ok(format!("{n} JSON line(s)"))
        }
        t if t.ends_with("/xml") || t.ends_with("+xml") => xml(text()?),
        t if t.starts_with("text/") => {
            text().map(|_| "UTF-8 text (no structure check for this type)".into())
        }
        _ => Ok(format!(
            "{} bytes (no structure check for {essence})",
            body.len()
        )),
    }
}

/// Every record has as many fields as the header, quoting is balanced.
fn delimited(text: &str, delimiter: u8, name: &str) -> Result<String, String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        // TSV feeds (Google's) carry quotes as data; CSV quotes fields.
        .quoting(delimiter == b',')
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("{name} header: {e}"))?
        .len();
    let mut rows = 0;
    for record in reader.records() {
        record.map_err(|e| format!("{name}: {e}"))?;
        rows += 1;
    }
    if text.is_empty() {
        return Err(format!("empty {name}: not even a header row"));
    }
    Ok(format!("{name} with {headers} column(s) and {rows} row(s)"))
}

/// Well-formed XML: one root element, every tag closed in order.
fn xml(text: &str) -> Result<String, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth: usize = 0;
    let mut roots = 0;
    let mut elements = 0;
    loop {
        let position = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
                elements += 1;
            }
            Ok(Event::Empty(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                elements += 1;
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Text(t)) => {
                if depth == 0 && !t.iter().all(|b| b.is_ascii_whitespace()) {
                    return Err(format!("text outside the root element at byte {position}"));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let predefined = ["lt", "gt", "amp", "apos", "quot"].contains(&name.as_str());
                let numeric =
                    name.starts_with('#') && r.resolve_char_ref().is_ok_and(|c| c.is_some());
                if !predefined && !numeric {
                    return Err(format!("undefined entity `&{name};` at byte {position}"));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("not well-formed XML at byte {position}: {e}")),
        }
    }
    if depth != 0 {
        return Err(format!("{depth} element(s) not closed at the end"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements; XML has exactly one"));
    }
    Ok(format!("well-formed XML, {elements} element(s)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(check("text/tab-separated-values", b"id\ttitle\n1\ta \"b\"\n").is_ok());
        assert!(check("text/tab-separated-values", b"id\ttitle\n1\n").is_err());
        assert!(check("text/csv", b"id,title\n1,\"a, b\"\n").is_ok());
        assert!(check("application/x-ndjson", b"{\"a\":1}\n{\"b\":2}\n")
            .unwrap()
            .starts_with("2 JSON"));
        assert!(check("application/x-ndjson", b"{\"a\":1}\n{oops\n")
            .unwrap_err()
            .starts_with("line 2"));
        assert!(check("application/ld+json", b"[1,2]").is_ok());
        assert!(check(
            "application/rss+xml",
            b"<?xml version=\"1.0\"?><rss><a>x &amp; y</a></rss>"
        )
        .is_ok());
        assert!(check("application/xml", b"<rss><a></rss>").is_err());
        assert!(check("application/xml", b"<rss><a>").is_err());
        assert!(check("application/xml", b"<a/><b/>").is_err());
        assert!(check("text/xml", b"<a>&nbsp;</a>")
            .unwrap_err()
            .contains("nbsp"));
        assert!(check("text/plain", &[0xff, 0xfe]).is_err());
    }
}
