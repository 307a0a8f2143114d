//! The session report against an independent recount of the log: a session is run through real
//! sockets, then every figure of `/api/sessions/{id}/report` is counted again here from the
//! exported NDJSON (the wire's flat events) and from what the test itself declared.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{Value, json};

use super::support::*;

#[derive(Clone)]
struct Declared {
    modality: &'static str,
    stakeholder: &'static str,
    gender: &'static str,
    head_count: u64,
}

fn profile(name: &str, d: &Declared) -> Value {
    let mut p = json!({"name": name, "affiliation": "Test IGF", "modality": d.modality, "head_count": d.head_count});
    if d.stakeholder != "undeclared" {
        p["stakeholder"] = json!(d.stakeholder);
    }
    if d.gender != "undeclared" {
        p["gender"] = json!(d.gender);
    }
    p
}

/// Mean (rounded down), median (lower middle), p90 (nearest rank), as the report defines them.
fn figures(values: &[u64]) -> Value {
    if values.is_empty() {
        return json!({"count": 0, "total_ms": 0, "mean_ms": 0, "median_ms": 0, "p90_ms": 0});
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    let total: u64 = v.iter().sum();
    let p90 = v[(n * 9).div_ceil(10) - 1];
    json!({"count": n, "total_ms": total, "mean_ms": total / n as u64, "median_ms": v[(n - 1) / 2], "p90_ms": p90})
}

async fn pause() {
    tokio::time::sleep(Duration::from_millis(30)).await;
}

#[tokio::test]
async fn the_report_matches_an_independent_recount_of_the_log() {
    let app = spawn_app().await;
    let s = app
        .create_session(
            json!({"title": "Report", "agenda": [{"title": "Norms"}, {"title": "Capacity"}]}),
        )
        .await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut om = app.connect(&s.id, Some(&s.moderator)).await;
    let mut declared: HashMap<u64, Declared> = HashMap::new();
    let d = |modality, stakeholder, gender, head_count| Declared {
        modality,
        stakeholder,
        gender,
        head_count,
    };

    // Online participants and a hub join themselves; people in the room are added by the chair.
    let mut online = Vec::new();
    for (i, who) in [
        d("online", "civil_society", "woman", 1),
        d("online", "government", "man", 1),
        d("online", "undeclared", "undeclared", 1),
        d("hub", "academia", "undeclared", 25),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = app.connect(&s.id, Some(&s.participant)).await;
        let ack = c
            .ok(json!({"type": "join", "profile": profile(&format!("Remote {i}"), &who)}))
            .await;
        c.token = Some(ack["token"].as_str().unwrap().to_owned());
        declared.insert(ack["participant"].as_u64().unwrap(), who);
        online.push(c);
    }
    for (i, (who, kind)) in [
        (d("onsite", "private_sector", "woman", 1), "intervention"),
        (
            d("onsite", "technical_community", "non_binary", 1),
            "question",
        ),
        (d("onsite", "undeclared", "man", 1), "intervention"),
    ]
    .into_iter()
    .enumerate()
    {
        let ack = chair
            .ok(json!({"type": "add_proxy", "profile": profile(&format!("Room {i}"), &who), "kind": kind}))
            .await;
        let p = chair
            .view
            .as_ref()
            .unwrap()
            .requests
            .values()
            .map(|r| u64::from(r.participant))
            .max()
            .unwrap();
        let _ = ack;
        declared.insert(p, who);
    }
    online[0]
        .ok(json!({"type": "raise_hand", "kind": "question"}))
        .await;
    pause().await;
    online[1]
        .ok(json!({"type": "raise_hand", "kind": "intervention"}))
        .await;
    online[3]
        .ok(json!({"type": "raise_hand", "kind": "intervention"}))
        .await;
    online[2]
        .ok(json!({"type": "raise_hand", "kind": "intervention"}))
        .await;
    let r2 = online[2].my_request(2).unwrap();
    online[2]
        .ok(json!({"type": "change_request", "request": r2, "kind": "question"}))
        .await;
    let relay = d("online", "undeclared", "undeclared", 1);
    om.ok(json!({"type": "add_proxy", "profile": profile("From the chat", &relay), "kind": "text_intervention", "note": "What about small CERTs?"}))
        .await;
    let relayed = om
        .view
        .as_ref()
        .unwrap()
        .requests
        .values()
        .map(|r| u64::from(r.participant))
        .max()
        .unwrap();
    declared.insert(relayed, relay);

    // The floor: grants, a pause, a move and a removal with reasons, a chosen grant with its reason,
    // a re-add.
    chair.sync_to(om.seq).await;
    pause().await;
    chair
        .ok(json!({"type": "grant", "seen": null, "force": true}))
        .await;
    pause().await;
    let turn = chair.floor_turn();
    chair.ok(json!({"type": "pause", "seen": turn})).await;
    pause().await;
    chair
        .ok(json!({"type": "resume_clock", "seen": turn}))
        .await;
    pause().await;
    chair
        .ok(json!({"type": "grant", "seen": turn, "force": true}))
        .await;
    pause().await;
    let queue: Vec<u64> = chair
        .view
        .as_ref()
        .unwrap()
        .queue
        .iter()
        .map(|q| u64::from(q.request))
        .collect();
    chair
        .ok(json!({"type": "move", "request": queue[3], "position": 1, "reason": "the panel asked"}))
        .await;
    chair
        .ok(json!({"type": "remove", "request": queue[4], "reason": "duplicate"}))
        .await;
    let last = *chair
        .view
        .as_ref()
        .unwrap()
        .queue
        .last()
        .map(|q| &q.request)
        .unwrap();
    chair
        .ok(json!({"type": "grant", "request": last, "seen": chair.floor_turn(), "force": true, "reason": "has a flight to catch"}))
        .await;
    pause().await;
    chair
        .ok(json!({"type": "end_turn", "seen": chair.floor_turn()}))
        .await;
    chair
        .ok(json!({"type": "readd_last", "reason": "was cut off"}))
        .await;
    om.sync_to(chair.seq).await;
    om.ok(json!({"type": "grant", "seen": null, "force": true}))
        .await;
    pause().await;
    chair.sync_to(om.seq).await;
    chair.ok(json!({"type": "end_session"})).await;
    let takeaways = "Norms need capacity building.\nHubs asked for captioning.";
    chair
        .ok(json!({"type": "set_takeaways", "text": takeaways}))
        .await;

    // The record, both ways.
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}/api/sessions/{}/{path}", app.url, s.id))
            .bearer_auth(&s.chair)
    };
    let report: Value = get("report").send().await.unwrap().json().await.unwrap();
    let ndjson = get("events.ndjson")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    // The recount.
    let mut of_participant: HashMap<u64, u64> = HashMap::new(); // request -> participant
    let mut kind: HashMap<u64, String> = HashMap::new();
    let mut queued_at: HashMap<u64, u64> = HashMap::new();
    let mut origin: HashMap<u64, String> = HashMap::new();
    let mut granted: HashMap<u64, (u64, u64)> = HashMap::new(); // turn -> (request, at)
    let mut turn_kind: Vec<(u64, String)> = Vec::new(); // (participant, kind)
    let mut paused: HashMap<u64, (Option<u64>, u64)> = HashMap::new();
    let mut waits: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut spoke: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut answered = std::collections::HashSet::new();
    let mut overrides = Vec::new();
    let mut names: HashMap<u64, String> = HashMap::new(); // participant -> name
    let mut whose: Vec<(String, String)> = Vec::new(); // (override, whose entry)
    let mut speakers: Vec<(u64, String)> = Vec::new(); // (turn, name), in order
    let mut spoken_ms: HashMap<u64, u64> = HashMap::new(); // turn -> ended turn's length
    let mut queued = std::collections::BTreeSet::new();
    let mut ended_at = 0;
    // Every modality present has its figures, empty ones included.
    for who in declared.values() {
        waits.entry(who.modality.to_owned()).or_default();
        spoke.entry(who.modality.to_owned()).or_default();
    }
    let modality = |p: u64| declared[&p].modality.to_owned();
    for e in &events {
        let at = e["at"].as_u64().unwrap();
        let n = |k: &str| e[k].as_u64().unwrap();
        let name_of = |r: u64| names[&of_participant[&r]].clone();
        match e["type"].as_str().unwrap() {
            "participant_joined" | "profile_updated" => {
                names.insert(
                    n("participant"),
                    e["profile"]["name"].as_str().unwrap().to_owned(),
                );
            }
            "hand_raised" | "speaker_readded" => {
                let r = n("request");
                of_participant.insert(r, n("participant"));
                kind.insert(r, e["kind"].as_str().unwrap().to_owned());
                origin.insert(r, e["origin"].as_str().unwrap().to_owned());
                queued_at.insert(r, at);
                queued.insert(r);
                if e["type"] == "speaker_readded" {
                    overrides.push("readded".to_owned());
                    whose.push(("readded".to_owned(), names[&n("participant")].clone()));
                }
            }
            "request_changed" => {
                kind.insert(n("request"), e["kind"].as_str().unwrap().to_owned());
            }
            "request_rejoined" => {
                queued_at.insert(n("request"), at);
                queued.insert(n("request"));
            }
            "hand_lowered" | "request_parked" => {
                queued.remove(&n("request"));
            }
            "session_ended" => ended_at = at,
            "floor_granted" => {
                let r = n("request");
                queued.remove(&r);
                let p = of_participant[&r];
                granted.insert(n("turn"), (r, at));
                turn_kind.push((p, kind[&r].clone()));
                waits
                    .entry(modality(p))
                    .or_default()
                    .push(at - queued_at[&r]);
                answered.insert(r);
                speakers.push((n("turn"), name_of(r)));
                if e["grant"]["how"] == "chosen" {
                    overrides.push("granted_out_of_order".to_owned());
                    whose.push(("granted_out_of_order".to_owned(), name_of(r)));
                }
                if e["forced"] == true {
                    overrides.push("forced_not_ready".to_owned());
                    whose.push(("forced_not_ready".to_owned(), name_of(r)));
                }
            }
            "clock_paused" => {
                paused.entry(n("turn")).or_default().0 = Some(at);
            }
            "clock_resumed" => {
                let p = paused.entry(n("turn")).or_default();
                p.1 += at - p.0.take().unwrap();
            }
            "turn_ended" => {
                let (r, from) = granted[&n("turn")];
                let (open, total) = paused.get(&n("turn")).copied().unwrap_or_default();
                let pauses = total + open.map_or(0, |p| at - p);
                spoke
                    .entry(modality(of_participant[&r]))
                    .or_default()
                    .push(at - from - pauses);
                spoken_ms.insert(n("turn"), at - from - pauses);
            }
            "request_moved" => {
                overrides.push("moved".to_owned());
                whose.push(("moved".to_owned(), name_of(n("request"))));
            }
            "request_removed" => {
                queued.remove(&n("request"));
                overrides.push("removed".to_owned());
                whose.push(("removed".to_owned(), name_of(n("request"))));
            }
            _ => {}
        }
    }
    let count = |pairs: &mut dyn Iterator<Item = (u64, String)>| {
        let mut b: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
        let mut total = 0;
        for (p, k) in pairs {
            let who = &declared[&p];
            total += 1;
            for (axis, key) in [
                ("by_modality", who.modality.to_owned()),
                ("by_kind", k),
                ("by_stakeholder", who.stakeholder.to_owned()),
                ("by_gender", who.gender.to_owned()),
            ] {
                *b.entry(axis).or_default().entry(key).or_default() += 1;
            }
        }
        let mut v = json!(b);
        v["total"] = json!(total);
        v
    };
    let requests = count(&mut of_participant.iter().map(|(r, p)| (*p, kind[r].clone())));
    let turns = count(&mut turn_kind.iter().cloned());
    let mut attendance: BTreeMap<String, Value> = BTreeMap::new();
    for who in declared.values() {
        let a = attendance
            .entry(who.modality.to_owned())
            .or_insert_with(|| json!({"participants": 0, "people": 0}));
        a["participants"] = json!(a["participants"].as_u64().unwrap() + 1);
        a["people"] = json!(a["people"].as_u64().unwrap() + who.head_count);
    }
    let remote_question = |r: &u64| {
        declared[&of_participant[r]].modality != "onsite"
            && matches!(kind[r].as_str(), "question" | "text_intervention")
    };
    let asked: Vec<u64> = of_participant
        .keys()
        .copied()
        .filter(remote_question)
        .collect();

    assert_eq!(report["title"], "Report");
    assert_eq!(report["ended"], true);
    assert_eq!(report["agenda"], json!(["Norms", "Capacity"]));
    assert_eq!(report["attendance"], json!(attendance));
    assert_eq!(report["people"], 25 + 4 + 3);
    assert_eq!(report["hubs"][0]["head_count"], 25);
    assert_eq!(report["requests"], requests, "requests");
    assert_eq!(report["turns"], turns, "turns");
    let per = |m: &BTreeMap<String, Vec<u64>>| {
        m.iter()
            .map(|(k, v)| (k.clone(), figures(v)))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(report["waits"], json!(per(&waits)), "waits");
    assert_eq!(report["speaking"], json!(per(&spoke)), "speaking");
    assert_eq!(
        report["remote_questions"]["asked"],
        asked.len(),
        "remote questions asked"
    );
    assert_eq!(
        report["remote_questions"]["forwarded"],
        asked.iter().filter(|r| origin[*r] == "relay").count()
    );
    assert_eq!(
        report["remote_questions"]["answered"],
        asked.iter().filter(|r| answered.contains(*r)).count()
    );
    let actions: Vec<String> = report["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap().to_owned())
        .collect();
    let (mut a, mut b) = (actions.clone(), overrides.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b, "overrides");
    assert!(
        report["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["reason"] == "the panel asked")
    );
    // A chosen grant's reason is reported with it, not as "no reason given".
    assert!(
        report["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |o| o["action"] == "granted_out_of_order" && o["reason"] == "has a flight to catch"
            ),
        "{}",
        report["overrides"]
    );
    // Overrides name whose entry they touched.
    let mut got: Vec<(String, String)> = report["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let s = |k: &str| o[k].as_str().unwrap().to_owned();
            (s("action"), s("who"))
        })
        .collect();
    got.sort();
    whose.sort();
    assert_eq!(got, whose, "whose entry each override touched");
    // Who spoke, in order, with how long each ended turn lasted.
    let listed = report["speakers"].as_array().unwrap();
    assert_eq!(listed.len(), speakers.len());
    for (row, (turn, name)) in listed.iter().zip(&speakers) {
        assert_eq!(row["name"], json!(name));
        if let Some(ms) = spoken_ms.get(turn) {
            assert_eq!(row["spoken_ms"], json!(ms), "turn {turn}");
        }
    }
    assert_eq!(report["takeaways"], takeaways);
    let mut unserved: BTreeMap<String, Value> = BTreeMap::new();
    for r in &queued {
        let waited = ended_at - queued_at[r];
        let u = unserved
            .entry(modality(of_participant[r]))
            .or_insert_with(|| json!({"count": 0, "longest_ms": 0, "total_ms": 0}));
        u["count"] = json!(u["count"].as_u64().unwrap() + 1);
        u["longest_ms"] = json!(u["longest_ms"].as_u64().unwrap().max(waited));
        u["total_ms"] = json!(u["total_ms"].as_u64().unwrap() + waited);
    }
    assert!(!queued.is_empty(), "some were still waiting at the end");
    assert_eq!(
        report["unserved"],
        json!(unserved),
        "still waiting at the end"
    );
    assert!(
        !ndjson.contains("\"gender\""),
        "gender never leaves per person, only in the report's counts"
    );
    assert!(report["turns"]["total"].as_u64().unwrap() >= 4, "{report}");

    // Markdown from the API and from the CLI on the same data directory agree.
    let md = get("report.md").send().await.unwrap().text().await.unwrap();
    assert!(
        md.starts_with("# Report\n") && md.contains("Hubs asked for captioning."),
        "{md}"
    );
    assert!(md.contains("| hub | 1 | 25 |"), "{md}");
    assert!(md.contains("## Who spoke\n\n| # | time | name |"), "{md}");
    let csv = get("turns.csv").send().await.unwrap().text().await.unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + turn_kind.len(),
        "a CSV row per turn"
    );
    // Participants cannot read the record.
    let refused = http
        .get(format!("{}/api/sessions/{}/report", app.url, s.id))
        .bearer_auth(online[0].token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let (result, dir) = app.stop_keeping_data().await;
    result.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["report", &s.id, "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), md);
}
