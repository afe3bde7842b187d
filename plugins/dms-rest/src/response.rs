//! Reading one response of the stock list: the records, the pagination
//! hints, and each record's last-modified time. Names are recognised the
//! way the SDK recognises vehicle keys (case, `_` and `-` ignored), so
//! `next_cursor`, `nextCursor` and `NextCursor` are the same.

use forecourt_sdk::fields::header_key;
use serde_json::{Map, Value};

use crate::time::Instant;

/// Keys of the record list, when the response is an object.
const RECORD_KEYS: [&str; 6] = ["vehicles", "data", "items", "results", "stock", "records"];
/// Objects pagination details are often nested in.
const META_KEYS: [&str; 4] = ["meta", "pagination", "paging", "links"];
/// Keys of the next cursor or next-page URL.
const NEXT_KEYS: [&str; 5] = [
    "nextcursor",
    "nextpagetoken",
    "next",
    "cursornext",
    "nextpageurl",
];
/// Keys of a record's last-modified time.
const UPDATED_KEYS: [&str; 14] = [
    "updatedat",
    "updated",
    "lastmodified",
    "lastupdated",
    "lastupdatedat",
    "modifiedat",
    "modified",
    "lastmodifieddate",
    "datemodified",
    "updatedon",
    "modifiedon",
    "lastchanged",
    "changedat",
    "updatedtime",
];

fn member<'a>(object: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|want| {
        object
            .iter()
            .find(|(k, _)| header_key(k) == *want)
            .map(|(_, v)| v)
    })
}

/// `member` at the top of the response, else in its meta objects.
fn find<'a>(body: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    let object = body.as_object()?;
    member(object, keys).or_else(|| {
        META_KEYS.iter().find_map(|meta| {
            object
                .iter()
                .find(|(k, _)| header_key(k) == *meta)
                .and_then(|(_, v)| v.as_object())
                .and_then(|o| member(o, keys))
        })
    })
}

/// The list of records; the error says where it looked.
pub fn records<'a>(body: &'a Value, pointer: Option<&str>) -> Result<&'a [Value], String> {
    if let Some(pointer) = pointer {
        return match body.pointer(pointer) {
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(format!("the value at {pointer} is not a list")),
            None => Err(format!("the response has no value at {pointer}")),
        };
    }
    match body {
        Value::Array(items) => Ok(items),
        Value::Object(object) => member(object, &RECORD_KEYS)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .ok_or_else(|| {
                format!(
                    "the response has no list of vehicles (looked for {}; set `records` to its JSON pointer)",
                    RECORD_KEYS.join(", ")
                )
            }),
        _ => Err("the response is neither a list nor an object".into()),
    }
}

/// The next cursor (or next-page URL), when the response gives one.
pub fn next_cursor(body: &Value, pointer: Option<&str>) -> Option<String> {
    let value = match pointer {
        Some(p) => body.pointer(p),
        None => find(body, &NEXT_KEYS),
    }?;
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        // `links.next` may be an object with an href.
        Value::Object(o) => member(o, &["href", "url"])?.as_str()?.trim().to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// Whether the response says another page follows page `page`; `None` when
/// it does not say (the caller then compares the count with the page size).
pub fn more_pages(body: &Value, page: u32) -> Option<bool> {
    if let Some(Value::Bool(more)) = find(body, &["hasmore", "more", "hasnextpage"]) {
        return Some(*more);
    }
    if let Some(next) = find(body, &["nextpage"]) {
        return Some(!next.is_null() && next != &Value::Bool(false));
    }
    let total = find(body, &["totalpages", "pages", "lastpage", "pagecount"])?;
    let total = total
        .as_u64()
        .or_else(|| total.as_str().and_then(|s| s.trim().parse().ok()))?;
    Some(u64::from(page) < total)
}

/// A record's last-modified time; the error says why there is none.
pub fn updated_at(record: &Value, pointer: Option<&str>) -> Result<Instant, String> {
    let value = match (pointer, record.as_object()) {
        (Some(p), _) => record.pointer(p),
        (None, Some(object)) => member(object, &UPDATED_KEYS),
        (None, None) => None,
    };
    match value {
        None | Some(Value::Null) => Err(match pointer {
            Some(p) => format!("no updated_at at {p}"),
            None => {
                "no updated_at (looked for updated_at, updatedAt, last_modified and similar)".into()
            }
        }),
        Some(Value::String(s)) => Instant::parse(s).map_err(|e| format!("updated_at {e}")),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Instant::from_unix_number)
            .ok_or_else(|| format!("updated_at {n} is not a whole number of seconds")),
        Some(_) => Err("updated_at is neither a timestamp nor a number".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_records_where_apis_put_them() {
        assert_eq!(records(&json!([1, 2]), None).unwrap().len(), 2);
        assert_eq!(records(&json!({"data": [1]}), None).unwrap().len(), 1);
        assert_eq!(records(&json!({"Vehicles": []}), None).unwrap().len(), 0);
        assert_eq!(
            records(&json!({"result": {"stock": [1]}}), Some("/result/stock"))
                .unwrap()
                .len(),
            1
        );
        assert!(records(&json!({"cars": []}), None)
            .unwrap_err()
            .contains("`records`"));
        assert!(records(&json!({"data": {}}), Some("/data")).is_err());
    }

    #[test]
    fn finds_next_cursors_and_page_hints() {
        assert_eq!(
            next_cursor(&json!({"next_cursor": "abc"}), None).as_deref(),
            Some("abc")
        );
        assert_eq!(
            next_cursor(&json!({"meta": {"nextCursor": "x"}}), None).as_deref(),
            Some("x")
        );
        assert_eq!(
            next_cursor(
                &json!({"links": {"next": {"href": "https://d/v?p=2"}}}),
                None
            )
            .as_deref(),
            Some("https://d/v?p=2")
        );
        assert_eq!(next_cursor(&json!({"next_cursor": null}), None), None);
        assert_eq!(next_cursor(&json!({"next_cursor": ""}), None), None);
        assert_eq!(more_pages(&json!({"has_more": false}), 1), Some(false));
        assert_eq!(
            more_pages(&json!({"pagination": {"totalPages": 3}}), 2),
            Some(true)
        );
        assert_eq!(more_pages(&json!({"total_pages": 3}), 3), Some(false));
        assert_eq!(more_pages(&json!({"next_page": null}), 1), Some(false));
        assert_eq!(more_pages(&json!({"nextPage": 2}), 1), Some(true));
        assert_eq!(more_pages(&json!({"vehicles": []}), 1), None);
    }

    #[test]
    fn reads_updated_at_in_its_forms() {
        let want = Instant::parse("2024-05-01T10:00:00Z").unwrap();
        assert_eq!(
            updated_at(&json!({"updatedAt": "2024-05-01T10:00:00Z"}), None),
            Ok(want)
        );
        assert_eq!(
            updated_at(&json!({"last_modified": 1_714_557_600}), None),
            Ok(want)
        );
        assert_eq!(
            updated_at(
                &json!({"meta": {"ts": "2024-05-01T11:00:00+01:00"}}),
                Some("/meta/ts")
            ),
            Ok(want)
        );
        assert!(updated_at(&json!({"id": 1}), None)
            .unwrap_err()
            .contains("no updated_at"));
        assert!(updated_at(&json!({"updated_at": "soon"}), None).is_err());
    }
}
