//! What the `session` commands print for people: the list, one session, its links.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

/// The roles of a session's links, in the order they are printed.
const ROLES: [&str; 5] = [
    "chair",
    "online_moderator",
    "participant",
    "display",
    "public",
];

/// Server milliseconds as an RFC 3339 time, to the second.
fn time(ms: &Value) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.as_u64().unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The state column: `live`, `idle` or `damaged`, and `ended`.
fn state(s: &Value) -> String {
    let state = s["state"].as_str().unwrap_or("?");
    if s["ended"] == true {
        format!("{state}, ended")
    } else {
        state.to_owned()
    }
}

pub(super) fn list_text(json: &Value) -> String {
    let sessions = json["sessions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if sessions.is_empty() {
        return "no sessions yet: create one with `rostrum session create`\n".into();
    }
    let mut out = format!(
        "{:<32}  {:<12}  {:>5}  {:>6}  {:>5}  {:<20}  {}\n",
        "ID", "STATE", "CONN", "PEOPLE", "QUEUE", "CREATED", "TITLE"
    );
    for s in sessions {
        let n = |k: &str| s[k].as_u64().map_or("-".into(), |n| n.to_string());
        let _ = writeln!(
            out,
            "{:<32}  {:<12}  {:>5}  {:>6}  {:>5}  {:<20}  {}",
            s["id"].as_str().unwrap_or_default(),
            state(s),
            n("connections"),
            n("participants"),
            n("queued"),
            time(&s["created_at"]),
            s["title"].as_str().unwrap_or("-"),
        );
    }
    out
}

fn policy_text(p: &Value) -> String {
    match p["order"].as_str() {
        Some("alternate") => format!("alternate {}:{} (room:remote)", p["room"], p["remote"]),
        Some(order) => order.to_owned(),
        None => "-".into(),
    }
}

pub(super) fn show_text(s: &Value) -> String {
    let id = s["id"].as_str().unwrap_or_default();
    let mut out = format!("session {id}\n");
    let _ = writeln!(out, "{:>17}: {}", "created", time(&s["created_at"]));
    if s["state"] == "damaged" {
        let _ = writeln!(
            out,
            "{:>17}: damaged at seq {} ({}); it is not served. Stop the server, take a backup, \
             then run `rostrum repair {id}`",
            "state",
            s["damaged"]["seq"],
            s["damaged"]["reason"].as_str().unwrap_or_default()
        );
        return out;
    }
    let floor = &s["floor"];
    let speaker = if floor.is_null() {
        "nobody".to_owned()
    } else {
        let affiliation = floor["affiliation"].as_str().unwrap_or_default();
        let from = floor["modality"].as_str().unwrap_or_default();
        format!(
            "{} ({}{from}), since {}",
            floor["name"].as_str().unwrap_or_default(),
            if affiliation.is_empty() {
                String::new()
            } else {
                format!("{affiliation}, ")
            },
            time(&floor["granted_at"]),
        )
    };
    let rows = [
        ("title", s["title"].as_str().unwrap_or_default().to_owned()),
        ("state", state(s)),
        ("policy", policy_text(&s["policy"])),
        ("connections", s["connections"].to_string()),
        ("participants", s["participants"].to_string()),
        ("waiting", s["queued"].to_string()),
        ("floor", speaker),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "{k:>17}: {v}");
    }
    if !s["links"].is_null() {
        out.push_str("links:\n");
        out.push_str(&links_text(&s["links"]));
    }
    if let Some(short) = s["short_url"].as_str() {
        let _ = writeln!(out, "{:>17}: {short}", "short address");
    }
    out
}

pub(super) fn links_text(links: &Value) -> String {
    let mut out = String::new();
    for role in ROLES {
        let _ = writeln!(
            out,
            "{role:>17}: {}",
            links[role].as_str().unwrap_or_default()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::session_id;
    use super::*;

    fn listed() -> Value {
        json!({"sessions": [
            {"id": "6c1f0c2a9d3b4e7f8a1b2c3d4e5f6a7b", "created_at": 1_763_820_000_000_u64, "state": "live",
             "title": "NRIs", "policy": {"order": "alternate", "room": 2, "remote": 1, "starvation_ms": 900000},
             "ended": false, "participants": 12, "queued": 4, "connections": 3, "seq": 40,
             "floor": {"name": "Ana", "affiliation": "Brazil", "modality": "online", "granted_at": 1_763_820_060_000_u64}},
            {"id": "0c1f0c2a9d3b4e7f8a1b2c3d4e5f6a7b", "created_at": 1_763_820_000_000_u64, "state": "damaged",
             "damaged": {"seq": 4, "reason": "checksum mismatch"}}
        ]})
    }

    #[test]
    fn the_list_is_a_table_and_a_damaged_session_has_dashes() {
        let text = list_text(&listed());
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("ID "));
        assert!(
            lines[1].contains("live") && lines[1].contains("  12  ") && lines[1].ends_with("NRIs")
        );
        assert!(lines[1].contains("2025-11-22T14:00:00Z"), "{}", lines[1]);
        assert!(
            lines[2].contains("damaged") && lines[2].ends_with(" -"),
            "{}",
            lines[2]
        );
        assert!(list_text(&json!({"sessions": []})).starts_with("no sessions yet"));
    }

    #[test]
    fn show_says_who_has_the_floor_and_how_to_repair_damage() {
        let all = listed();
        let text = show_text(&all["sessions"][0]);
        assert!(
            text.contains("floor: Ana (Brazil, online), since 2025-11-22T14:01:00Z"),
            "{text}"
        );
        assert!(
            text.contains("policy: alternate 2:1 (room:remote)"),
            "{text}"
        );
        let damaged = show_text(&all["sessions"][1]);
        assert!(
            damaged.contains("damaged at seq 4 (checksum mismatch)"),
            "{damaged}"
        );
        assert!(damaged.contains("rostrum repair 0c1f0c2a9d3b4e7f8a1b2c3d4e5f6a7b"));
    }

    #[test]
    fn session_ids_are_checked_before_any_request() {
        assert!(session_id("not-an-id").is_err());
        assert_eq!(
            session_id(" 6C1F0C2A9D3B4E7F8A1B2C3D4E5F6A7B ").unwrap(),
            "6c1f0c2a9d3b4e7f8a1b2c3d4e5f6a7b"
        );
    }
}
