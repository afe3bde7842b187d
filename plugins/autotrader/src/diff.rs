//! The JSON deep diff that turns "what was published" and "what should be
//! published" into an Auto Trader PATCH (merge-patch semantics).
//!
//! - Objects are compared key by key, recursively; only what changed is kept.
//! - Arrays are compared whole and, when they differ, sent whole: Auto Trader
//!   replaces `features` and `media.images` as a unit, in the order given.
//! - A key that is gone is sent as `null` (which removes it).
//! - An absent key and a `null` are the same thing (merge-patch cannot tell
//!   them apart), so neither direction is a change.

use serde_json::{Map, Value};

/// The merge patch that turns `old` into `new`, or `None` when nothing differs.
pub fn diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let patch = diff_objects(old, new);
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

fn diff_objects(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut patch = Map::new();
    for (key, value) in new {
        match old.get(key) {
            None | Some(Value::Null) if value.is_null() => {}
            None | Some(Value::Null) => {
                patch.insert(key.clone(), value.clone());
            }
            Some(before) => {
                if let Some(change) = diff(before, value) {
                    patch.insert(key.clone(), change);
                }
            }
        }
    }
    for (key, before) in old {
        if !new.contains_key(key) && !before.is_null() {
            patch.insert(key.clone(), Value::Null);
        }
    }
    patch
}

/// The patch that makes an item whose last known state was `old` (if any)
/// equal to `new`: all of `new`, plus `null` for every key of `old` that
/// `new` no longer has. Used when the platform's copy may have drifted from
/// `old` (a re-listed vehicle), so a diff would be too little.
pub fn full(old: Option<&Value>, new: &Value) -> Value {
    let Some(old) = old else {
        return new.clone();
    };
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let mut patch = Map::new();
            for (key, value) in new {
                let value = match old.get(key) {
                    Some(before @ Value::Object(_)) if value.is_object() => {
                        full(Some(before), value)
                    }
                    _ => value.clone(),
                };
                patch.insert(key.clone(), value);
            }
            for (key, before) in old {
                if !new.contains_key(key) && !before.is_null() {
                    patch.insert(key.clone(), Value::Null);
                }
            }
            Value::Object(patch)
        }
        _ => new.clone(),
    }
}

/// Apply a merge patch (RFC 7386), as Auto Trader does. For tests and for
/// checking that a diff round-trips.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
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
