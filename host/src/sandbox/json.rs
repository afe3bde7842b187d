//! JSON helpers shared by the store and the validator: merge-patch and
//! dotted-path lookups.

use serde_json::Value;

/// Apply `patch` to `target` the way Auto Trader treats a PATCH (RFC 7386
/// merge patch): objects merge key by key, `null` removes a key, anything
/// else (arrays included: images and features are sent whole) replaces.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(fields) = target {
        for (key, change) in changes {
            if change.is_null() {
                fields.remove(key);
            } else {
                merge(fields.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

/// The value at a dotted path (`"vehicle.make"`), if every step is an object key.
pub(crate) fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// The string at a dotted path, if there is one.
pub(crate) fn get_str<'a>(value: &'a Value, path: &str) -> Option<&'a str> {
    get(value, path).and_then(Value::as_str)
}

/// Whether a body mentions a dotted path at all (even as `null`). Arrays on
/// the way are looked through, so `media.images.href` matches any image.
pub(crate) fn contains_path(value: &Value, path: &str) -> bool {
    fn walk(value: &Value, keys: &[&str]) -> bool {
        let Some((first, rest)) = keys.split_first() else {
            return true;
        };
        match value {
            Value::Object(fields) => fields.get(*first).is_some_and(|v| walk(v, rest)),
            Value::Array(items) => items.iter().any(|v| walk(v, keys)),
            _ => false,
        }
    }
    let keys: Vec<&str> = path.split('.').filter(|k| !k.is_empty()).collect();
    !keys.is_empty() && walk(value, &keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_deep_merges_objects_replaces_arrays_and_removes_nulls() {
        let mut doc = json!({
            "vehicle": {"make": "Ford", "model": "Fiesta"},
            "adverts": {"reservationStatus": "Reserved", "retailAdverts": {"suppliedPrice": {"amountGBP": 9000}}},
            "media": {"images": [{"href": "a"}, {"href": "b"}]}
        });
        merge(
            &mut doc,
            &json!({
                "vehicle": {"model": "Focus"},
                "adverts": {"reservationStatus": null, "retailAdverts": {"suppliedPrice": {"amountGBP": 8500}}},
                "media": {"images": [{"href": "c"}]}
            }),
        );
        assert_eq!(
            doc,
            json!({
                "vehicle": {"make": "Ford", "model": "Focus"},
                "adverts": {"retailAdverts": {"suppliedPrice": {"amountGBP": 8500}}},
                "media": {"images": [{"href": "c"}]}
            })
        );
    }

    #[test]
    fn merge_into_a_scalar_makes_an_object() {
        let mut doc = json!({"vehicle": "oops"});
        merge(&mut doc, &json!({"vehicle": {"make": "Kia", "trim": null}}));
        assert_eq!(doc, json!({"vehicle": {"make": "Kia"}}));
    }

    #[test]
    fn paths() {
        let doc = json!({"vehicle": {"colour": null, "make": "Kia"}, "media": {"images": [{"href": "x"}]}});
        assert_eq!(get_str(&doc, "vehicle.make"), Some("Kia"));
        assert!(get(&doc, "vehicle.model").is_none());
        assert!(contains_path(&doc, "vehicle.colour"));
        assert!(contains_path(&doc, "media.images.href"));
        assert!(!contains_path(&doc, "vehicle.colour.name"));
        assert!(!contains_path(&doc, "vehicle.trim"));
        assert!(!contains_path(&doc, ""));
    }
}
