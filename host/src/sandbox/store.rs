//! What was published: per advertiser, the stock items in creation order,
//! each kept as the document the API returns for it.

use super::auth::hex;
use super::validate::Warning;
use super::{clock, json};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::SystemTime;

/// Why the store refused a change.
#[derive(Debug, PartialEq)]
pub(crate) enum StoreError {
    UnknownAdvertiser,
    NotFound,
    /// A live item already has this `externalStockReference`.
    Duplicate {
        stock_id: String,
    },
    Invalid(Vec<Warning>),
}

/// A check run on the complete item before it is stored.
pub(crate) type Check<'a> = &'a dyn Fn(&Value) -> Vec<Warning>;

/// All advertisers' stock.
pub(crate) struct Store {
    advertisers: HashMap<String, Advertiser>,
    seed: u64,
    ids: StdRng,
    searches: u64,
}

#[derive(Default)]
struct Advertiser {
    items: Vec<Value>,
    by_id: HashMap<String, usize>,
    /// Item positions by `externalStockReference`: duplicate checks stay
    /// O(1) at the 10,000-vehicle scale the benchmarks use.
    by_reference: HashMap<String, Vec<usize>>,
}

impl Advertiser {
    /// The live (not DELETED) item with this reference, other than `except`.
    fn live_with_reference(&self, reference: &str, except: Option<&str>) -> Option<&str> {
        self.by_reference
            .get(reference)?
            .iter()
            .map(|i| &self.items[*i])
            .filter(|item| lifecycle(item) != Some("DELETED"))
            .filter_map(|item| json::get_str(item, "metadata.stockId"))
            .find(|id| Some(*id) != except)
    }

    fn index_reference(&mut self, reference: &str, position: usize) {
        self.by_reference
            .entry(reference.to_owned())
            .or_default()
            .push(position);
    }

    fn unindex_reference(&mut self, reference: &str, position: usize) {
        if let Some(positions) = self.by_reference.get_mut(reference) {
            positions.retain(|p| *p != position);
        }
    }
}

fn lifecycle(item: &Value) -> Option<&str> {
    json::get_str(item, "metadata.lifecycleState")
}

impl Store {
    /// An empty store for these advertisers; ids come from `seed`, so runs repeat.
    pub(crate) fn new(advertisers: &[String], seed: u64) -> Self {
        Store {
            advertisers: advertisers
                .iter()
                .map(|a| (a.clone(), Advertiser::default()))
                .collect(),
            seed,
            ids: StdRng::seed_from_u64(seed),
            searches: 0,
        }
    }

    pub(crate) fn has_advertiser(&self, advertiser: &str) -> bool {
        self.advertisers.contains_key(advertiser)
    }

    /// Store a new item; the metadata the API answers with on success.
    pub(crate) fn create(
        &mut self,
        advertiser: &str,
        mut item: Value,
        now: SystemTime,
        check: Check<'_>,
    ) -> Result<Value, StoreError> {
        if let Some(metadata) = item.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata
                .entry("lifecycleState")
                .or_insert_with(|| json!("FORECOURT"));
        }
        let warnings = check(&item);
        if !warnings.is_empty() {
            return Err(StoreError::Invalid(warnings));
        }
        let account = self
            .advertisers
            .get_mut(advertiser)
            .ok_or(StoreError::UnknownAdvertiser)?;
        let reference = json::get_str(&item, "metadata.externalStockReference")
            .unwrap_or_default()
            .to_owned();
        if let Some(existing) = account.live_with_reference(&reference, None) {
            return Err(StoreError::Duplicate {
                stock_id: existing.to_owned(),
            });
        }
        let stock_id = hex(&self.ids.random::<[u8; 16]>());
        self.searches += 1;
        let search_id = format!("{}", 202_500_000_000_000u64 + self.searches);
        stamp(&mut item, &stock_id, &search_id, 1, None, now);
        let position = account.items.len();
        account.by_id.insert(stock_id, position);
        account.index_reference(&reference, position);
        let metadata = item["metadata"].clone();
        account.items.push(item);
        Ok(json!({ "metadata": metadata }))
    }

    /// Merge `patch` into an item; the updated item on success.
    pub(crate) fn patch(
        &mut self,
        advertiser: &str,
        stock_id: &str,
        patch: &Value,
        now: SystemTime,
        check: Check<'_>,
    ) -> Result<Value, StoreError> {
        let account = self
            .advertisers
            .get_mut(advertiser)
            .ok_or(StoreError::UnknownAdvertiser)?;
        let index = *account.by_id.get(stock_id).ok_or(StoreError::NotFound)?;
        let current = &account.items[index];
        let old_reference = json::get_str(current, "metadata.externalStockReference")
            .unwrap_or_default()
            .to_owned();
        let search_id = json::get_str(current, "metadata.searchId")
            .unwrap_or_default()
            .to_owned();
        let version = json::get(current, "metadata.versionNumber")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let on_forecourt = json::get_str(current, "metadata.dateOnForecourt").map(str::to_owned);
        let mut next = current.clone();
        json::merge(&mut next, patch);
        let warnings = check(&next);
        if !warnings.is_empty() {
            return Err(StoreError::Invalid(warnings));
        }
        let reference = json::get_str(&next, "metadata.externalStockReference")
            .unwrap_or_default()
            .to_owned();
        if lifecycle(&next) != Some("DELETED") {
            if let Some(other) = account.live_with_reference(&reference, Some(stock_id)) {
                return Err(StoreError::Duplicate {
                    stock_id: other.to_owned(),
                });
            }
        }
        stamp(
            &mut next,
            stock_id,
            &search_id,
            version + 1,
            on_forecourt,
            now,
        );
        if reference != old_reference {
            account.unindex_reference(&old_reference, index);
            account.index_reference(&reference, index);
        }
        account.items[index] = next.clone();
        Ok(next)
    }

    pub(crate) fn get(&self, advertiser: &str, stock_id: &str) -> Option<&Value> {
        let account = self.advertisers.get(advertiser)?;
        account.by_id.get(stock_id).map(|i| &account.items[*i])
    }

    /// One page (1-based) of an advertiser's stock in creation order, and the total.
    pub(crate) fn page(
        &self,
        advertiser: &str,
        include_deleted: bool,
        page: usize,
        page_size: usize,
    ) -> (Vec<Value>, usize) {
        let Some(account) = self.advertisers.get(advertiser) else {
            return (Vec::new(), 0);
        };
        let visible = || {
            account
                .items
                .iter()
                .filter(move |item| include_deleted || lifecycle(item) != Some("DELETED"))
        };
        let skip = page.saturating_sub(1).saturating_mul(page_size);
        let results = visible().skip(skip).take(page_size).cloned().collect();
        (results, visible().count())
    }

    /// Everything stored for an advertiser, deleted items included.
    pub(crate) fn all(&self, advertiser: &str) -> Vec<Value> {
        self.advertisers
            .get(advertiser)
            .map(|a| a.items.clone())
            .unwrap_or_default()
    }

    /// Every advertiser's stock, for the control endpoint.
    pub(crate) fn everything(&self) -> serde_json::Map<String, Value> {
        self.advertisers
            .iter()
            .map(|(id, a)| (id.clone(), Value::Array(a.items.clone())))
            .collect()
    }

    /// The newest item with this reference (after a delete and re-create, the live one).
    pub(crate) fn find_by_reference(&self, advertiser: &str, reference: &str) -> Option<&Value> {
        let account = self.advertisers.get(advertiser)?;
        let newest = *account.by_reference.get(reference)?.iter().max()?;
        Some(&account.items[newest])
    }

    /// Forget all stock and restart the ids.
    pub(crate) fn clear(&mut self) {
        for account in self.advertisers.values_mut() {
            *account = Advertiser::default();
        }
        self.ids = StdRng::seed_from_u64(self.seed);
        self.searches = 0;
    }
}

/// Set the fields the platform owns, whatever the client sent for them.
fn stamp(
    item: &mut Value,
    stock_id: &str,
    search_id: &str,
    version: u64,
    on_forecourt: Option<String>,
    now: SystemTime,
) {
    let state = lifecycle(item).map(str::to_owned);
    let on_forecourt =
        on_forecourt.or_else(|| (state.as_deref() == Some("FORECOURT")).then(|| clock::date(now)));
    json::merge(
        item,
        &json!({"metadata": {
            "stockId": stock_id,
            "searchId": search_id,
            "versionNumber": version,
            "lastUpdated": clock::rfc3339(now),
        }}),
    );
    // Merging null would remove the key; the API shows it as null until set.
    if let Some(metadata) = item.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert("dateOnForecourt".into(), json!(on_forecourt));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_check() -> impl Fn(&Value) -> Vec<Warning> {
        |_| Vec::new()
    }

    fn item(reference: &str) -> Value {
        json!({"vehicle": {"make": "Kia"}, "metadata": {"externalStockReference": reference}})
    }

    fn store() -> Store {
        Store::new(&["1".to_owned(), "2".to_owned()], 7)
    }

    #[test]
    fn create_stamps_metadata_and_refuses_live_duplicates() {
        let mut s = store();
        let now = SystemTime::now();
        let created = s.create("1", item("A"), now, &no_check()).unwrap();
        let id = created["metadata"]["stockId"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 32);
        assert_eq!(created["metadata"]["versionNumber"], 1);
        assert_eq!(created["metadata"]["lifecycleState"], "FORECOURT");
        assert_eq!(
            created["metadata"]["dateOnForecourt"],
            json!(clock::date(now))
        );
        assert_eq!(
            s.create("1", item("A"), now, &no_check()),
            Err(StoreError::Duplicate {
                stock_id: id.clone()
            })
        );
        // Another advertiser may use the same reference.
        assert!(s.create("2", item("A"), now, &no_check()).is_ok());
        assert_eq!(
            s.create("9", item("A"), now, &no_check()),
            Err(StoreError::UnknownAdvertiser)
        );
        // Once deleted, the reference is free again.
        let deleted = json!({"metadata": {"lifecycleState": "DELETED"}});
        s.patch("1", &id, &deleted, now, &no_check()).unwrap();
        let again = s.create("1", item("A"), now, &no_check()).unwrap();
        assert_eq!(
            s.find_by_reference("1", "A").unwrap()["metadata"]["stockId"],
            again["metadata"]["stockId"]
        );
        assert_eq!(s.page("1", false, 1, 10).1, 1);
        assert_eq!(s.page("1", true, 1, 10).1, 2);
    }

    #[test]
    fn patch_merges_bumps_version_and_keeps_platform_fields() {
        let mut s = store();
        let now = SystemTime::now();
        let id = s.create("1", item("A"), now, &no_check()).unwrap()["metadata"]["stockId"]
            .as_str()
            .unwrap()
            .to_owned();
        let patch = json!({"vehicle": {"model": "Ceed"}, "metadata": {"stockId": "forged", "versionNumber": 99}});
        let next = s.patch("1", &id, &patch, now, &no_check()).unwrap();
        assert_eq!(next["vehicle"], json!({"make": "Kia", "model": "Ceed"}));
        assert_eq!(next["metadata"]["stockId"], json!(id));
        assert_eq!(next["metadata"]["versionNumber"], 2);
        assert_eq!(s.get("1", &id), Some(&next));
        assert_eq!(
            s.patch("1", "nope", &patch, now, &no_check()),
            Err(StoreError::NotFound)
        );
        assert_eq!(
            s.patch("2", &id, &patch, now, &no_check()),
            Err(StoreError::NotFound)
        );
        let refuse = |_: &Value| vec![Warning::error("vehicle.model", "no")];
        assert!(matches!(
            s.patch("1", &id, &patch, now, &refuse),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(s.get("1", &id).unwrap()["metadata"]["versionNumber"], 2);
    }

    #[test]
    fn pages_in_creation_order() {
        let mut s = store();
        let now = SystemTime::now();
        for r in ["a", "b", "c", "d", "e"] {
            s.create("1", item(r), now, &no_check()).unwrap();
        }
        let refs = |page| -> Vec<String> {
            s.page("1", false, page, 2)
                .0
                .iter()
                .map(|i| {
                    i["metadata"]["externalStockReference"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(refs(1), ["a", "b"]);
        assert_eq!(refs(3), ["e"]);
        assert!(refs(4).is_empty());
    }

    #[test]
    fn ids_repeat_after_clear() {
        let mut s = store();
        let now = SystemTime::now();
        let first = s.create("1", item("A"), now, &no_check()).unwrap();
        s.clear();
        assert!(s.all("1").is_empty());
        assert_eq!(s.create("1", item("A"), now, &no_check()).unwrap(), first);
    }
}
