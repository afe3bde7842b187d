//! The JSON deep diff behind every update: only what changed, arrays whole,
//! removals as null, and a patch that merges back to the new document.

use forecourt_plugin_autotrader::diff::{diff, full, merge};
use serde_json::{json, Value};

fn doc() -> Value {
    json!({
        "vehicle": {"make": "Ford", "model": "Focus", "colour": "Red", "doors": 5},
        "adverts": {
            "reservationStatus": null,
            "retailAdverts": {
                "suppliedPrice": {"amountGBP": 12995},
                "autotraderAdvert": {"status": "PUBLISHED"}
            }
        },
        "features": [{"name": "A"}, {"name": "B"}],
        "media": {"images": [{"href": "1"}, {"href": "2"}, {"href": "3"}]}
    })
}

fn round_trips(old: &Value, new: &Value) {
    let mut merged = old.clone();
    if let Some(patch) = diff(old, new) {
        merge(&mut merged, &patch);
    }
    assert_eq!(strip_nulls(&merged), strip_nulls(new));
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn identical_documents_have_no_diff() {
    assert_eq!(diff(&doc(), &doc()), None);
    assert_eq!(diff(&json!(1), &json!(1)), None);
}

#[test]
fn only_changed_scalars_are_sent() {
    let mut new = doc();
    new["vehicle"]["colour"] = json!("Blue");
    new["adverts"]["retailAdverts"]["suppliedPrice"]["amountGBP"] = json!(11995);
    let patch = diff(&doc(), &new).unwrap();
    assert_eq!(
        patch,
        json!({
            "vehicle": {"colour": "Blue"},
            "adverts": {"retailAdverts": {"suppliedPrice": {"amountGBP": 11995}}}
        })
    );
    round_trips(&doc(), &new);
}

#[test]
fn arrays_are_sent_whole_when_they_differ() {
    let mut new = doc();
    new["media"]["images"] = json!([{"href": "2"}, {"href": "1"}, {"href": "3"}]);
    assert_eq!(
        diff(&doc(), &new).unwrap(),
        json!({"media": {"images": [{"href": "2"}, {"href": "1"}, {"href": "3"}]}})
    );
    let mut new = doc();
    new["features"] = json!([{"name": "A"}]);
    assert_eq!(
        diff(&doc(), &new).unwrap(),
        json!({"features": [{"name": "A"}]})
    );
    let mut new = doc();
    new["features"] = json!([]);
    assert_eq!(diff(&doc(), &new).unwrap(), json!({"features": []}));
    round_trips(&doc(), &new);
}

#[test]
fn removed_keys_become_null() {
    let mut new = doc();
    new["vehicle"].as_object_mut().unwrap().remove("colour");
    new.as_object_mut().unwrap().remove("media");
    assert_eq!(
        diff(&doc(), &new).unwrap(),
        json!({"vehicle": {"colour": null}, "media": null})
    );
    round_trips(&doc(), &new);
}

#[test]
fn null_and_absent_are_the_same() {
    let mut new = doc();
    new["adverts"]
        .as_object_mut()
        .unwrap()
        .remove("reservationStatus");
    assert_eq!(diff(&doc(), &new), None);
    assert_eq!(diff(&new, &doc()), None);
}

#[test]
fn setting_and_clearing_a_value() {
    let mut reserved = doc();
    reserved["adverts"]["reservationStatus"] = json!("Reserved");
    assert_eq!(
        diff(&doc(), &reserved).unwrap(),
        json!({"adverts": {"reservationStatus": "Reserved"}})
    );
    assert_eq!(
        diff(&reserved, &doc()).unwrap(),
        json!({"adverts": {"reservationStatus": null}})
    );
}

#[test]
fn new_objects_and_type_changes_are_sent_whole() {
    let mut new = doc();
    new["adverts"]["retailAdverts"]["forecourtPrice"] = json!({"amountGBP": 12000});
    new["vehicle"]["doors"] = json!("five");
    assert_eq!(
        diff(&doc(), &new).unwrap(),
        json!({
            "vehicle": {"doors": "five"},
            "adverts": {"retailAdverts": {"forecourtPrice": {"amountGBP": 12000}}}
        })
    );
    round_trips(&doc(), &new);
}

#[test]
fn full_sends_everything_and_removes_what_is_gone() {
    let mut new = doc();
    new["vehicle"].as_object_mut().unwrap().remove("colour");
    let patch = full(Some(&doc()), &new);
    assert_eq!(patch["vehicle"]["colour"], Value::Null);
    assert_eq!(patch["vehicle"]["make"], "Ford");
    assert_eq!(patch["media"], doc()["media"]);
    assert_eq!(full(None, &new), new);
    let mut merged = json!({"vehicle": {"colour": "Red", "make": "Old"}, "extra": 1});
    merge(&mut merged, &patch);
    assert_eq!(merged["vehicle"].get("colour"), None);
    assert_eq!(merged["vehicle"]["make"], "Ford");
}
