//! A generic webhook partner at `/partner/listings`: the other side of the
//! `webhook` platform plugin's contract (docs/plugins/webhook.md), so
//! webhook-style plugins can be tried against the sandbox too (the
//! acceptance kit does). It takes one operation or a batch per POST, keeps
//! one listing per stock id, answers a repeated idempotency key with its
//! first answer, refuses the fault's `reject_fields`, and lists what it
//! holds with `GET` (`?page=` cursors). Request signatures are not checked.

use super::json::contains_path;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Items per `GET` page.
const PAGE_SIZE: usize = 50;

/// One listing as the partner holds it.
#[derive(Debug, Clone)]
struct Item {
    id: String,
    stock_id: String,
    state: &'static str,
    listing: Value,
}

/// What the partner holds: listings in creation order and the answer given
/// to each idempotency key.
#[derive(Debug, Default)]
pub(crate) struct PartnerStore {
    items: Vec<Item>,
    answers: HashMap<String, (u16, Value)>,
}

/// An answer: status and JSON body.
pub(crate) type Answer = (u16, Value);

impl PartnerStore {
    /// Forget everything.
    pub(crate) fn clear(&mut self) {
        *self = PartnerStore::default();
    }

    /// Listings held for a stock id that are not removed (for tests: more
    /// than one means a client created twice).
    pub(crate) fn live_count(&self, stock_id: &str) -> usize {
        self.items
            .iter()
            .filter(|i| i.stock_id == stock_id && i.state != "removed")
            .count()
    }

    /// `POST /partner/listings`: one operation, or `{"operations": [...]}`.
    pub(crate) fn post(&mut self, body: &[u8], reject_fields: &[String]) -> Answer {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return (400, json!({"error": "the body is not JSON"}));
        };
        match value.get("operations").and_then(Value::as_array) {
            Some(ops) => {
                let results: Vec<Value> = ops
                    .iter()
                    .map(|op| {
                        let key = op["idempotency_key"].clone();
                        let (status, answer) = self.operation(op, reject_fields);
                        if (200..300).contains(&status) {
                            json!({"idempotency_key": key, "id": answer["id"]})
                        } else {
                            json!({"idempotency_key": key, "error": {
                                "status": status,
                                "message": answer["message"],
                                "field": answer["field"],
                            }})
                        }
                    })
                    .collect();
                (200, json!({ "results": results }))
            }
            None => self.operation(&value, reject_fields),
        }
    }

    fn operation(&mut self, op: &Value, reject_fields: &[String]) -> Answer {
        let Some(key) = op["idempotency_key"].as_str().filter(|k| !k.is_empty()) else {
            return refuse(400, "idempotency_key", "is required");
        };
        if let Some(answer) = self.answers.get(key) {
            return answer.clone();
        }
        let answer = self.apply(op, reject_fields);
        // A refusal caused by the data is final; remember every answer, as
        // the contract asks a partner to answer a repeated key the same way.
        self.answers.insert(key.to_string(), answer.clone());
        answer
    }

    fn apply(&mut self, op: &Value, reject_fields: &[String]) -> Answer {
        if let Some(field) = reject_fields.iter().find(|f| contains_path(op, f)) {
            return refuse(400, field, "this field is not accepted");
        }
        let Some(stock_id) = op["stock_id"].as_str().filter(|s| !s.is_empty()) else {
            return refuse(400, "stock_id", "is required");
        };
        let operation = op["operation"].as_str().unwrap_or_default();
        let existing = self
            .items
            .iter()
            .position(|i| i.stock_id == stock_id && i.state != "removed");
        let state = match operation {
            "create" | "update" | "unreserve" => "live",
            "reserve" => "reserved",
            "remove" if op["status"] == "sold" => "sold",
            "remove" => "removed",
            other => return refuse(400, "operation", &format!("`{other}` is not an operation")),
        };
        if operation == "remove" {
            let Some(n) = existing else {
                return refuse(404, "stock_id", "no such listing");
            };
            self.items[n].state = state;
            return (200, json!({"id": self.items[n].id}));
        }
        if !op["listing"].is_object() {
            return refuse(422, "listing", "an object is required for this operation");
        }
        let listing = op["listing"].clone();
        match existing {
            Some(n) => {
                self.items[n].state = state;
                self.items[n].listing = listing;
                (200, json!({"id": self.items[n].id}))
            }
            None => {
                let id = format!("P-{}", 1001 + self.items.len());
                self.items.push(Item {
                    id: id.clone(),
                    stock_id: stock_id.to_string(),
                    state,
                    listing,
                });
                (201, json!({ "id": id }))
            }
        }
    }

    /// `GET /partner/listings[?page=N]`: every listing not removed.
    pub(crate) fn list(&self, page: Option<&str>) -> Answer {
        let Ok(page) = page.unwrap_or("0").parse::<usize>() else {
            return refuse(400, "page", "is not a page number");
        };
        let shown: Vec<&Item> = self.items.iter().filter(|i| i.state != "removed").collect();
        let items: Vec<Value> = shown
            .iter()
            .skip(page * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|i| json!({"id": i.id, "stock_id": i.stock_id, "state": i.state, "listing": i.listing}))
            .collect();
        let next = ((page + 1) * PAGE_SIZE < shown.len()).then(|| (page + 1).to_string());
        (200, json!({ "items": items, "next": next }))
    }
}

fn refuse(status: u16, field: &str, message: &str) -> Answer {
    (
        status,
        json!({"error": format!("{field}: {message}"), "field": field, "message": message}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: &str, key: &str, stock: &str) -> Vec<u8> {
        json!({"operation": kind, "idempotency_key": key, "stock_id": stock, "status": "in-stock",
               "listing": {"make": "Ford", "colour": "Red"}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_repeated_key_gets_the_first_answer_and_no_second_listing() {
        let mut p = PartnerStore::default();
        let first = p.post(&op("create", "k1", "S1"), &[]);
        assert_eq!(first.0, 201);
        assert_eq!(p.post(&op("create", "k1", "S1"), &[]), first);
        assert_eq!(p.live_count("S1"), 1);
        let (status, page) = p.list(None);
        assert_eq!(status, 200);
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_eq!(page["next"], Value::Null);
    }

    #[test]
    fn refused_fields_and_batches() {
        let mut p = PartnerStore::default();
        let refused = p.post(&op("create", "k1", "S1"), &["listing.colour".into()]);
        assert_eq!(refused.0, 400);
        assert_eq!(refused.1["field"], "listing.colour");
        let batch = json!({"idempotency_key": "b", "operations": [
            serde_json::from_slice::<Value>(&op("create", "k2", "S2")).unwrap(),
            serde_json::from_slice::<Value>(&op("remove", "k3", "S9")).unwrap(),
        ]});
        let (status, answer) = p.post(batch.to_string().as_bytes(), &[]);
        assert_eq!(status, 200);
        assert_eq!(answer["results"][0]["id"], "P-1001");
        assert_eq!(answer["results"][1]["error"]["status"], 404);
    }

    #[test]
    fn pages_through_many() {
        let mut p = PartnerStore::default();
        for n in 0..120 {
            p.post(&op("create", &format!("k{n}"), &format!("S{n}")), &[]);
        }
        let (_, first) = p.list(None);
        assert_eq!(first["next"], "1");
        let (_, last) = p.list(Some("2"));
        assert_eq!(last["items"].as_array().unwrap().len(), 20);
        assert_eq!(last["next"], Value::Null);
    }
}
