//! The OpenAPI 3.1 description of the admin API, hand-written in
//! `openapi.json` and served at `/api/openapi.json`. The test below holds it
//! to the route table: every route documented, nothing documented that is
//! not routed, and the role each route needs stated as `x-required-role`
//! (`viewer+enquiries:read` where a grant is needed too).

/// The document.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// `(METHOD, path, x-required-role)` of every operation in a document.
pub fn operations(doc: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete", "head"] {
                if let Some(op) = item.get(method) {
                    out.push((
                        method.to_uppercase(),
                        path.clone(),
                        op["x-required-role"].as_str().unwrap_or("").to_string(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

/// The same triples from the route table.
pub fn routed() -> Vec<(String, String, String)> {
    let mut out: Vec<_> = super::routes::ROUTES
        .iter()
        .map(|r| {
            let role = match r.access {
                super::routes::Access::Public => "public".to_string(),
                super::routes::Access::Metrics => "metrics".to_string(),
                super::routes::Access::Role(role) => role.to_string(),
                super::routes::Access::Granted(role, grant) => format!("{role}+{grant}"),
            };
            (r.method.to_string(), r.path.to_string(), role)
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json parses");
        assert_eq!(doc["openapi"], "3.1.0");
        let documented = operations(&doc);
        let routed = routed();
        let missing: Vec<_> = routed.iter().filter(|r| !documented.contains(r)).collect();
        let extra: Vec<_> = documented.iter().filter(|d| !routed.contains(d)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "routed but not documented (or another role): {missing:?}\ndocumented but not routed: {extra:?}"
        );
    }

    #[test]
    fn every_reference_resolves() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        let mut refs = Vec::new();
        fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        if k == "$ref" {
                            out.push(v.as_str().unwrap_or("").to_string());
                        }
                        walk(v, out);
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        walk(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external ref {r}"));
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }
}
