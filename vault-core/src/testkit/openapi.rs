//! Comparing OpenAPI documents by what a client depends on.
//!
//! The two adapters build their documents with different libraries (utoipa, poem-openapi), which
//! differ in OpenAPI version (3.1 vs 3.0), key order, descriptions and how they spell a nullable
//! value. [`outline`] reduces a document to sorted lines that name only what a client relies
//! on — paths, methods, parameters, request bodies, response statuses, content types and
//! headers, component schemas with their properties, types and required fields, enum values,
//! security schemes, tags — so that two documents of one API compare equal line by line, and a drift
//! shows as the lines that differ.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// The outline of an OpenAPI 3.0 or 3.1 document: one line per fact, sorted.
pub fn outline(doc: &Value) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, operation) in item {
                if !is_method(method) {
                    continue;
                }
                operation_lines(
                    &format!("{} {path}", method.to_uppercase()),
                    operation,
                    &mut lines,
                );
            }
        }
    }
    let components = doc.get("components");
    if let Some(schemas) = components
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            schema_lines(&format!("schema {name}"), schema, &mut lines);
        }
    }
    if let Some(schemes) = components
        .and_then(|c| c.get("securitySchemes"))
        .and_then(Value::as_object)
    {
        for (name, scheme) in schemes {
            lines.insert(format!(
                "security-scheme {name} {}",
                security_scheme(scheme)
            ));
        }
    }
    lines
}

/// The lines of `left` missing from `right` (`-`) and of `right` missing from `left` (`+`),
/// for a readable assertion message; empty when the outlines agree.
pub fn drift(left: &BTreeSet<String>, right: &BTreeSet<String>) -> Vec<String> {
    left.difference(right)
        .map(|line| format!("- {line}"))
        .chain(right.difference(left).map(|line| format!("+ {line}")))
        .collect()
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

fn operation_lines(at: &str, operation: &Value, lines: &mut BTreeSet<String>) {
    for tag in operation
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        lines.insert(format!("{at} tag {}", tag.as_str().unwrap_or_default()));
    }
    for parameter in operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
        let place = parameter.get("in").and_then(Value::as_str).unwrap_or("?");
        let required = parameter.get("required").and_then(Value::as_bool) == Some(true);
        // A parameter's optionality is its `required`; whether its schema also admits null
        // (utoipa's spelling of an `Option`) says nothing more about a query string or header.
        let schema = parameter.get("schema").map_or_else(|| "?".into(), describe);
        let schema = schema.strip_suffix('?').unwrap_or(&schema);
        lines.insert(format!(
            "{at} parameter {place} {name}{} {schema}",
            if required { " required" } else { "" }
        ));
    }
    if let Some(body) = operation.get("requestBody") {
        let required = body.get("required").and_then(Value::as_bool) == Some(true);
        content_lines(
            &format!("{at} body{}", if required { " required" } else { "" }),
            body.get("content"),
            lines,
        );
    }
    if let Some(responses) = operation.get("responses").and_then(Value::as_object) {
        for (status, response) in responses {
            let at = format!("{at} response {status}");
            if response.get("content").is_none() {
                lines.insert(format!("{at} (no body)"));
            }
            content_lines(&at, response.get("content"), lines);
            // Header names are case-insensitive (poem-openapi upper-cases them).
            for (name, header) in response
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let schema = header.get("schema").map_or_else(|| "any".into(), describe);
                lines.insert(format!(
                    "{at} header {} {schema}",
                    name.to_ascii_lowercase()
                ));
            }
        }
    }
    let security: BTreeSet<String> = operation
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys().cloned())
        .collect();
    if !security.is_empty() {
        let names: Vec<String> = security.into_iter().collect();
        lines.insert(format!("{at} security {}", names.join(" | ")));
    }
}

fn content_lines(at: &str, content: Option<&Value>, lines: &mut BTreeSet<String>) {
    for (media_type, media) in content.and_then(Value::as_object).into_iter().flatten() {
        // No schema and an empty one both say: any bytes.
        let schema = media.get("schema").map_or_else(|| "any".into(), describe);
        lines.insert(format!("{at} {media_type} {schema}"));
    }
}

fn schema_lines(at: &str, schema: &Value, lines: &mut BTreeSet<String>) {
    let Some(object) = schema.as_object() else {
        lines.insert(format!("{at} ?"));
        return;
    };
    match object.get("properties").and_then(Value::as_object) {
        Some(properties) => {
            let required = required_of(object);
            for (name, property) in properties {
                lines.insert(format!(
                    "{at} property {name}{} {}",
                    if required.contains(name.as_str()) {
                        " required"
                    } else {
                        ""
                    },
                    describe(property)
                ));
            }
        }
        None => {
            lines.insert(format!("{at} {}", describe(schema)));
        }
    }
}

fn required_of(object: &Map<String, Value>) -> BTreeSet<&str> {
    object
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A schema as one short string: a reference by its component's name, a type with its format
/// (strings), items (arrays), properties (inline objects) and enum values, and `?` after a
/// value that may be null — however the document's OpenAPI version spells that.
fn describe(schema: &Value) -> String {
    let Some(object) = schema.as_object() else {
        return "?".into();
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        return reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = object.get(combinator).and_then(Value::as_array) {
            // `{"type": "null"}` is 3.1's spelling of a nullable member; a member with no
            // schema of its own only annotates the others (poem-openapi wraps a described
            // `$ref` as `allOf: [{$ref}, {description, nullable}]`).
            let mut null = nullable(object);
            let mut described: Vec<String> = Vec::new();
            for option in options {
                if option.get("type").and_then(Value::as_str) == Some("null") {
                    null = true;
                } else if is_annotation(option) {
                    null |= option.as_object().is_some_and(nullable);
                } else {
                    described.push(describe(option));
                }
            }
            described.sort();
            let mut text = if described.len() == 1 {
                described.remove(0)
            } else {
                format!("{combinator}({})", described.join(", "))
            };
            if null {
                text.push('?');
            }
            return text;
        }
    }
    let (kind, mut null) = match object.get("type") {
        Some(Value::String(kind)) => (kind.clone(), false),
        Some(Value::Array(kinds)) => {
            let mut named: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
            let null = named.contains(&"null");
            named.retain(|kind| *kind != "null");
            (named.join("|"), null)
        }
        _ => ("any".to_string(), false),
    };
    null |= nullable(object);
    let mut text = kind.clone();
    match kind.as_str() {
        "string" => {
            if let Some(format) = object.get("format").and_then(Value::as_str) {
                text = format!("string({format})");
            }
        }
        "array" => {
            let items = object.get("items").map_or_else(|| "?".into(), describe);
            text = format!("array[{items}]");
        }
        "object" => {
            if let Some(properties) = object.get("properties").and_then(Value::as_object) {
                let required = required_of(object);
                let fields: Vec<String> = properties
                    .iter()
                    .map(|(name, property)| {
                        let mark = if required.contains(name.as_str()) {
                            ""
                        } else {
                            "~"
                        };
                        format!("{name}{mark}: {}", describe(property))
                    })
                    .collect();
                text = format!("object{{{}}}", fields.join(", "));
            }
        }
        _ => {}
    }
    if let Some(values) = object.get("enum").and_then(Value::as_array) {
        let mut values: Vec<String> = values
            .iter()
            .filter(|value| !value.is_null())
            .map(|value| {
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string)
            })
            .collect();
        values.sort();
        text = format!("{text} enum({})", values.join(", "));
    }
    if null {
        text.push('?');
    }
    text
}

/// A schema object that says nothing of the value's shape (only a description, a title, an
/// example, `nullable`...).
fn is_annotation(schema: &Value) -> bool {
    const SHAPE: [&str; 9] = [
        "$ref",
        "type",
        "properties",
        "items",
        "allOf",
        "oneOf",
        "anyOf",
        "enum",
        "format",
    ];
    schema
        .as_object()
        .is_some_and(|object| SHAPE.iter().all(|key| !object.contains_key(*key)))
}

fn nullable(object: &Map<String, Value>) -> bool {
    object.get("nullable").and_then(Value::as_bool) == Some(true)
}

fn security_scheme(scheme: &Value) -> String {
    let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("?");
    match kind {
        "http" => format!(
            "http {}",
            scheme
                .get("scheme")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_ascii_lowercase()
        ),
        "oauth2" => {
            let flows: Vec<String> = scheme
                .get("flows")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(flow, spec)| {
                    let url = spec.get("tokenUrl").and_then(Value::as_str).unwrap_or("");
                    format!("{flow}({url})")
                })
                .collect();
            format!("oauth2 {}", flows.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(nullable_url: Value, page_param: Value) -> Value {
        json!({
            "paths": {"/api/things/{id}": {
                "get": {
                    "tags": ["things"],
                    "parameters": [
                        {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                        {"name": "page", "in": "query", "schema": page_param}
                    ],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                        "404": {"description": "no", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                    },
                    "security": [{"bearer": []}]
                },
                "parameters": []
            }},
            "components": {
                "schemas": {"Thing": {"type": "object", "required": ["id"], "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "url": nullable_url
                }}},
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
            }
        })
    }

    #[test]
    fn the_two_spellings_of_a_nullable_value_outline_alike() {
        let v31 = document(
            json!({"type": ["string", "null"]}),
            json!({"type": "integer"}),
        );
        let v30 = document(
            json!({"type": "string", "nullable": true, "description": "other words"}),
            json!({"type": "integer", "format": "int64"}),
        );
        assert_eq!(drift(&outline(&v31), &outline(&v30)), Vec::<String>::new());
        assert!(outline(&v31).contains("schema Thing property url string?"));
        assert!(outline(&v31).contains("GET /api/things/{id} parameter path id required string"));
    }

    #[test]
    fn a_described_reference_is_the_reference() {
        let wrapped = json!({"allOf": [{"$ref": "#/components/schemas/Kind"}, {"description": "Kind.", "nullable": true}]});
        assert_eq!(describe(&wrapped), "Kind?");
        let plain = json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Kind", "description": "Kind."}]});
        assert_eq!(describe(&plain), "Kind?");
        let two = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
        assert_eq!(describe(&two), "anyOf(integer, string)");
    }

    #[test]
    fn a_changed_type_or_a_missing_status_is_drift() {
        let base = document(json!({"type": "string"}), json!({"type": "integer"}));
        let retyped = document(json!({"type": "string"}), json!({"type": "string"}));
        assert_eq!(
            drift(&outline(&base), &outline(&retyped)),
            vec![
                "- GET /api/things/{id} parameter query page integer".to_string(),
                "+ GET /api/things/{id} parameter query page string".to_string(),
            ]
        );
        let mut fewer = base.clone();
        if let Some(responses) = fewer
            .pointer_mut("/paths/~1api~1things~1{id}/get/responses")
            .and_then(Value::as_object_mut)
        {
            responses.remove("404");
        }
        let lost = drift(&outline(&base), &outline(&fewer));
        assert_eq!(lost.len(), 1, "{lost:?}");
        assert!(lost[0].starts_with("- GET /api/things/{id} response 404"));
    }

    #[test]
    fn response_headers_are_compared_by_name_case_insensitively() {
        let with_header = |name: &str| {
            let mut doc = document(json!({"type": "string"}), json!({"type": "integer"}));
            if let Some(ok) = doc.pointer_mut("/paths/~1api~1things~1{id}/get/responses/200") {
                ok["headers"] =
                    json!({name: {"description": "where", "schema": {"type": "string"}}});
            }
            doc
        };
        let utoipa = outline(&with_header("Location"));
        assert!(utoipa.contains("GET /api/things/{id} response 200 header location string"));
        assert!(drift(&utoipa, &outline(&with_header("LOCATION"))).is_empty());
        let none = outline(&document(
            json!({"type": "string"}),
            json!({"type": "integer"}),
        ));
        assert_eq!(
            drift(&utoipa, &none),
            vec!["- GET /api/things/{id} response 200 header location string".to_string()]
        );
    }
}
