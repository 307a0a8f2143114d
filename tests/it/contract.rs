//! The contracts held to the code: the checked-in documents under `docs/` equal what the code
//! generates (`rostrum::contract`), the served OpenAPI document is the same, every example in the
//! docs validates against its schema, and every error code the code can produce is in the docs'
//! tables (and every code in the tables is one the code produces). The test client validates
//! every frame it sends and receives (`support.rs`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rostrum::contract::WRITE_COMMAND;
use serde_json::{Value, json};

use crate::support::{self, spawn_app};

/// Whether this run rewrites the documents (then the other checks stand aside: they would read
/// files being rewritten).
fn writing() -> bool {
    std::env::var_os("ROSTRUM_WRITE_CONTRACT").is_some()
}

fn docs() -> PathBuf {
    Path::new(crate::support::ROOT).join("docs")
}

/// Every file under `docs/schema/`, relative to `docs/`.
fn checked_in_schemas() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for side in ["client", "server"] {
        let dir = docs().join("schema").join(side);
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            out.insert(format!("schema/{side}/{}", e.file_name().to_string_lossy()));
        }
    }
    out
}

/// With `ROSTRUM_WRITE_CONTRACT=1` this rewrites every generated document instead (and removes
/// stale frame schemas); otherwise it names each one that differs and the command that fixes it.
/// Every generated document under `docs/`: the protocol's and the HTTP API's.
fn documents() -> std::collections::BTreeMap<String, String> {
    let mut docs = rostrum::contract::documents();
    let openapi = rostrum::contract::pretty(&rostrum::http::openapi::openapi());
    docs.insert("openapi.json".into(), openapi);
    docs
}

#[test]
fn the_checked_in_contracts_are_the_generated_ones() {
    let generated = documents();
    if writing() {
        for stale in checked_in_schemas() {
            if !generated.contains_key(&stale) {
                std::fs::remove_file(docs().join(&stale)).unwrap();
            }
        }
        for (path, text) in &generated {
            let file = docs().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            // Atomically: the other contract tests may be reading these files meanwhile.
            let part = file.with_extension("json.part");
            std::fs::write(&part, text).unwrap();
            std::fs::rename(&part, &file).unwrap();
        }
        return;
    }
    let mut wrong = Vec::new();
    for (path, text) in &generated {
        match std::fs::read_to_string(docs().join(path)) {
            Ok(t) if t == *text => {}
            Ok(_) => wrong.push(format!("docs/{path} differs")),
            Err(_) => wrong.push(format!("docs/{path} is missing")),
        }
    }
    for path in checked_in_schemas() {
        if !generated.contains_key(&path) {
            wrong.push(format!("docs/{path} is no longer generated"));
        }
    }
    assert!(
        wrong.is_empty(),
        "the checked-in contracts are not what the code generates:\n  {}\nrewrite them all with:\n  {WRITE_COMMAND}",
        wrong.join("\n  ")
    );
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    if writing() {
        return;
    }
    let app = spawn_app().await;
    let served: Value = reqwest::get(format!("{}/api/openapi.json", app.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, rostrum::http::openapi::openapi());
    assert_eq!(served["openapi"], "3.1.0");
    let checked_in: Value =
        serde_json::from_str(&std::fs::read_to_string(docs().join("openapi.json")).unwrap())
            .unwrap();
    assert_eq!(served, checked_in, "run: {WRITE_COMMAND}");
}

/// The ```json blocks of a page tagged `tag` ("client", "server", or "" for untagged).
fn blocks(page: &str, tag: &str) -> Vec<Value> {
    let fence = if tag.is_empty() {
        "```json\n".to_owned()
    } else {
        format!("```json {tag}\n")
    };
    page.split(fence.as_str())
        .skip(1)
        .map(|rest| {
            let text = rest.split("\n```").next().unwrap();
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
        })
        .collect()
}

#[test]
fn every_example_in_the_docs_validates() {
    if writing() {
        return;
    }
    let page = std::fs::read_to_string(docs().join("protocol.md")).unwrap();
    for side in ["client", "server"] {
        let examples = blocks(&page, side);
        assert!(!examples.is_empty());
        for frame in examples {
            if let Err(e) = support::validate(side, &frame) {
                panic!("a {side} example on docs/protocol.md does not validate: {e}\n{frame}");
            }
        }
    }
    // The API page's bodies against the OpenAPI components.
    let page = std::fs::read_to_string(docs().join("api.md")).unwrap();
    let openapi = rostrum::http::openapi::openapi();
    let validator = |name: &str| {
        let mut root = openapi.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["$ref"] = json!(format!("#/components/schemas/{name}"));
        jsonschema::draft202012::new(&root).unwrap()
    };
    let examples = blocks(&page, "");
    let names = [
        "NewSession",
        "Created",
        "RoomCode",
        "SetRooms",
        "Rooms",
        "Plan",
        "ProgrammeList",
        "DeletedEntry",
        "RoomNow",
        "RoomJoin",
        "IgfReport",
        "EventSummary",
    ];
    assert_eq!(
        examples.len(),
        names.len(),
        "each example on docs/api.md is checked"
    );
    for (example, name) in examples.iter().zip(names) {
        if let Err(e) = validator(name).validate(example) {
            panic!("the {name} example on docs/api.md does not validate: {e}\n{example}");
        }
    }
}

/// The string literals of a function's body in a source file (the arms of a `fn code`).
fn literals_in(src: &str, from: &str) -> BTreeSet<String> {
    let body = src.split(from).nth(1).expect("the function is there");
    let body = &body[..body.find("\n    }\n").expect("its end")];
    body.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The backticked words of a table cell, leaving out those in parentheses (fields, not codes).
fn codes_in(cell: &str) -> Vec<String> {
    let mut depth = 0;
    let bare: String = cell
        .chars()
        .filter(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth == 0 && *c != ')'
        })
        .collect();
    bare.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The backticked codes in column `column` of the table under `heading` on a page.
fn table_codes(page: &str, heading: &str, column: usize) -> BTreeSet<String> {
    let section = page.split(heading).nth(1).expect("the section is there");
    let mut out = BTreeSet::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cell = line.split('|').nth(column).unwrap_or_default();
        if line.contains("queue codes") {
            // The row listing the queue's own codes lists them in its second cell.
            out.extend(codes_in(line.split('|').nth(2).unwrap_or_default()));
            continue;
        }
        out.extend(codes_in(cell));
    }
    out
}

#[test]
fn every_error_code_is_in_the_docs_and_every_documented_code_exists() {
    let root = Path::new(crate::support::ROOT);
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let wire = literals_in(&read("src/protocol/mod.rs"), "pub fn code(&self)");
    let queue = literals_in(&read("src/queue/refusal.rs"), "pub fn code(&self)");
    let ws_codes: BTreeSet<String> = wire.union(&queue).cloned().collect();
    let protocol = read("docs/protocol.md");
    let documented = table_codes(&protocol, "## Errors", 1);
    for code in &ws_codes {
        assert!(
            documented.contains(code),
            "error code `{code}` can be sent on the socket but is missing from the error table of docs/protocol.md"
        );
    }
    for code in &documented {
        assert!(
            ws_codes.contains(code),
            "docs/protocol.md's error table lists `{code}`, which the server never sends"
        );
    }

    // HTTP: every code an `ApiError` is built with, and the queue's codes it passes on.
    let mut http = BTreeSet::new();
    for file in [
        "src/http/mod.rs",
        "src/http/error.rs",
        "src/http/api.rs",
        "src/http/admin.rs",
        "src/http/guard.rs",
        "src/http/short.rs",
        "src/http/upgrade.rs",
        "src/http/rooms.rs",
        "src/http/programme.rs",
        "src/http/igf.rs",
        "src/programme/registry.rs",
    ] {
        let src = read(file);
        // `invalid(` builds a refused room (`RoomError::Invalid`, answered as 422 with its code).
        let calls = src.split("ApiError::new(").skip(1);
        for call in calls.chain(src.split("invalid(").skip(1)) {
            let args = &call[..call.find(')').unwrap_or(call.len())];
            if let Some(code) = args.split('"').nth(1) {
                http.insert(code.to_owned());
            }
        }
    }
    // Built from a rejection rather than a literal in a call.
    http.extend(["bad_json", "bad_field", "body_too_large", "bad_body"].map(str::to_owned));
    http.remove("qr"); // a link too long for a QR code: cannot happen with our links
    let api = read("docs/api.md");
    let documented = table_codes(&api, "## Errors", 2);
    for code in &http {
        assert!(
            documented.contains(code),
            "HTTP error code `{code}` can be answered but is missing from the error table of docs/api.md"
        );
    }
    for code in &documented {
        assert!(
            http.contains(code) || queue.contains(code),
            "docs/api.md's error table lists `{code}`, which the API never answers"
        );
    }
}

/// Every `$ref` of a document points at something in it.
fn assert_refs_resolve(doc: &Value, v: &Value, name: &str) {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                let pointer = r
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{name}: a foreign $ref {r}"));
                assert!(
                    doc.pointer(pointer).is_some(),
                    "{name}: {r} points at nothing"
                );
            }
            o.values().for_each(|x| assert_refs_resolve(doc, x, name));
        }
        Value::Array(a) => a.iter().for_each(|x| assert_refs_resolve(doc, x, name)),
        _ => {}
    }
}

#[test]
fn every_reference_in_the_contracts_resolves() {
    for (path, text) in documents() {
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_refs_resolve(&doc, &doc, &path);
    }
}

/// The real API's answers against the OpenAPI document's schemas, request and error bodies too.
#[tokio::test]
async fn the_http_answers_match_the_openapi_schemas() {
    if writing() {
        return;
    }
    let openapi = rostrum::http::openapi::openapi();
    let valid = |name: &str, body: &Value| -> Result<(), String> {
        let mut root = openapi.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["$ref"] = json!(format!("#/components/schemas/{name}"));
        let validator = jsonschema::draft202012::new(&root).unwrap();
        validator
            .validate(body)
            .map_err(|e| format!("{e} (at {})", e.instance_path()))
    };
    let check = |name: &str, body: &Value| {
        if let Err(e) = valid(name, body) {
            panic!("{name} does not match its schema: {e}\n{body}");
        }
    };
    // Not a vacuous check: the schemas refuse what the server refuses.
    for wrong in [
        json!({"title": 5}),
        json!({"title": "T", "agenda": ["Norms"]}),
        json!({"title": "T", "limit": 3}),
    ] {
        assert!(
            valid("NewSession", &wrong).is_err(),
            "the NewSession schema takes {wrong}"
        );
    }
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let request = json!({"title": "Contract", "policy": {"order": "alternate", "room": 2, "remote": 1},
                         "agenda": [{"title": "One", "roster": [{"name": "P", "affiliation": "A", "modality": "online", "head_count": 1}]}]});
    check("NewSession", &request);
    let created: Value = http
        .post(format!("{}/api/sessions", app.url))
        .bearer_auth(support::ADMIN)
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check("Created", &created);
    let id = created["id"].as_str().unwrap();
    let chair = support::fragment(&created["links"]["chair"]);
    let display = support::fragment(&created["links"]["display"]);
    // Some activity, so the report and the list have figures.
    let mut c = app.connect(id, Some(&chair)).await;
    c.ok(json!({"type": "add_proxy", "profile": {"name": "Walk-in", "modality": "onsite"}}))
        .await;
    c.ok(json!({"type": "grant", "seen": null, "force": true}))
        .await;
    let get = |path: String, token: String| {
        let http = http.clone();
        async move {
            let resp = http.get(path).bearer_auth(token).send().await.unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
            resp.json::<Value>().await.unwrap()
        }
    };
    let base = format!("{}/api/sessions", app.url);
    let admin = support::ADMIN.to_owned();
    check("SessionList", &get(base.clone(), admin.clone()).await);
    check(
        "PublicInfo",
        &get(format!("{base}/{id}"), String::new()).await,
    );
    check(
        "Handout",
        &get(format!("{base}/{id}/links"), chair.clone()).await,
    );
    check("RoomCode", &get(format!("{base}/{id}/room"), display).await);
    check(
        "Report",
        &get(format!("{base}/{id}/report"), chair.clone()).await,
    );
    let ended: Value = http
        .post(format!("{base}/{id}/end"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check("Ended", &ended);
    let refused = http
        .post(format!("{base}/{id}/end"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    check("ErrorBody", &refused.json().await.unwrap());
    // A JSON body without its media type: 415 `bad_json`, as the document says.
    let untyped = http
        .post(&base)
        .bearer_auth(&admin)
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(untyped.status(), 415);
    let body: Value = untyped.json().await.unwrap();
    check("ErrorBody", &body);
    assert_eq!(body["code"], "bad_json");
    let documented = &openapi["paths"]["/api/sessions"]["post"]["responses"]["415"];
    assert!(documented.is_object(), "415 is not documented");
}
