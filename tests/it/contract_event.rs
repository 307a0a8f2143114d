//! The event's routes held to the OpenAPI document through the real server: every answer, the
//! successes and the refusals, has a status the document gives for its operation, a media type
//! it gives for that status, and (JSON) a body that validates against the schema it names. The
//! test fails if the event tag gains an operation it does not call.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{ADMIN, fragment, spawn_app_with};

/// Validate `body` against the schema `schema` (a `$ref` into the document, or inline).
fn validate(doc: &Value, schema: &Value, body: &Value) -> Result<(), String> {
    let mut root = doc.clone();
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    for (k, v) in schema.as_object().unwrap() {
        root[k] = v.clone();
    }
    let validator = jsonschema::draft202012::new(&root).unwrap();
    validator
        .validate(body)
        .map_err(|e| format!("{e} (at {})", e.instance_path()))
}

/// Calls the API and checks each answer against the document.
struct Checker {
    doc: Value,
    url: String,
    http: reqwest::Client,
    /// The operations called, as `METHOD path-template`.
    called: BTreeSet<String>,
}

impl Checker {
    /// `method template` with `path` (the template filled in), `token` and `body` (JSON, or a
    /// file of a media type); the answer's status and body (JSON, else a string), checked.
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        token: &str,
        body: Option<(&str, String)>,
    ) -> (u16, Value) {
        let op = &self.doc["paths"][template][method.to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not in the document");
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        let mut sent = None;
        if let Some(("", text)) = body {
            // Sent without a `Content-Type`.
            req = req.body(text);
        } else if let Some((media, text)) = body {
            let documented = &op["requestBody"]["content"][media]["schema"];
            assert!(
                documented.is_object(),
                "{method} {template}: the document takes no {media} body"
            );
            if media == "application/json" {
                sent = serde_json::from_str::<Value>(&text)
                    .ok()
                    .map(|v| (documented, v));
            }
            req = req.header("content-type", media).body(text);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        // A request body the server took matches the document's schema for it.
        if let Some((schema, sent)) = sent.filter(|_| status < 300)
            && let Err(e) = validate(&self.doc, schema, &sent)
        {
            panic!("{method} {path}: the server took a body its schema refuses: {e}\n{sent}");
        }
        let media = resp
            .headers()
            .get("content-type")
            .map(|v| {
                v.to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        let bytes = resp.bytes().await.unwrap();
        let documented = &op["responses"][status.to_string()];
        assert!(
            documented.is_object(),
            "{method} {path}: status {status} is not in the document; it answered {}",
            String::from_utf8_lossy(&bytes)
        );
        let schema = &documented["content"][&media]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path}: {status} as {media:?} is not in the document (it gives {})",
            documented["content"]
        );
        self.called.insert(format!("{method} {template}"));
        if media == "application/json" {
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            if let Err(e) = validate(&self.doc, schema, &body) {
                panic!("{method} {path} {status}: the answer does not match {schema}: {e}\n{body}");
            }
            (status, body)
        } else {
            assert!(
                !bytes.is_empty(),
                "{method} {path}: an empty {media} answer"
            );
            if schema["contentMediaType"].is_string() {
                // A binary file: the OpenDocument text is a zip archive.
                assert!(
                    bytes.starts_with(b"PK\x03\x04"),
                    "{method} {path}: not a zip"
                );
            }
            (
                status,
                Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            )
        }
    }
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

#[tokio::test]
async fn every_answer_of_the_event_routes_matches_the_openapi_document() {
    // Some sixty calls in a row from one address: past the default rate limit.
    let app = spawn_app_with(|s| s.http.api_per_sec = 100_000).await;
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", app.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut c = Checker {
        doc,
        url: app.url.clone(),
        http: reqwest::Client::new(),
        called: BTreeSet::new(),
    };
    let json_body = |v: Value| Some(("application/json", v.to_string()));

    // Rooms: defined, refused, listed.
    let rooms_body = json!({"rooms": [{"name": "Room 1", "capacity": 300},
                                      {"name": "Room 2", "hub": true}]});
    let (status, rooms) = c
        .call(
            "PUT",
            "/api/rooms",
            "/api/rooms",
            ADMIN,
            json_body(rooms_body),
        )
        .await;
    assert_eq!(status, 200, "{rooms}");
    for (body, status, code) in [
        (json!({"rooms": [{"name": ""}]}), 422, "bad_room"),
        (json!({"rooms": [{"name": "=SUM(A1)"}]}), 422, "bad_room"),
        (
            json!({"rooms": [{"name": "A"}, {"name": "a"}]}),
            422,
            "duplicate_room",
        ),
        (json!({"rooms": "Room 1"}), 422, "bad_field"),
        (json!({"rooms": [{"capacity": 3}]}), 422, "bad_field"),
    ] {
        let (got, answer) = c
            .call("PUT", "/api/rooms", "/api/rooms", ADMIN, json_body(body))
            .await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
    }
    let not_json = Some(("application/json", "{rooms".to_owned()));
    let (got, answer) = c
        .call("PUT", "/api/rooms", "/api/rooms", ADMIN, not_json)
        .await;
    assert_eq!((got, answer["code"].as_str()), (400, Some("bad_json")));
    let untyped = Some(("", json!({"rooms": []}).to_string()));
    let (got, answer) = c
        .call("PUT", "/api/rooms", "/api/rooms", ADMIN, untyped)
        .await;
    assert_eq!((got, answer["code"].as_str()), (415, Some("bad_json")));
    let huge = json!({"rooms": [{"name": "x".repeat(70 * 1024)}]});
    let (got, answer) = c
        .call("PUT", "/api/rooms", "/api/rooms", ADMIN, json_body(huge))
        .await;
    assert_eq!(
        (got, answer["code"].as_str()),
        (413, Some("body_too_large"))
    );
    let (got, listed) = c.call("GET", "/api/rooms", "/api/rooms", ADMIN, None).await;
    assert_eq!(got, 200);
    assert_eq!(listed, rooms);
    assert_eq!(
        c.call("GET", "/api/rooms", "/api/rooms", "", None).await.0,
        401
    );
    let room1 = rooms["rooms"][0]["id"].as_str().unwrap().to_owned();
    let room2 = rooms["rooms"][1]["id"].as_str().unwrap().to_owned();

    // The programme: a dry run, refusals, the import from CSV and from iCalendar.
    let import = "/api/programme/import";
    let now = jiff::Timestamp::now().as_millisecond();
    let csv = format!(
        "id,title,room,start,end\nA,Session A,Room 1,{},{}\nB,Session B,Room 1,{},{}\n",
        rfc3339(now - 600_000),
        rfc3339(now + 3_600_000),
        rfc3339(now + 3_600_000),
        rfc3339(now + 7_200_000),
    );
    let file = |media: &'static str, text: &str| Some((media, text.to_owned()));
    let (got, plan) = c
        .call(
            "POST",
            import,
            &format!("{import}?dry_run=true"),
            ADMIN,
            file("text/csv", &csv),
        )
        .await;
    assert_eq!(
        (
            got,
            plan["dry_run"].clone(),
            plan["create"].as_array().map(Vec::len)
        ),
        (200, json!(true), Some(2)),
        "{plan}"
    );
    let bad = "id,title,room,start,end\nX,Nowhere,Room 99,2026-11-26 09:00,2026-11-26 10:00\n";
    let (got, plan) = c
        .call(
            "POST",
            import,
            &format!("{import}?tz=Europe/Berlin"),
            ADMIN,
            file("text/csv", bad),
        )
        .await;
    assert_eq!(
        (got, plan["refused"][0]["code"].as_str()),
        (422, Some("unknown_room")),
        "{plan}"
    );
    let (got, plan) = c
        .call(
            "POST",
            import,
            &format!("{import}?format=ics"),
            ADMIN,
            file("text/calendar", "BEGIN:VCALENDAR\r\n"),
        )
        .await;
    assert_eq!(
        (got, plan["refused"][0]["at"].as_str()),
        (422, Some("file")),
        "{plan}"
    );
    for (query, code) in [
        ("tz=Nowhere/Nothing", "unknown_time_zone"),
        ("format=xls", "bad_query"),
        ("dry_run=perhaps", "bad_query"),
    ] {
        let (got, answer) = c
            .call(
                "POST",
                import,
                &format!("{import}?{query}"),
                ADMIN,
                file("text/csv", &csv),
            )
            .await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (400, Some(code)),
            "{query}: {answer}"
        );
    }
    let big = "x".repeat(5 * 1024 * 1024);
    let (got, answer) = c
        .call("POST", import, import, ADMIN, file("text/csv", &big))
        .await;
    assert_eq!(
        (got, answer["code"].as_str()),
        (413, Some("body_too_large"))
    );
    assert_eq!(
        c.call("POST", import, import, "", file("text/csv", &csv))
            .await
            .0,
        401
    );
    let (got, plan) = c
        .call("POST", import, import, ADMIN, file("text/csv", &csv))
        .await;
    assert_eq!((got, plan["applied"].clone()), (200, json!(true)), "{plan}");
    let day = jiff::Timestamp::from_millisecond(now + 86_400_000)
        .unwrap()
        .strftime("%Y%m%d")
        .to_string();
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rostrum test//EN\r\nBEGIN:VEVENT\r\nUID:hub-1@example.org\r\n\
         SUMMARY:From the hub\r\nLOCATION:Room 2\r\nDTSTART:{day}T090000Z\r\nDTEND:{day}T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let (got, plan) = c
        .call("POST", import, import, ADMIN, file("text/calendar", &ics))
        .await;
    assert_eq!(
        (got, plan["create"][0]["id"].as_str()),
        (200, Some("hub-1@example.org")),
        "{plan}"
    );

    // The programme's exports.
    let (got, programme) = c
        .call("GET", "/api/programme", "/api/programme", ADMIN, None)
        .await;
    assert_eq!(
        (got, programme["sessions"].as_array().map(Vec::len)),
        (200, Some(3))
    );
    assert_eq!(
        c.call("GET", "/api/programme", "/api/programme", "", None)
            .await
            .0,
        401
    );
    for path in [
        "/api/programme.csv",
        "/api/programme/report.md",
        "/api/programme/report.json",
    ] {
        assert_eq!(c.call("GET", path, path, ADMIN, None).await.0, 200);
        assert_eq!(c.call("GET", path, path, "", None).await.0, 401);
    }

    // What a room shows, where its poster leads, the poster itself.
    let display = fragment(&rooms["rooms"][0]["display"]);
    let poster = fragment(&rooms["rooms"][0]["join"]);
    let unknown = "0".repeat(32);
    let now_t = "/api/rooms/{id}/now";
    let (got, shown) = c
        .call(
            "GET",
            now_t,
            &format!("/api/rooms/{room1}/now"),
            &display,
            None,
        )
        .await;
    assert_eq!(
        (got, shown["on"]["id"].as_str()),
        (200, Some("A")),
        "{shown}"
    );
    let (got, shown) = c
        .call(
            "GET",
            now_t,
            &format!("/api/rooms/{room2}/now"),
            ADMIN,
            None,
        )
        .await;
    assert_eq!(
        (got, shown["next"]["id"].as_str()),
        (200, Some("hub-1@example.org")),
        "{shown}"
    );
    assert_eq!(
        c.call(
            "GET",
            now_t,
            &format!("/api/rooms/{room2}/now"),
            &display,
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        c.call(
            "GET",
            now_t,
            &format!("/api/rooms/{unknown}/now"),
            ADMIN,
            None
        )
        .await
        .0,
        404
    );
    let join_t = "/api/rooms/{id}/join";
    let (got, to) = c
        .call(
            "GET",
            join_t,
            &format!("/api/rooms/{room1}/join"),
            &poster,
            None,
        )
        .await;
    assert_eq!(
        (got, to["session"]["id"].as_str()),
        (200, Some("A")),
        "{to}"
    );
    assert_eq!(
        c.call(
            "GET",
            join_t,
            &format!("/api/rooms/{room2}/join"),
            &poster,
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        c.call(
            "GET",
            join_t,
            &format!("/api/rooms/{unknown}/join"),
            ADMIN,
            None
        )
        .await
        .0,
        404
    );
    let poster_t = "/api/rooms/{id}/poster";
    let (got, printed) = c
        .call(
            "GET",
            poster_t,
            &format!("/api/rooms/{room1}/poster"),
            ADMIN,
            None,
        )
        .await;
    assert_eq!((got, &printed["join"]), (200, &rooms["rooms"][0]["join"]));
    assert_eq!(
        c.call(
            "GET",
            poster_t,
            &format!("/api/rooms/{room1}/poster"),
            &poster,
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        c.call(
            "GET",
            poster_t,
            &format!("/api/rooms/{unknown}/poster"),
            ADMIN,
            None
        )
        .await
        .0,
        404
    );

    // The official report of a programme session, in its four forms.
    let session = programme["sessions"][0]["session"]
        .as_str()
        .unwrap()
        .to_owned();
    for form in ["json", "md", "html", "odt"] {
        let template = format!("/api/sessions/{{id}}/report.igf.{form}");
        let path = format!("/api/sessions/{session}/report.igf.{form}");
        assert_eq!(c.call("GET", &template, &path, ADMIN, None).await.0, 200);
        assert_eq!(c.call("GET", &template, &path, &display, None).await.0, 403);
        let other = format!("/api/sessions/{unknown}/report.igf.{form}");
        assert_eq!(c.call("GET", &template, &other, ADMIN, None).await.0, 404);
    }

    // Deleting: a room with entries, an entry on now, refused; an entry of tomorrow, an empty
    // room, an entry once its session is ended, deleted (its session stays).
    let room_t = "/api/rooms/{id}";
    let entry_t = "/api/programme/entries/{id}";
    let (got, answer) = c
        .call(
            "DELETE",
            room_t,
            &format!("/api/rooms/{room1}"),
            ADMIN,
            None,
        )
        .await;
    assert_eq!(
        (got, answer["code"].as_str()),
        (409, Some("room_in_use")),
        "{answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("2 programme entries"),
        "{answer}"
    );
    let (got, answer) = c
        .call("DELETE", entry_t, "/api/programme/entries/A", ADMIN, None)
        .await;
    assert_eq!(
        (got, answer["code"].as_str()),
        (409, Some("session_on")),
        "{answer}"
    );
    let hub_entry = "/api/programme/entries/hub-1%40example.org";
    assert_eq!(c.call("DELETE", entry_t, hub_entry, "", None).await.0, 401);
    let (got, deleted) = c.call("DELETE", entry_t, hub_entry, ADMIN, None).await;
    assert_eq!(
        (got, deleted["id"].as_str()),
        (200, Some("hub-1@example.org")),
        "{deleted}"
    );
    let (got, answer) = c.call("DELETE", entry_t, hub_entry, ADMIN, None).await;
    assert_eq!((got, answer["code"].as_str()), (404, Some("unknown_entry")));
    let room2_path = format!("/api/rooms/{room2}");
    assert_eq!(c.call("DELETE", room_t, &room2_path, "", None).await.0, 401);
    let (got, left) = c.call("DELETE", room_t, &room2_path, ADMIN, None).await;
    assert_eq!(
        (got, left["rooms"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{left}"
    );
    for path in [room2_path.as_str(), "/api/rooms/nope"] {
        let (got, answer) = c.call("DELETE", room_t, path, ADMIN, None).await;
        assert_eq!((got, answer["code"].as_str()), (404, Some("unknown_room")));
    }
    let ended = reqwest::Client::new()
        .post(format!("{}/api/sessions/{session}/end", c.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    let (got, deleted) = c
        .call("DELETE", entry_t, "/api/programme/entries/A", ADMIN, None)
        .await;
    assert_eq!(
        (got, deleted["session"].as_str()),
        (200, Some(session.as_str())),
        "{deleted}"
    );
    let kept = reqwest::get(format!("{}/api/sessions/{session}", c.url))
        .await
        .unwrap();
    assert_eq!(kept.status(), 200, "the session stays");

    // Every operation of the event's routes was called.
    let mut listed = BTreeSet::new();
    for (path, item) in c.doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["tags"] == json!(["event"]) || path.contains("report.igf") {
                listed.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert_eq!(listed.len(), 16, "{listed:?}");
    assert_eq!(c.called, listed);
    app.stop().await.unwrap();
}
