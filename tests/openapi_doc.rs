//! The OpenAPI document at `GET /api/v1/openapi.json`: served without a token, an
//! OpenAPI 3.1 document with the bearer scheme and the error shape, and complete —
//! every route registered in the source (actix route macros and `.route(...)` calls)
//! is described, and every described route is really mounted.

use crate::common;

use common::TestServer;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Routes that are not part of the API: the embedded web pages and Socket.IO.
fn is_web_page(path: &str) -> bool {
    path == "/" || path.starts_with("/{section") || path.starts_with("/socket.io")
}

/// `{name:regex}` → `{name}`, as OpenAPI spells a path parameter.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for c in path.chars() {
        match c {
            ':' if out.rfind('{') > out.rfind('}') => skipping = true,
            '}' => {
                skipping = false;
                out.push(c);
            }
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

/// Every (METHOD, path) the source registers: `#[get("/x")]`-style macros (files under
/// src/http/api/ mount under /api/v1) and `.route("/x", web::get()...)` calls, with a
/// `const NAME: &str = "/x"` path resolved in the same file.
fn registered_routes(dir: &Path, out: &mut BTreeSet<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            registered_routes(&path, out);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let in_api = path.to_string_lossy().contains("src/http/api/");
        for method in ["get", "post", "put", "delete", "patch"] {
            let macro_open = format!("#[{method}(\"");
            for (i, _) in text.match_indices(&macro_open) {
                let rest = &text[i + macro_open.len()..];
                let route = &rest[..rest.find('"').unwrap()];
                let full = if in_api {
                    format!("/api/v1{route}")
                } else {
                    route.to_string()
                };
                out.insert((method.to_uppercase(), normalize(&full)));
            }
        }
        for (i, _) in text.match_indices(".route(") {
            let call = &text[i + ".route(".len()..];
            let call = &call[..call.find(";").unwrap_or(call.len()).min(400)];
            let arg = call.trim_start();
            let route = if let Some(stripped) = arg.strip_prefix('"') {
                stripped[..stripped.find('"').unwrap()].to_string()
            } else {
                let name: String = arg
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if name.is_empty() || name == "web" {
                    continue; // resource-level .route(web::get()...) in a resource builder
                }
                let def = format!("const {name}: &str = \"");
                let at = text
                    .find(&def)
                    .unwrap_or_else(|| panic!("{name} in {path:?}"));
                let v = &text[at + def.len()..];
                v[..v.find('"').unwrap()].to_string()
            };
            let method = ["get", "post", "put", "delete", "patch"]
                .into_iter()
                .find(|m| call.contains(&format!("web::{m}()")))
                .unwrap_or_else(|| panic!("method of .route({route}) in {path:?}"));
            out.insert((method.to_uppercase(), normalize(&route)));
        }
    }
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_registered_route_is_in_the_document_and_mounted() {
    let server = TestServer::start().await;
    let (status, doc) = server.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200, "no token needed");
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The connector posts with a connector token, which is not a login token: its
    // route names its own scheme.
    assert_eq!(
        doc["components"]["securitySchemes"]["connector"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["paths"]["/ccm/message/receive"]["post"]["security"],
        serde_json::json!([{"connector": []}])
    );
    let error = &doc["components"]["schemas"]["ErrorBody"]["properties"];
    for prop in ["code", "message", "field", "blockers"] {
        assert!(error.get(prop).is_some(), "ErrorBody.{prop}: {error}");
    }

    let mut in_source = BTreeSet::new();
    registered_routes(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut in_source,
    );
    let in_doc = documented(&doc);
    let missing: Vec<_> = in_source
        .iter()
        .filter(|(_, p)| !is_web_page(p))
        .filter(|r| !in_doc.contains(*r))
        .collect();
    assert!(
        missing.is_empty(),
        "registered but not documented: {missing:?}"
    );
    assert!(
        in_source.len() > 60,
        "the scan found the routes: {in_source:?}"
    );

    // Every documented operation is mounted: it answers something other than the
    // not-found-route answer. Admin routes refuse a bad body after the role check.
    let admin = server.login("admin", "admin").await;
    for (method, path) in &in_doc {
        let url = path.replace('{', "x").replace('}', "");
        let resp = server
            .http
            .request(method.parse().unwrap(), server.url(&url))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let route_missing = status == 404
            && body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("route "));
        assert!(
            !route_missing && status != 405,
            "{method} {path} is not mounted: {body}"
        );
    }

    // Each operation documents its responses, and protected ones the bearer scheme.
    for (method, path) in &in_doc {
        let op = &doc["paths"][path][method.to_lowercase()];
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}"
        );
        let public = [
            "/api/v1/auth/login",
            "/api/v1/openapi.json",
            "/api/v1/widget/channels/{serviceIdentifier}",
            "/healthz",
            "/readyz",
        ];
        if path.starts_with("/api/v1") && !public.contains(&path.as_str()) {
            assert!(op["security"].is_array(), "{method} {path} names its auth");
            assert!(
                op["responses"].get("401").is_some(),
                "{method} {path} documents 401"
            );
        }
    }
}

/// A schema with nothing a client could read: `{"type": "object"}` with no
/// properties, no `additionalProperties` and no reference.
fn is_bare_object(schema: &Value) -> bool {
    schema.get("$ref").is_none()
        && schema["type"] == "object"
        && schema.get("properties").is_none()
        && schema.get("additionalProperties").is_none()
}

/// The schema `schema` (following `$ref`, arrays and `items` of a page) says for a
/// JSON body, as a list of bare spots found ("" when none).
fn bare_spots(doc: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "{at}: {reference} is not in components");
        return bare_spots(doc, target, at, out);
    }
    if schema["type"] == "array" {
        return bare_spots(doc, &schema["items"], &format!("{at}[]"), out);
    }
    if is_bare_object(schema) {
        out.push(at.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_body_has_a_schema_a_client_can_read() {
    let server = TestServer::start().await;
    let (_, doc) = server.get("/api/v1/openapi.json", None).await;
    let mut bare = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/api/v1/openapi.json" {
            continue; // the document itself
        }
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                let Some(content) = response["content"].as_object() else {
                    continue;
                };
                for (mime, media) in content {
                    let at = format!("{method} {path} {status} {mime}");
                    bare_spots(&doc, &media["schema"], &at, &mut bare);
                }
            }
        }
    }
    assert!(
        bare.is_empty(),
        "responses typed as a bare object: {bare:#?}"
    );
}

/// Every property `name`'s schema requires is in `value` (one level, then nested
/// objects by `$ref`).
fn assert_has_required(doc: &Value, name: &str, value: &Value) {
    let schema = &doc["components"]["schemas"][name];
    assert!(!schema.is_null(), "schema {name}");
    for required in schema["required"].as_array().into_iter().flatten() {
        let key = required.as_str().unwrap();
        let got = value.get(key).unwrap_or_else(|| {
            panic!("{name}.{key} is documented as required but missing: {value}")
        });
        if let Some(reference) = schema["properties"][key]["$ref"].as_str() {
            let inner = reference.rsplit('/').next().unwrap();
            assert_has_required(doc, inner, got);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_have_what_their_schemas_promise() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (_, doc) = server.get("/api/v1/openapi.json", None).await;
    let (status, page) = server.get("/api/v1/channels", Some(&admin)).await;
    assert_eq!(status, 200, "{page}");
    let channel = &page["items"][0];
    assert_has_required(&doc, "Channel", channel);
    let (_, one) = server
        .get(
            &format!("/api/v1/channels/{}", channel["id"].as_str().unwrap()),
            Some(&admin),
        )
        .await;
    assert_has_required(&doc, "Channel", &one);
    let (_, types) = server.get("/api/v1/channel-types", Some(&admin)).await;
    assert_has_required(&doc, "ChannelType", &types[0]);
    let (_, agents) = server.get("/api/v1/agents", Some(&admin)).await;
    assert_has_required(&doc, "AgentView", &agents[0]);
    let queue_id = channel["channelConfig"]["routingPolicy"]["routingObjectId"]
        .as_str()
        .unwrap();
    let (_, stats) = server
        .get(&format!("/api/v1/queues/{queue_id}/stats"), Some(&admin))
        .await;
    assert_has_required(&doc, "QueueStats", &stats);
    let (_, ready) = server.get("/readyz", None).await;
    assert_has_required(&doc, "Readiness", &ready);
}

/// The schema `reference` (`#/components/schemas/X`) names.
fn component<'a>(doc: &'a Value, reference: &Value) -> &'a Value {
    let name = reference.as_str().unwrap().rsplit('/').next().unwrap();
    &doc["components"]["schemas"][name]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_client_generates_from_the_document_is_what_the_server_takes() {
    let server = TestServer::start().await;
    let (_, doc) = server.get("/api/v1/openapi.json", None).await;
    // Operation ids are unique: generated clients name their calls by them.
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_string();
            assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        }
    }
    // Two types of one name would share one schema: a business-hours day is a list
    // of {open, close}, not of report intervals.
    let day = &doc["components"]["schemas"]["Weekly"]["properties"]["monday"]["items"];
    let interval = component(&doc, &day["$ref"]);
    assert_eq!(interval["required"], serde_json::json!(["open", "close"]));
    assert_eq!(
        doc["components"]["schemas"]["ReportInterval"]["enum"],
        serde_json::json!(["15m", "hour", "day", "week"])
    );
    // An attribute change is a boolean, a proficiency 1-10 or null.
    let body = &doc["paths"]["/api/v1/users/{id}/attributes"]["put"]["requestBody"]["content"]
        ["application/json"]["schema"];
    let change = component(&doc, &body["additionalProperties"]["$ref"]);
    let types: Vec<&str> = change["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["boolean", "integer", "null"]);
    // Numbers in the query are documented as numbers, choices as their values.
    let params = |path: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .clone()
    };
    let limit = params("/api/v1/conversations")
        .into_iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["type"], "integer", "{limit}");
    let kind = params("/api/v1/reports/{kind}")
        .into_iter()
        .find(|p| p["name"] == "kind")
        .unwrap();
    assert_eq!(
        kind["schema"]["enum"],
        serde_json::json!(["queues", "channels", "teams", "agents"])
    );
    // Routes that use the store say they can be unavailable.
    assert!(doc["paths"]["/api/v1/users"]["get"]["responses"]["503"].is_object());
}
