//! The stock ids of a create (or 409) answer, read without building the
//! answer: a create answer is the whole created item (~2.5 KB), and parsing
//! it into a `serde_json::Value` only to read one id was a measurable part
//! of a sync's CPU. Everything but the ids is skipped by the parser.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The ids of a create or 409 answer. Read as leniently as indexing a
/// `Value` would: anything of another type (an answer that is not an
/// object, a `metadata` that is not one, an id that is not a string) counts
/// as absent, and of repeated keys the last one wins.
#[derive(Debug, Default, PartialEq)]
pub(super) struct AnswerIds {
    /// `metadata.stockId`, untrimmed.
    pub metadata_stock_id: Option<String>,
    /// `stockId`, untrimmed.
    pub stock_id: Option<String>,
}

impl AnswerIds {
    /// The ids of an answer's body; `None` when it is not JSON.
    pub fn parse(body: &[u8]) -> Option<AnswerIds> {
        serde_json::from_slice(body).ok()
    }
}

impl<'de> Deserialize<'de> for AnswerIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IdsVisitor { top: true })
    }
}

/// The members of an answer (`top`) or of its `metadata` object that are
/// read; see [`AnswerIds`].
#[derive(Deserialize)]
#[serde(field_identifier)]
enum IdKey {
    #[serde(rename = "stockId")]
    StockId,
    #[serde(rename = "metadata")]
    Metadata,
    #[serde(other)]
    Other,
}

/// Reads an object's `stockId` and, at the top, `metadata.stockId`; any
/// other value is skipped.
struct IdsVisitor {
    top: bool,
}

impl<'de> Visitor<'de> for IdsVisitor {
    type Value = AnswerIds;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnswerIds, A::Error> {
        let mut ids = AnswerIds::default();
        while let Some(key) = map.next_key::<IdKey>()? {
            match key {
                IdKey::StockId => ids.stock_id = map.next_value::<Text>()?.0,
                IdKey::Metadata if self.top => {
                    ids.metadata_stock_id =
                        map.next_value_seed(IdsVisitor { top: false })?.stock_id;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(ids)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<AnswerIds, A::Error> {
        IgnoredAny.visit_seq(seq).map(|_| AnswerIds::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<AnswerIds, E> {
        Ok(AnswerIds::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<AnswerIds, E> {
        Ok(AnswerIds::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<AnswerIds, E> {
        Ok(AnswerIds::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<AnswerIds, E> {
        Ok(AnswerIds::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<AnswerIds, E> {
        Ok(AnswerIds::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<AnswerIds, E> {
        Ok(AnswerIds::default())
    }
}

impl<'de> de::DeserializeSeed<'de> for IdsVisitor {
    type Value = AnswerIds;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<AnswerIds, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A JSON string, or `None` for any other value (skipped, not built).
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text(Some(s.to_string())))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                IgnoredAny.visit_map(map).map(|_| Text(None))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                IgnoredAny.visit_seq(seq).map(|_| Text(None))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
                Ok(Text(None))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text, E> {
                Ok(Text(None))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text, E> {
                Ok(Text(None))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text, E> {
                Ok(Text(None))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::AnswerIds;
    use serde_json::{json, Value};

    /// What indexing the answer parsed as a `Value` gives (the definition).
    fn by_value(body: &str) -> Option<AnswerIds> {
        let v: Value = serde_json::from_str(body).ok()?;
        let text = |v: &Value| v.as_str().map(str::to_string);
        Some(AnswerIds {
            metadata_stock_id: text(&v["metadata"]["stockId"]),
            stock_id: text(&v["stockId"]),
        })
    }

    #[test]
    fn reads_the_ids_as_a_value_would() {
        let created = json!({
            "vehicle": {"make": "Ford", "stockId": "not this", "doors": 5},
            "adverts": {"retailAdverts": {"suppliedPrice": {"amountGBP": 9995}}},
            "metadata": {"stockId": " abc ", "versionNumber": 1, "lifecycleState": "FORECOURT"},
            "features": [{"name": "Air \"con\""}, null, true, 1.5, -3],
            "media": {"images": []},
        });
        let bodies = [
            created.to_string(),
            json!({"error": "duplicate", "stockId": "s1"}).to_string(),
            json!({"metadata": {"stockId": "m"}, "stockId": "s"}).to_string(),
            json!({"metadata": {"stockId": 7}, "stockId": "s"}).to_string(),
            json!({"metadata": "m", "stockId": ["s"]}).to_string(),
            json!({"metadata": [{"stockId": "m"}], "stockId": null}).to_string(),
            json!({"metadata": null, "stockId": {"stockId": "x"}}).to_string(),
            json!({"stockId": {"metadata": {"stockId": "x"}}}).to_string(),
            json!({"metadata": {"metadata": {"stockId": "x"}}}).to_string(),
            json!({}).to_string(),
            json!([{"stockId": "s"}]).to_string(),
            json!("s").to_string(),
            "42".into(),
            "null".into(),
            r#"{"stock\u0049d": "escaped \u00e9", "metadata": {"stockId": "a\nb"}}"#.into(),
            r#"{"stockId": "first", "stockId": "last"}"#.into(),
            String::new(),
            "{".into(),
            r#"{"stockId": "s"} trailing"#.into(),
        ];
        for body in bodies {
            assert_eq!(AnswerIds::parse(body.as_bytes()), by_value(&body), "{body}");
        }
    }
}
