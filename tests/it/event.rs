//! A whole event through real sockets and the real binary: rooms, a programme of 120 sessions
//! in 8 rooms over 3 days imported from CSV and from iCalendar, re-imported with changes,
//! refused files, the export with links, a room display switching by the clock and by a
//! chair's end, and 1,000 sessions imported against the clock.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{ADMIN, Server, fragment, spawn_app, spawn_app_in};

const DAYS: [&str; 3] = ["2026-11-24", "2026-11-25", "2026-11-26"];
const STARTS: [&str; 5] = ["09:00", "10:45", "12:30", "14:15", "16:00"];

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.bearer_auth(ADMIN).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn set_rooms(url: &str, n: usize) -> Value {
    let rooms: Vec<Value> = (1..=n)
        .map(|i| json!({"name": format!("Room {i}"), "capacity": 50 * i, "hub": i == n}))
        .collect();
    let (status, body) = send(
        http()
            .put(format!("{url}/api/rooms"))
            .json(&json!({"rooms": rooms})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn import(url: &str, query: &str, body: String) -> (u16, Value) {
    send(
        http()
            .post(format!("{url}/api/programme/import?{query}"))
            .body(body),
    )
    .await
}

async fn session_count(url: &str) -> usize {
    let (_, list) = send(http().get(format!("{url}/api/sessions"))).await;
    list["sessions"].as_array().unwrap().len()
}

/// 120 sessions: 3 days x 8 rooms x 5 slots of 90 minutes, wall-clock times in Berlin (half
/// with a `timezone` column, half through `?tz=`), some with a policy, an agenda and a roster.
fn programme_csv() -> String {
    let mut csv = String::from("id,title,room,start,end,timezone,policy,agenda,roster\n");
    for (d, day) in DAYS.iter().enumerate() {
        for room in 1..=8 {
            for (s, start) in STARTS.iter().enumerate() {
                let (h, m) = start.split_once(':').unwrap();
                let end_min = h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap() + 90;
                let end = format!("{day} {:02}:{:02}", end_min / 60, end_min % 60);
                let id = format!("IGF-{d}-{room}-{s}");
                let tz = if room % 2 == 0 { "Europe/Berlin" } else { "" };
                let policy = ["", "fifo", "alternate", "alternate 2:1", "first_time_first"][s];
                let (agenda, roster) = if s == 0 {
                    ("Opening|Open floor", "Ana Silva (Brazil); Li Wei (ISOC)|")
                } else {
                    ("", "")
                };
                csv += &format!(
                    "{id},\"Workshop {d}.{room}.{s}: data, rights, access\",Room {room},{day} {start},{end},{tz},{policy},{agenda},{roster}\n"
                );
            }
        }
    }
    csv
}

/// The same programme as iCalendar: `TZID` on even rooms, UTC (`Z`) on odd ones.
fn programme_ics() -> String {
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rostrum test//EN\r\n");
    for (d, day) in DAYS.iter().enumerate() {
        let compact = day.replace('-', "");
        for room in 1..=8 {
            for (s, start) in STARTS.iter().enumerate() {
                let (h, m) = start.split_once(':').unwrap();
                let (h, m) = (h.parse::<u32>().unwrap(), m.parse::<u32>().unwrap());
                let when = |h: u32, m: u32| {
                    if room % 2 == 0 {
                        format!(";TZID=Europe/Berlin:{compact}T{h:02}{m:02}00")
                    } else {
                        // Berlin is UTC+1 in November.
                        format!(":{compact}T{:02}{m:02}00Z", h - 1)
                    }
                };
                let end = h * 60 + m + 90;
                ics += &format!(
                    "BEGIN:VEVENT\r\nUID:igf-{d}-{room}-{s}@example.org\r\nSUMMARY:Workshop {d}.{room}.{s}\\; data\\, rights\r\n\
                     LOCATION:Room {room}\r\nDTSTART{}\r\nDTEND{}\r\nEND:VEVENT\r\n",
                    when(h, m),
                    when(end / 60, end % 60)
                );
            }
        }
    }
    ics + "END:VCALENDAR\r\n"
}

#[tokio::test]
async fn a_three_day_programme_imports_from_csv_and_reimports_with_changes() {
    let app = spawn_app().await;
    let rooms = set_rooms(&app.url, 8).await;
    let room1 = rooms["rooms"][0].clone();
    let csv = programme_csv();

    // The dry run says what would happen and changes nothing.
    let (status, plan) = import(
        &app.url,
        "format=csv&dry_run=true&tz=Europe/Berlin",
        csv.clone(),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["create"].as_array().unwrap().len(), 120);
    assert_eq!(
        (plan["dry_run"].clone(), plan["applied"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(session_count(&app.url).await, 0);

    let (status, plan) = import(&app.url, "tz=Europe/Berlin", csv.clone()).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["applied"], true);
    assert_eq!(plan["create"].as_array().unwrap().len(), 120);
    assert_eq!(session_count(&app.url).await, 120);
    let (_, programme) = send(http().get(format!("{}/api/programme", app.url))).await;
    let sessions = programme["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 120);
    let first = sessions
        .iter()
        .find(|s| s["external_id"] == "IGF-0-1-0")
        .unwrap();
    // 09:00 in Berlin on 24 November 2026 is 08:00 UTC: 1,795,507,200 s after the epoch.
    assert_eq!(first["start"], json!(1_795_507_200_000u64));
    assert_eq!(first["room_name"], "Room 1");
    // Each entry is a normal session: its settings from the row, its title as listed.
    let (_, one) = send(http().get(format!(
        "{}/api/sessions/{}",
        app.url,
        first["session"].as_str().unwrap()
    )))
    .await;
    assert_eq!(one["title"], "Workshop 0.1.0: data, rights, access");
    let alt = sessions
        .iter()
        .find(|s| s["external_id"] == "IGF-0-1-2")
        .unwrap();
    let (_, alt) = send(http().get(format!(
        "{}/api/sessions/{}",
        app.url,
        alt["session"].as_str().unwrap()
    )))
    .await;
    assert_eq!(alt["policy"]["order"], "alternate");

    // The same file again: nothing new.
    let (status, plan) = import(&app.url, "tz=Europe/Berlin", csv.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(plan["unchanged"], 120);
    assert!(plan["create"].as_array().unwrap().is_empty());
    assert_eq!(session_count(&app.url).await, 120);

    // Changes: one moved later, one retitled, one to another room's free hour, two new.
    let changed = csv
        .replace("IGF-0-1-4,\"Workshop 0.1.4: data, rights, access\",Room 1,2026-11-24 16:00,2026-11-24 17:30",
                 "IGF-0-1-4,\"Workshop 0.1.4: data, rights, access\",Room 1,2026-11-24 16:30,2026-11-24 18:00")
        .replace("Workshop 1.2.3: data, rights, access", "Workshop 1.2.3: renamed")
        .replace("IGF-2-3-4,\"Workshop 2.3.4: data, rights, access\",Room 3,2026-11-26 16:00,2026-11-26 17:30",
                 "IGF-2-3-4,\"Workshop 2.3.4: data, rights, access\",Room 4,2026-11-26 18:00,2026-11-26 19:00")
        + "NEW-1,Closing plenary,Room 1,2026-11-26 18:00,2026-11-26 19:00,Europe/Berlin,,,\n\
           NEW-2,Side event,Room 8,2026-11-26T17:00:00Z,2026-11-26T18:00:00Z,,,,\n";
    let (status, plan) = import(&app.url, "tz=Europe/Berlin", changed.clone()).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["create"].as_array().unwrap().len(), 2);
    let mut updates: Vec<(String, Value)> = plan["update"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_str().unwrap().to_owned(), u["changed"].clone()))
        .collect();
    updates.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        updates,
        [
            ("IGF-0-1-4".to_owned(), json!(["start", "end"])),
            ("IGF-1-2-3".to_owned(), json!(["title"])),
            ("IGF-2-3-4".to_owned(), json!(["room", "start", "end"])),
        ]
    );
    assert_eq!(plan["unchanged"], 117);
    assert_eq!(session_count(&app.url).await, 122);

    // The export: every entry with its links, which work, and which import back unchanged.
    let resp = http()
        .get(format!("{}/api/programme.csv", app.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let exported = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(exported.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "id",
            "title",
            "room",
            "start",
            "end",
            "session",
            "chair",
            "online_moderator",
            "participant",
            "display",
            "public"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 122);
    let row = rows.iter().find(|r| &r[0] == "IGF-2-3-4").unwrap();
    assert_eq!(&row[2], "Room 4");
    assert_eq!(&row[3], "2026-11-26T17:00:00Z");
    let chair = fragment(&json!(row[6].to_owned()));
    let links = http()
        .get(format!("{}/api/sessions/{}/links", app.url, &row[5]))
        .bearer_auth(&chair)
        .send()
        .await
        .unwrap();
    assert_eq!(
        links.status(),
        200,
        "the exported chair link opens its session"
    );
    let (status, plan) = import(&app.url, "", exported).await;
    assert_eq!(
        (status, plan["unchanged"].clone()),
        (200, json!(122)),
        "{plan}"
    );

    // The programme and the rooms' ids (so their display links) survive a restart.
    let (r, dir) = app.stop_keeping_data().await;
    r.unwrap();
    let app = spawn_app_in(dir, |_| {}).await;
    let (_, again) = send(http().get(format!("{}/api/rooms", app.url))).await;
    assert_eq!(again["rooms"][0]["id"], room1["id"]);
    assert_eq!(
        fragment(&again["rooms"][0]["display"]),
        fragment(&room1["display"])
    );
    let (_, programme) = send(http().get(format!("{}/api/programme", app.url))).await;
    assert_eq!(programme["sessions"].as_array().unwrap().len(), 122);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_same_programme_imports_from_icalendar() {
    let app = spawn_app().await;
    set_rooms(&app.url, 8).await;
    let ics = programme_ics();
    let (status, plan) = import(&app.url, "dry_run=true", ics.clone()).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["create"].as_array().unwrap().len(), 120);
    let (status, plan) = import(&app.url, "format=ics", ics.clone()).await;
    assert_eq!(
        (status, plan["applied"].clone()),
        (200, json!(true)),
        "{plan}"
    );
    assert_eq!(session_count(&app.url).await, 120);
    let (_, programme) = send(http().get(format!("{}/api/programme", app.url))).await;
    let sessions = programme["sessions"].as_array().unwrap();
    // A TZID time and a UTC time land on the same instants as the CSV's.
    for id in ["igf-0-1-0@example.org", "igf-0-2-0@example.org"] {
        let s = sessions.iter().find(|s| s["external_id"] == id).unwrap();
        assert_eq!(s["start"], json!(1_795_507_200_000u64), "{id}");
        let n = if id.contains("-1-") { 1 } else { 2 };
        assert_eq!(s["title"], format!("Workshop 0.{n}.0; data, rights"));
    }
    // Re-import with a moved event: one update, nothing duplicated.
    let moved = ics.replacen(
        "DTSTART:20261124T080000Z\r\nDTEND:20261124T093000Z",
        "DTSTART:20261124T073000Z\r\nDTEND:20261124T090000Z",
        1,
    );
    let (status, plan) = import(&app.url, "format=ics", moved).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["update"].as_array().unwrap().len(), 1);
    assert_eq!(plan["unchanged"], 119);
    assert_eq!(session_count(&app.url).await, 120);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_files_are_refused_row_by_row_and_nothing_is_created() {
    let app = spawn_app().await;
    set_rooms(&app.url, 2).await;
    let bad = "id,title,room,start,end,timezone\n\
        a,Fine,Room 1,2026-11-24 09:00,2026-11-24 10:00,Europe/Berlin\n\
        b,Overlaps a,Room 1,2026-11-24 09:30,2026-11-24 10:30,Europe/Berlin\n\
        c,Nowhere,Room 99,2026-11-24 09:00,2026-11-24 10:00,Europe/Berlin\n\
        d,Backwards,Room 2,2026-11-24 10:00,2026-11-24 09:00,Europe/Berlin\n\
        e,No zone,Room 2,2026-11-24 11:00,2026-11-24 12:00,\n\
        f,Mars time,Room 2,2026-11-24 11:00,2026-11-24 12:00,Mars/Base\n\
        a,Twice,Room 2,2026-11-24 13:00,2026-11-24 14:00,Europe/Berlin\n\
        g,=HYPERLINK(\"http://evil\"),Room 2,2026-11-24 15:00,2026-11-24 16:00,Europe/Berlin\n\
        h,Skipped hour,Room 2,2026-03-29 02:30,2026-03-29 03:30,Europe/Berlin\n\
        i,Week long,Room 2,2026-11-24 09:00,2026-12-01 09:00,Europe/Berlin\n\
        j,,Room 2,2026-11-25 09:00,2026-11-25 10:00,Europe/Berlin\n";
    for query in ["dry_run=true", ""] {
        let (status, plan) = import(&app.url, query, bad.into()).await;
        assert_eq!(status, 422, "{plan}");
        assert_eq!(plan["applied"], false);
        let got: Vec<(String, String, String)> = plan["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert!(!r["message"].as_str().unwrap().is_empty());
                (
                    r["at"].as_str().unwrap().to_owned(),
                    r["id"].as_str().unwrap_or("").to_owned(),
                    r["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want = [
            ("line 4", "c", "unknown_room"),
            ("line 5", "d", "bad_time"),
            ("line 6", "e", "bad_time"),
            ("line 7", "f", "bad_time"),
            ("line 8", "a", "duplicate_id"),
            ("line 9", "g", "formula_cell"),
            ("line 10", "h", "bad_time"),
            ("line 11", "i", "too_long"),
            ("line 12", "j", "invalid"),
            ("line 3", "b", "overlap"),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
            .collect();
        assert_eq!(got, want);
    }
    assert_eq!(session_count(&app.url).await, 0, "nothing half-created");

    // Whole files that are no programme.
    let junk = "x".repeat(10 * 1024 * 1024);
    let (status, body) = import(&app.url, "", junk).await;
    assert_eq!(
        (status, body["code"].clone()),
        (413, json!("body_too_large"))
    );
    let (status, body) = send(
        http()
            .post(format!("{}/api/programme/import", app.url))
            .body(vec![0xff, 0xfe, 0x00, 0x41]),
    )
    .await;
    assert_eq!(
        (status, body["refused"][0]["code"].clone()),
        (422, json!("bad_file"))
    );
    let (status, body) = import(&app.url, "", "just some words\nand more\n".into()).await;
    assert_eq!(
        (status, body["refused"][0]["code"].clone()),
        (422, json!("bad_file"))
    );
    let (status, body) = import(
        &app.url,
        "format=ics",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n".into(),
    )
    .await;
    assert_eq!(
        (status, body["refused"][0]["code"].clone()),
        (422, json!("bad_file")),
        "{body}"
    );
    // Nearly 4 MiB of calendar-shaped junk is refused whole, and soon.
    let began = Instant::now();
    let junk = format!(
        "BEGIN:VCALENDAR\r\n{}",
        "X-JUNK;A=\"b:c\":;;;\r\n BEGIN:VEVENT\r\n".repeat(100_000)
    );
    let (status, body) = import(&app.url, "", junk).await;
    assert_eq!(
        (status, body["refused"][0]["code"].clone()),
        (422, json!("bad_file")),
        "{body}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    // Components nested 100,000 deep: refused, and the service is still there.
    let nested = format!("BEGIN:VCALENDAR\r\n{}", "BEGIN:VEVENT\r\n".repeat(100_000));
    let (status, body) = import(&app.url, "format=ics", nested).await;
    assert_eq!(
        (status, body["refused"][0]["code"].clone()),
        (422, json!("bad_file")),
        "{body}"
    );
    let (status, body) = import(
        &app.url,
        "tz=Atlantis/Capital",
        "id,title,room,start,end\n".into(),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("unknown_time_zone"))
    );
    let (status, body) = import(&app.url, "format=xlsx", String::new()).await;
    assert_eq!((status, body["code"].clone()), (400, json!("bad_query")));
    // Rooms: a formula, a twin name.
    let (status, body) = send(
        http()
            .put(format!("{}/api/rooms", app.url))
            .json(&json!({"rooms": [{"name": "@room"}]})),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (422, json!("bad_room")));
    let (status, body) = send(
        http()
            .put(format!("{}/api/rooms", app.url))
            .json(&json!({"rooms": [{"name": "X"}, {"name": "x"}]})),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (422, json!("duplicate_room"))
    );
    // Without the admin token: nothing.
    for (method, path) in [
        ("GET", "/api/rooms"),
        ("POST", "/api/programme/import"),
        ("GET", "/api/programme.csv"),
        ("GET", "/api/programme"),
    ] {
        let resp = http()
            .request(method.parse().unwrap(), format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method} {path}");
    }
    assert_eq!(session_count(&app.url).await, 0);
    app.stop().await.unwrap();
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

async fn room_now(url: &str, room: &str, token: &str) -> (u16, Value) {
    let resp = http()
        .get(format!("{url}/api/rooms/{room}/now"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn a_room_display_switches_by_the_clock_and_by_the_chairs_end() {
    let app = spawn_app().await;
    let rooms = set_rooms(&app.url, 2).await;
    let room = rooms["rooms"][0]["id"].as_str().unwrap().to_owned();
    let other = rooms["rooms"][1]["id"].as_str().unwrap().to_owned();
    let link = rooms["rooms"][0]["display"].as_str().unwrap();
    assert_eq!(
        link,
        format!("{}/rooms/{room}#t={}", app.url, fragment(&json!(link)))
    );
    let token = fragment(&json!(link));

    // A on now and ending in 3 s, B from then for an hour, C after B.
    let now = jiff::Timestamp::now().as_millisecond();
    let switch = now + 3_000;
    let csv = format!(
        "id,title,room,start,end\n\
         A,Session A,Room 1,{},{}\n\
         B,Session B,Room 1,{},{}\n\
         C,Session C,Room 1,{},{}\n",
        rfc3339(now - 600_000),
        rfc3339(switch),
        rfc3339(switch),
        rfc3339(switch + 3_600_000),
        rfc3339(switch + 3_600_000),
        rfc3339(switch + 7_200_000),
    );
    let (status, plan) = import(&app.url, "", csv).await;
    assert_eq!(status, 200, "{plan}");

    let (status, shown) = room_now(&app.url, &room, &token).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["on"]["id"], "A");
    assert_eq!(shown["next"]["id"], "B");
    assert_eq!(shown["switch_at"], json!(switch));
    // The display link it hands out opens the session's room code (its presence proof).
    let display = fragment(&shown["on"]["display"]);
    let session_a = shown["on"]["session"].as_str().unwrap().to_owned();
    let code = http()
        .get(format!("{}/api/sessions/{session_a}/room", app.url))
        .bearer_auth(&display)
        .send()
        .await
        .unwrap();
    assert_eq!(code.status(), 200);

    // The room's token opens this room only, and no session; a session's display link no room.
    assert_eq!(room_now(&app.url, &other, &token).await.0, 403);
    assert_eq!(room_now(&app.url, &room, &display).await.0, 403);
    assert_eq!(room_now(&app.url, &room, "nonsense").await.0, 403);
    let as_session = http()
        .get(format!("{}/api/sessions/{room}/room", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_session.status(), 404);

    // The room's poster link leads to the session on now; it opens no room code.
    let join_token = fragment(&rooms["rooms"][0]["join"]);
    let join = |token: String| {
        let url = format!("{}/api/rooms/{room}/join", app.url);
        async move {
            let resp = http().get(url).bearer_auth(token).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, to) = join(join_token.clone()).await;
    assert_eq!(status, 200, "{to}");
    assert_eq!(to["session"]["session"], json!(session_a));
    assert!(
        to["join"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/s/{session_a}/join#t=", app.url))
    );
    assert_eq!(room_now(&app.url, &room, &join_token).await.0, 403);
    let (status, poster) = send(http().get(format!("{}/api/rooms/{room}/poster", app.url))).await;
    assert_eq!(status, 200);
    assert!(poster["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(poster["join"], rooms["rooms"][0]["join"]);

    // By the clock: at A's end the room shows B.
    let wait = u64::try_from(switch - jiff::Timestamp::now().as_millisecond()).unwrap_or(0) + 100;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let (_, shown) = room_now(&app.url, &room, &token).await;
    assert_eq!(shown["on"]["id"], "B", "{shown}");
    assert_eq!(shown["next"]["id"], "C");

    // By the chair: B's chair ends it, and the room moves on to C as next at once.
    let (_, programme) = send(http().get(format!("{}/api/programme", app.url))).await;
    let b = programme["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["external_id"] == "B")
        .unwrap()
        .clone();
    let resp = http()
        .get(format!("{}/api/programme.csv", app.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let exported = resp.text().await.unwrap();
    let row = exported
        .lines()
        .find(|l| l.starts_with("B,"))
        .unwrap()
        .to_owned();
    let chair = fragment(&json!(row.split(',').nth(6).unwrap()));
    let mut console = app
        .connect(b["session"].as_str().unwrap(), Some(&chair))
        .await;
    console.ok(json!({"type": "end_session"})).await;
    let (_, shown) = room_now(&app.url, &room, &token).await;
    assert_eq!(shown["on"], Value::Null, "{shown}");
    assert_eq!(shown["next"]["id"], "C");
    let (_, to) = join(join_token).await;
    assert_eq!(
        to["session"]["id"], "C",
        "the poster leads to the next session"
    );
    assert!(
        shown["next"].get("display").is_none(),
        "C is an hour away: no code yet"
    );

    // Nothing on and the next session 10 minutes away: its room code shows already.
    let soon = jiff::Timestamp::now().as_millisecond() + 600_000;
    let csv = format!(
        "id,title,room,start,end\nD,Session D,Room 2,{},{}\n",
        rfc3339(soon),
        rfc3339(soon + 3_600_000)
    );
    let (status, plan) = import(&app.url, "", csv).await;
    assert_eq!(
        (status, plan["create"].as_array().unwrap().len()),
        (200, 1),
        "{plan}"
    );
    let other_token = fragment(&rooms["rooms"][1]["display"]);
    let (_, shown) = room_now(&app.url, &other, &other_token).await;
    assert_eq!(
        (shown["on"].clone(), shown["next"]["id"].clone()),
        (Value::Null, json!("D"))
    );
    let early = fragment(&shown["next"]["display"]);
    let code = http()
        .get(format!(
            "{}/api/sessions/{}/room",
            app.url,
            shown["next"]["session"].as_str().unwrap()
        ))
        .bearer_auth(&early)
        .send()
        .await
        .unwrap();
    assert_eq!(code.status(), 200);
    app.stop().await.unwrap();
}

/// The real binary: `rostrum programme rooms|import|export`, and 1,000 sessions imported
/// against the clock (`docs/performance.md`).
#[tokio::test]
async fn the_cli_imports_and_exports_and_a_thousand_sessions_import_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
            .args(args)
            .args(["--url", &server.url, "--admin-token", ADMIN])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let rooms_file = dir.path().join("rooms.csv");
    let mut rooms = String::from("name,capacity,hub\n");
    for i in 1..=20 {
        rooms += &format!(
            "Room {i},{},{}\n",
            100 + i,
            if i == 20 { "yes" } else { "" }
        );
    }
    std::fs::write(&rooms_file, rooms).unwrap();
    let (ok, out, err) = cli(&["programme", "rooms", rooms_file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 20);
    assert!(out.contains("/rooms/"), "{out}");

    // 1,000 sessions: 20 rooms x 50 slots of an hour.
    let n: usize = std::env::var("ROSTRUM_PROGRAMME_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let mut csv = String::from("id,title,room,start,end\n");
    for i in 0..n {
        let (room, slot) = (i % 20 + 1, i / 20);
        let start = 1_795_507_200_000i64 + i64::try_from(slot).unwrap() * 3_600_000;
        csv += &format!(
            "s{i},Session {i},Room {room},{},{}\n",
            rfc3339(start),
            rfc3339(start + 3_600_000)
        );
    }
    let file = dir.path().join("programme.csv");
    std::fs::write(&file, &csv).unwrap();
    let (ok, out, err) = cli(&["programme", "import", "--dry-run", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!("would import (dry run): {n} new, 0 updated")),
        "{out}"
    );

    let began = Instant::now();
    let resp = http()
        .post(format!("{}/api/programme/import", server.url))
        .bearer_auth(ADMIN)
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    let took = began.elapsed();
    assert_eq!(resp.status(), 200);
    println!("imported {n} sessions in {} ms", took.as_millis());
    assert!(took < Duration::from_secs(6), "{n} sessions took {took:?}");

    let (ok, out, err) = cli(&["programme", "import", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!(
            "imported: 0 new, 0 updated, {n} unchanged, 0 refused"
        )),
        "{out}"
    );
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "id,title,room,start,end\nx,X,Room 99,2026-11-24T09:00:00Z,2026-11-24T10:00:00Z\n",
    )
    .unwrap();
    let (ok, out, err) = cli(&["programme", "import", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        out.contains("refused line 2 [x]: no room is called \"Room 99\""),
        "{out}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    let (ok, out, err) = cli(&["programme", "export"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), n + 1);
    assert!(out.lines().nth(1).unwrap().contains("/chair#t="));

    // Deleting: an entry (all of these are past), again (gone), a room with sessions (refused),
    // an empty room by its name in another case.
    let (ok, out, err) = cli(&["programme", "delete", "s0"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("deleted s0 from the programme; its session "),
        "{out}"
    );
    let (ok, _, err) = cli(&["programme", "delete", "s0"]);
    assert!(!ok && err.contains("unknown_entry"), "{err}");
    let (ok, _, err) = cli(&["programme", "delete-room", "Room 1"]);
    assert!(!ok && err.contains("room_in_use"), "{err}");
    std::fs::write(
        &rooms_file,
        "name,capacity,hub
Spare room,5,
",
    )
    .unwrap();
    assert!(cli(&["programme", "rooms", rooms_file.to_str().unwrap()]).0);
    let (ok, out, err) = cli(&["programme", "delete-room", "spare ROOM"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("deleted the room Spare room;"), "{out}");
    let (ok, _, err) = cli(&["programme", "delete-room", "Spare room"]);
    assert!(!ok && err.contains("no room is called"), "{err}");
    let (_, out, _) = cli(&["programme", "export"]);
    assert_eq!(out.lines().count(), n);
    server.terminate().await;
}

/// A programme session run through real sockets, then its report in the IGF template and the
/// event's summary: the figures as the session's report counts them (which `report.rs` checks
/// against an independent recount of the log), the rapporteur's sections in place, and the
/// offline `rostrum report --event` and `--format igf` equal to the API's.
#[tokio::test]
async fn the_igf_report_and_the_event_summary_follow_the_log_and_the_rapporteur() {
    let app = spawn_app().await;
    set_rooms(&app.url, 2).await;
    let (status, plan) = import(
        &app.url,
        "",
        "id,title,room,start,end,agenda\n\
         WS-1,Data governance,Room 1,2026-11-24T08:00:00Z,2026-11-24T09:30:00Z,What rules for data flows?\n\
         WS-2,Quiet session,Room 2,2026-11-24T08:00:00Z,2026-11-24T09:00:00Z,\n"
            .into(),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    let exported = http()
        .get(format!("{}/api/programme.csv", app.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row: Vec<String> = exported
        .lines()
        .find(|l| l.starts_with("WS-1,"))
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let (id, chair_token, participant) = (
        row[5].clone(),
        fragment(&json!(row[6])),
        fragment(&json!(row[8])),
    );

    let mut chair = app.connect(&id, Some(&chair_token)).await;
    chair
        .ok(json!({"type": "add_proxy", "profile": {"name": "Ana", "affiliation": "Brazil", "modality": "onsite", "gender": "woman"}, "kind": "intervention"}))
        .await;
    for (name, modality, gender, heads) in [
        ("Li", "online", Some("man"), 1),
        ("Nairobi hub", "hub", None, 10),
    ] {
        let mut c = app.connect(&id, Some(&participant)).await;
        let mut profile =
            json!({"name": name, "affiliation": "Test", "modality": modality, "head_count": heads});
        if let Some(g) = gender {
            profile["gender"] = json!(g);
        }
        c.ok(json!({"type": "join", "profile": profile})).await;
        c.ok(json!({"type": "raise_hand", "kind": "question"}))
            .await;
        chair.sync_to(c.seq).await;
    }
    chair
        .ok(json!({"type": "grant", "seen": null, "force": true}))
        .await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    chair
        .ok(json!({"type": "grant", "seen": chair.floor_turn(), "force": true}))
        .await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    chair
        .ok(json!({"type": "end_turn", "seen": chair.floor_turn()}))
        .await;
    chair.ok(json!({"type": "end_session"})).await;
    let takeaways = "Participants discussed cross-border data.\n\n## Policy recommendations\nOpen the data.\n\n## Reflection on gender issues\nHalf the speakers were women.";
    chair
        .ok(json!({"type": "set_takeaways", "text": takeaways}))
        .await;

    let base = app.url.clone();
    let get = |path: String, token: String| {
        let url = format!("{base}{path}");
        async move {
            let resp = http().get(url).bearer_auth(token).send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let (status, md) = get(
        format!("/api/sessions/{id}/report.igf.md"),
        chair_token.clone(),
    )
    .await;
    assert_eq!(status, 200, "{md}");
    let (_, report) = get(format!("/api/sessions/{id}/report"), chair_token.clone()).await;
    let report: Value = serde_json::from_str(&report).unwrap();
    assert!(
        md.starts_with("# IGF session report: Data governance\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "- Programme: WS-1 in Room 1, 2026-11-24T08:00:00Z to 2026-11-24T09:30:00Z (UTC)"
        ),
        "{md}"
    );
    assert!(
        md.contains("## 1. Key policy questions\n\n1. What rules for data flows?\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "## 2. Summary of issues discussed\n\nParticipants discussed cross-border data.\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("## 3. Policy recommendations / way forward\n\nOpen the data.\n"),
        "{md}"
    );
    assert!(
        md.contains("## 5. Making progress\n\n_To be written by the rapporteur._\n"),
        "{md}"
    );
    // Participation: onsite 1, online 1, the hub's head count, and by declared gender.
    assert!(md.contains("| 1 | 1 | 10 | 12 |"), "{md}");
    for line in [
        "| man | 1 | 1 |",
        "| woman | 1 | 1 |",
        "| undeclared | 1 | 10 |",
    ] {
        assert!(md.contains(line), "{line} in {md}");
    }
    assert!(md.contains("Half the speakers were women."));
    // Turns per modality as the session report counts them.
    let mut turns = 0;
    for (m, s) in report["speaking"].as_object().unwrap() {
        turns += s["count"].as_u64().unwrap();
        assert!(
            md.contains(&format!("| {m} | {} |", s["count"])),
            "{m} in {md}"
        );
    }
    assert_eq!(turns, 2);
    let remote = ["online", "hub"]
        .iter()
        .map(|m| report["speaking"][m]["count"].as_u64().unwrap_or(0))
        .sum::<u64>();
    let q = &report["remote_questions"];
    assert!(
        md.contains(&format!("Remote questions: {} asked,", q["asked"])),
        "{md}"
    );

    // The same report as data: the sections as the rapporteur wrote them, the same figures.
    let (status, igf) = get(
        format!("/api/sessions/{id}/report.igf.json"),
        chair_token.clone(),
    )
    .await;
    assert_eq!(status, 200, "{igf}");
    let igf: Value = serde_json::from_str(&igf).unwrap();
    assert_eq!(
        igf["text"],
        json!({"questions": "", "summary": "Participants discussed cross-border data.",
               "recommendations": "Open the data.", "initiatives": "", "progress": "",
               "gender": "Half the speakers were women.", "outputs": ""})
    );
    assert_eq!(
        igf["key_policy_questions"],
        json!(["What rules for data flows?"])
    );
    assert_eq!(
        (
            &igf["programme"]["external_id"],
            &igf["programme"]["room_name"]
        ),
        (&json!("WS-1"), &json!("Room 1"))
    );
    let p = &igf["participation"];
    assert_eq!(
        [&p["onsite"], &p["online"], &p["hub"], &p["total"]],
        [&json!(1), &json!(1), &json!(10), &json!(12)]
    );
    assert_eq!(
        p["by_gender"]["undeclared"],
        json!({"participants": 1, "people": 10})
    );
    for (m, s) in report["speaking"].as_object().unwrap() {
        assert_eq!(igf["outputs"][m]["turns"], s["count"], "{m}");
        assert_eq!(igf["outputs"][m]["speaking_ms"], s["total_ms"], "{m}");
    }
    assert_eq!(igf["remote_questions"]["asked"], q["asked"]);

    // The same report as an OpenDocument text file: a valid package whose text is the Markdown's.
    let odt = http()
        .get(format!("{}/api/sessions/{id}/report.igf.odt", app.url))
        .bearer_auth(&chair_token)
        .send()
        .await
        .unwrap();
    assert_eq!(odt.status(), 200);
    assert_eq!(
        odt.headers()["content-type"],
        "application/vnd.oasis.opendocument.text"
    );
    let odt = odt.bytes().await.unwrap().to_vec();
    let content = odt_text(&odt);
    assert_eq!(odt_paragraphs(&content), markdown_text(&md));

    // And as a printable page: well-formed, the same text, no script.
    let (status, html) = get(
        format!("/api/sessions/{id}/report.igf.html"),
        chair_token.clone(),
    )
    .await;
    assert_eq!(status, 200);
    let body = html
        .strip_prefix("<!doctype html>\n")
        .expect("an HTML5 doctype");
    let doc = roxmltree::Document::parse(body).unwrap();
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| {
            matches!(
                n.tag_name().name(),
                "h1" | "h2" | "h3" | "p" | "li" | "th" | "td"
            )
        })
        .map(|n| {
            n.descendants()
                .filter(|t| t.is_text())
                .map(|t| t.text().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(texts, markdown_text(&md));
    assert!(!html.contains("<script"));

    // Another role's link does not open the report; the event summary takes the admin token.
    let (status, _) = get(
        format!("/api/sessions/{id}/report.igf.md"),
        participant.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = get("/api/programme/report.md".into(), chair_token.clone()).await;
    assert_eq!(status, 401);
    let (status, event) = get("/api/programme/report.md".into(), ADMIN.into()).await;
    assert_eq!(status, 200);
    assert!(event.contains("2 sessions in 2 rooms."), "{event}");
    let share = remote * 100 / 2; // of the 2 turns
    assert!(
        event.contains(&format!(
            "| WS-1 | Data governance | 1 | 1 | 10 | 2 | {share}% |"
        )),
        "{event}"
    );
    assert!(
        event.contains("| WS-2 | Quiet session | 0 | 0 | 0 | 0 | – |"),
        "{event}"
    );
    assert!(
        event.contains(&format!("Remote share of turns: {share}%.")),
        "{event}"
    );
    let (status, summary) = get("/api/programme/report.json".into(), ADMIN.into()).await;
    assert_eq!(status, 200, "{summary}");
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(
        (
            &summary["sessions"],
            &summary["rooms"],
            &summary["remote_share_pct"]
        ),
        (&json!(2), &json!(2), &json!(share))
    );
    let entry = |ext: &str| {
        summary["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["external_id"] == json!(ext))
            .unwrap()
            .clone()
    };
    let ws1 = entry("WS-1");
    assert_eq!(
        [
            &ws1["session"],
            &ws1["onsite"],
            &ws1["online"],
            &ws1["hub"],
            &ws1["turns"],
            &ws1["remote_share_pct"]
        ],
        [
            &json!(id),
            &json!(1),
            &json!(1),
            &json!(10),
            &json!(2),
            &json!(share)
        ]
    );
    assert_eq!(entry("WS-2")["remote_share_pct"], Value::Null);
    assert_eq!(summary["by_modality"]["hub"]["people"], json!(10));
    let (_, forbidden) = get("/api/programme/report.json".into(), chair_token.clone()).await;
    assert!(forbidden.contains("unauthorized"), "{forbidden}");

    // The organizer's list carries the turns and the remote side's share, for the event view.
    let (_, list) = send(http().get(format!("{}/api/sessions", app.url))).await;
    let listed = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == json!(id))
        .unwrap();
    assert_eq!(
        (listed["turns"].clone(), listed["remote_turns"].clone()),
        (json!(2), json!(remote))
    );

    // Offline, from the data directory: the same text.
    let (r, dir) = app.stop_keeping_data().await;
    r.unwrap();
    let offline = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
            .args(["report"])
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(offline(&["--event"]), event);
    assert_eq!(offline(&[&id, "--format", "igf"]), md);
    let parsed = |s: String| serde_json::from_str::<Value>(&s).unwrap();
    assert_eq!(parsed(offline(&["--event", "--json"])), summary);
    assert_eq!(parsed(offline(&["--event", "--format", "json"])), summary);
    assert_eq!(parsed(offline(&[&id, "--format", "igf-json"])), igf);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["report", &id, "--format", "odt", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(odt_text(&out.stdout), content);
}

/// An `.odt` checked as ODF asks (the `mimetype` entry first and stored, a manifest naming the
/// type) and its `content.xml`, which must be well-formed XML.
fn odt_text(file: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(file)).unwrap();
    let mut first = zip.by_index(0).unwrap();
    assert_eq!(first.name().unwrap(), "mimetype");
    assert_eq!(first.compression(), zip::CompressionMethod::Stored);
    let mut mime = String::new();
    first.read_to_string(&mut mime).unwrap();
    drop(first);
    assert_eq!(mime, "application/vnd.oasis.opendocument.text");
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let manifest = read("META-INF/manifest.xml");
    let doc = roxmltree::Document::parse(&manifest).unwrap();
    assert!(doc.descendants().any(|n| {
        n.attributes()
            .any(|a| a.name() == "full-path" && a.value() == "content.xml")
    }));
    let content = read("content.xml");
    roxmltree::Document::parse(&content).unwrap();
    content
}

/// The text of each heading and paragraph of `content.xml`, in order.
fn odt_paragraphs(content: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(content).unwrap();
    doc.descendants()
        .filter(|n| n.is_element() && matches!(n.tag_name().name(), "h" | "p"))
        .map(|n| {
            n.descendants()
                .filter(|t| t.is_text())
                .map(|t| t.text().unwrap())
                .collect()
        })
        .collect()
}

/// The Markdown's text, counted here on its own: each heading, item, paragraph line and table
/// cell, without the marks (`#`, `- `, backticks, a line in `_…_`), table rules left out.
fn markdown_text(md: &str) -> Vec<String> {
    let unmark = |s: &str| {
        let s = s.trim().replace('`', "");
        if s.len() > 2 && s.starts_with('_') && s.ends_with('_') {
            s[1..s.len() - 1].to_owned()
        } else {
            s
        }
    };
    let mut out = Vec::new();
    for line in md.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with('|') {
            if line.chars().all(|c| "|-: ".contains(c)) {
                continue;
            }
            out.extend(line.trim_matches('|').split('|').map(unmark));
        } else if let Some(item) = line.strip_prefix("- ") {
            out.push(unmark(item));
        } else {
            out.push(unmark(line.trim_start_matches('#')));
        }
    }
    out
}

/// The organizer's event view against many live sessions, as the page polls it (the programme
/// and the sessions' summaries every 750 ms): what it costs the server, and how soon a change
/// shows. `ROSTRUM_EVENT_LIVE` sessions (20 by default; 100 for `docs/performance.md`), each
/// live with a chair connected and someone waiting.
#[tokio::test]
async fn the_event_view_over_live_sessions_is_cheap_and_prompt() {
    let n: usize = std::env::var("ROSTRUM_EVENT_LIVE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let secs: u64 = if n >= 100 { 30 } else { 6 };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    set_rooms(&server.url, n).await;
    let now = jiff::Timestamp::now().as_millisecond();
    let mut csv = String::from("id,title,room,start,end\n");
    for i in 1..=n {
        csv += &format!(
            "L{i},Live {i},Room {i},{},{}\n",
            rfc3339(now - 60_000),
            rfc3339(now + 3_600_000)
        );
    }
    let (status, plan) = import(&server.url, "", csv).await;
    assert_eq!(status, 200, "{plan}");
    let exported = http()
        .get(format!("{}/api/programme.csv", server.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut chairs = Vec::new();
    for line in exported.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let mut chair = server
            .connect(cells[5], Some(&fragment(&json!(cells[6]))))
            .await;
        chair.ok(json!({"type": "add_proxy", "profile": {"name": "Walk-in", "modality": "onsite"}, "kind": "intervention"})).await;
        chairs.push((cells[5].to_owned(), chair));
    }
    let cpu = || async {
        crate::support::sample(&server.scrape(ADMIN).await.1, "process_cpu_seconds_total").unwrap()
    };
    let poll = || async {
        let began = Instant::now();
        let (a, b) = tokio::join!(
            send(http().get(format!("{}/api/programme", server.url))),
            send(http().get(format!("{}/api/sessions", server.url)))
        );
        assert_eq!((a.0, b.0), (200, 200));
        (began.elapsed(), b.1)
    };
    // The cost of the live sessions alone, then with the view polling, over the same time.
    let idle0 = cpu().await;
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let idle = cpu().await - idle0;
    let busy0 = cpu().await;
    let mut took = Vec::new();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        took.push(poll().await.0);
        tokio::time::sleep(Duration::from_millis(750)).await;
    }
    let busy = cpu().await - busy0;
    let share = (busy - idle).max(0.0) / secs as f64;
    took.sort_unstable();
    let slowest = *took.last().unwrap();
    // A change: one more person waits in session 1; the next poll shows it.
    let (id, chair) = &mut chairs[0];
    chair.ok(json!({"type": "add_proxy", "profile": {"name": "Second", "modality": "onsite"}, "kind": "intervention"})).await;
    let (_, list) = poll().await;
    let s = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == json!(id))
        .unwrap()
        .clone();
    assert_eq!(s["queued"], 2, "{s}");
    println!(
        "event view over {n} live sessions: {:.1}% of a core for the polls ({busy:.2} s CPU with, {idle:.2} s without, over {secs} s); a poll takes {} ms median, {} ms at most",
        share * 100.0,
        took[took.len() / 2].as_millis(),
        slowest.as_millis()
    );
    assert!(
        slowest < Duration::from_millis(250),
        "a poll took {slowest:?}"
    );
    server.terminate().await;
}

/// The real binary killed with SIGKILL while it imports 1,000 sessions, at a different moment
/// each round (`ROSTRUM_PROGRAMME_CRASH_ROUNDS`, 3 by default): after a restart the programme is
/// the old one or the whole new one, never part of it, and a re-import completes it.
#[tokio::test]
async fn an_import_killed_midway_leaves_the_old_programme_or_the_whole_new_one() {
    let rounds: u64 = std::env::var("ROSTRUM_PROGRAMME_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut csv = String::from("id,title,room,start,end\n");
    for i in 0..1_000i64 {
        let start = 1_795_507_200_000i64 + (i / 10) * 3_600_000;
        csv += &format!(
            "k{i},Session {i},Room {},{},{}\n",
            i % 10 + 1,
            rfc3339(start),
            rfc3339(start + 3_600_000)
        );
    }
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path()).await;
        set_rooms(&server.url, 10).await;
        let url = server.url.clone();
        let body = csv.clone();
        let running = tokio::spawn(async move {
            http()
                .post(format!("{url}/api/programme/import"))
                .bearer_auth(ADMIN)
                .body(body)
                .send()
                .await
        });
        tokio::time::sleep(Duration::from_millis(20 + round * 60)).await;
        server.kill9().await;
        let answered = running.await.unwrap().is_ok_and(|r| r.status() == 200);
        let server = Server::start(dir.path()).await;
        let (_, programme) = send(http().get(format!("{}/api/programme", server.url))).await;
        let n = programme["sessions"].as_array().unwrap().len();
        assert!(n == 0 || n == 1_000, "round {round}: {n} entries");
        assert!(!answered || n == 1_000, "an answered import is kept");
        let (status, plan) = import(&server.url, "", csv.clone()).await;
        assert_eq!(status, 200, "{plan}");
        assert_eq!(
            plan["create"].as_array().unwrap().len() + plan["unchanged"].as_u64().unwrap() as usize,
            1_000
        );
        println!(
            "round {round}: killed after {} ms, {n} entries after the restart",
            20 + round * 60
        );
        server.terminate().await;
    }
}
