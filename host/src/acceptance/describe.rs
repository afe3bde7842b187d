//! Checks on what `describe()` says: complete, consistent with the contract,
//! and a configuration schema that is real JSON Schema.

use super::corpus::CONTRACT_FIELDS;
use super::report::{Report, Status};
use crate::runtime::platform_api::{OperationKind, PlatformInfo, PlatformKind};

/// `describe.complete`, `describe.fields`, `describe.config-schema`.
pub fn check(info: &PlatformInfo, report: &mut Report) {
    let mut problems = Vec::new();
    if info.name.trim().is_empty() {
        problems.push("name is empty".to_string());
    }
    if info.version.trim().is_empty() {
        problems.push("version is empty".to_string());
    }
    if info.batch_size == 0 {
        problems.push("batch-size is 0: the host could never pass an operation".to_string());
    }
    if info.max_images == Some(0) {
        problems.push("max-images is 0; leave it out if the platform takes no images".into());
    }
    if let (Some(ideal), Some(max)) = (info.ideal_images, info.max_images) {
        if ideal > max {
            problems.push(format!("ideal-images {ideal} is above max-images {max}"));
        }
    }
    if info.rate_limit_per_minute == Some(0) {
        problems.push("rate-limit-per-minute is 0".into());
    }
    match info.kind {
        PlatformKind::FeedFile => match &info.feed {
            None => problems.push("a feed-file platform must declare its feed format".into()),
            Some(feed) => {
                if !is_mime_type(&feed.content_type) {
                    problems.push(format!(
                        "feed content-type `{}` is not a MIME type",
                        feed.content_type
                    ));
                }
                if feed.file_name.is_empty()
                    || feed.file_name.contains(['/', '\\'])
                    || feed.file_name.starts_with('.')
                {
                    problems.push(format!(
                        "feed file-name `{}` is not a plain file name",
                        feed.file_name
                    ));
                }
            }
        },
        PlatformKind::Api => {
            if !info.operations.contains(&OperationKind::Create) {
                problems.push("an API platform must support the create operation".into());
            }
            if !info.operations.contains(&OperationKind::Remove) {
                problems.push(
                    "an API platform must support remove (sold and withdrawn cars come down)"
                        .into(),
                );
            }
            if info.feed.is_some() {
                problems.push("an API platform declares a feed format".into());
            }
        }
    }
    let kind = match info.kind {
        PlatformKind::Api => "API",
        PlatformKind::FeedFile => "feed-file",
    };
    report.verdict(
        "describe.complete",
        format!(
            "{} {} ({kind} platform, batch size {})",
            info.name, info.version, info.batch_size
        ),
        problems,
    );

    let unknown: Vec<String> = info
        .required_fields
        .iter()
        .map(|f| ("required-fields", f))
        .chain(
            info.recommended_fields
                .iter()
                .map(|f| ("recommended-fields", f)),
        )
        .filter(|(_, f)| !CONTRACT_FIELDS.contains(&f.as_str()))
        .map(|(list, f)| format!("{list} names `{f}`, which is not a contract field"))
        .collect();
    report.verdict(
        "describe.fields",
        format!(
            "{} required and {} recommended field(s), all contract fields",
            info.required_fields.len(),
            info.recommended_fields.len()
        ),
        unknown,
    );

    match schema_problems(&info.config_schema) {
        Ok(()) => report.record(
            "describe.config-schema",
            Status::Pass,
            "valid JSON Schema describing an object",
        ),
        Err(problem) => report.record("describe.config-schema", Status::Fail, problem),
    }
}

fn is_mime_type(s: &str) -> bool {
    let essence = s.split(';').next().unwrap_or_default().trim();
    let token = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    matches!(essence.split_once('/'), Some((a, b)) if token(a) && token(b))
}

/// Whether `text` is a JSON Schema (checked against its meta-schema) whose
/// instances are JSON objects, as a plugin configuration always is.
pub fn schema_problems(text: &str) -> Result<(), String> {
    let schema: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("config-schema is not JSON: {e}"))?;
    jsonschema::meta::validate(&schema)
        .map_err(|e| format!("config-schema is not valid JSON Schema: {e}"))?;
    jsonschema::validator_for(&schema)
        .map_err(|e| format!("config-schema cannot be compiled: {e}"))?;
    match schema.get("type") {
        Some(serde_json::Value::String(t)) if t == "object" => Ok(()),
        Some(other) => Err(format!(
            "config-schema has type {other}; a plugin's configuration is a JSON object"
        )),
        None => Err("config-schema does not say `\"type\": \"object\"`".into()),
    }
}

/// Problems of `config` under the plugin's schema (empty when it is valid).
pub fn config_problems(schema: &str, config: &serde_json::Value) -> Vec<String> {
    let Ok(schema) = serde_json::from_str::<serde_json::Value>(schema) else {
        return vec![];
    };
    let Ok(validator) = jsonschema::validator_for(&schema) else {
        return vec![];
    };
    validator
        .iter_errors(config)
        .map(|e| {
            let path = e.instance_path().as_str().to_string();
            if path.is_empty() {
                e.to_string()
            } else {
                format!("{path}: {e}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas() {
        assert!(
            schema_problems(r#"{"type":"object","properties":{"a":{"type":"string"}}}"#).is_ok()
        );
        assert!(schema_problems("{not json")
            .unwrap_err()
            .contains("not JSON"));
        assert!(schema_problems(r#"{"type":"objekt"}"#)
            .unwrap_err()
            .contains("not valid JSON Schema"));
        assert!(schema_problems(r#"{"type":"array"}"#)
            .unwrap_err()
            .contains("JSON object"));
        let schema = r#"{"type":"object","required":["endpoint"],"additionalProperties":false,"properties":{"endpoint":{"type":"string"}}}"#;
        assert!(config_problems(schema, &serde_json::json!({"endpoint": "x"})).is_empty());
        let problems = config_problems(schema, &serde_json::json!({"endpont": 1}));
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn mime_types() {
        assert!(is_mime_type("text/tab-separated-values"));
        assert!(is_mime_type("application/rss+xml; charset=utf-8"));
        assert!(!is_mime_type("tsv"));
        assert!(!is_mime_type("text/"));
    }
}
