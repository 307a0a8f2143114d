//! Hostile input, second round (issue 18): idle and slow connections, connections per address,
//! and the WebSocket's edges, each tried with raw bytes on real sockets.
//!
//! `ROSTRUM_HOSTILE_IDLE` sets how many idle connections the idle test opens (40 by default;
//! the figures in `docs/security.md` were measured with more).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::support::*;

/// A TCP connection to `app` from the loopback address `from` (127.0.0.1 is "the attacker",
/// 127.0.0.2 someone else).
async fn tcp_from(app: &App, from: &str) -> TcpStream {
    let to: SocketAddr = app.url.trim_start_matches("http://").parse().unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket.connect(to).await.unwrap()
}

/// Read until the peer closes (or `limit` passes): what was read, and whether it closed.
async fn read_to_close(tcp: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => return (out, false),
            Ok(Ok(0) | Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// `GET /healthz` on a fresh connection from `from`, within a second.
async fn healthy_from(app: &App, from: &str) -> bool {
    let mut tcp = tcp_from(app, from).await;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_to_close(&mut tcp, Duration::from_secs(1)).await;
    answer.starts_with(b"HTTP/1.1 200")
}

#[tokio::test]
async fn idle_and_slow_connections_are_closed_and_each_address_is_capped() {
    let idle: usize = std::env::var("ROSTRUM_HOSTILE_IDLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let cap = u32::try_from(idle).unwrap() + 10;
    let app = spawn_app_with(|s| {
        // Long enough to open them all before the first is closed.
        s.http.header_timeout = Duration::from_secs(if idle > 100 { 5 } else { 1 });
        s.http.request_timeout = Duration::from_secs(2);
        s.http.max_tcp_per_ip = cap;
        s.ws.hello_timeout = Duration::from_secs(1);
    })
    .await;
    let started = Instant::now();
    // Idle connections that never send a byte, and slowloris ones that never finish their
    // headers, from one address.
    let mut quiet = Vec::new();
    for _ in 0..idle {
        quiet.push(tcp_from(&app, "127.0.0.1").await);
    }
    let mut slow = Vec::new();
    for _ in 0..5 {
        let mut tcp = tcp_from(&app, "127.0.0.1").await;
        tcp.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        slow.push(tcp);
    }
    // A keep-alive connection that made one request and went quiet.
    let mut kept = tcp_from(&app, "127.0.0.1").await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    // A body that never finishes, and a WebSocket that never says hello.
    let mut trickle = tcp_from(&app, "127.0.0.1").await;
    trickle
        .write_all(
            b"POST /api/sessions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 1000\r\n\r\n{\"title\":",
        )
        .await
        .unwrap();
    let mut mute = Client::open(&app.ws_url).await;
    // Past the cap, the next connection from that address is told why and closed...
    let filled = idle + 5 + 3;
    let mut past = Vec::new();
    for _ in filled..=cap as usize {
        past.push(tcp_from(&app, "127.0.0.1").await);
    }
    let mut over = past.pop().unwrap();
    over.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_to_close(&mut over, Duration::from_secs(3)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 429") && answer.contains("too_many_connections"),
        "{answer}"
    );
    assert!(closed);
    // ...while another address is served throughout.
    assert!(healthy_from(&app, "127.0.0.2").await);

    // Everything idle or slow is closed after the header (or hello, or request) timeout.
    let (_, closed) = read_to_close(&mut kept, Duration::from_secs(6)).await;
    assert!(closed, "an idle keep-alive connection is closed");
    for tcp in quiet
        .iter_mut()
        .chain(slow.iter_mut())
        .chain(past.iter_mut())
    {
        let (_, closed) = read_to_close(tcp, Duration::from_secs(6)).await;
        assert!(closed, "an idle or slow connection is closed");
    }
    let all_closed = started.elapsed();
    let (answer, closed) = read_to_close(&mut trickle, Duration::from_secs(3)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408") && answer.contains("request_timeout"),
        "{answer}"
    );
    assert!(closed);
    assert_eq!(mute.until_closed().await.0, Some(1008), "no hello in time");
    println!(
        "{idle} idle and 5 slowloris connections from one address: all closed {:.1} s after they opened",
        all_closed.as_secs_f64()
    );
    // Their slots were given back: the address is served again.
    assert!(healthy_from(&app, "127.0.0.1").await);
    assert!(healthy_from(&app, "127.0.0.2").await);
}

#[tokio::test]
async fn websockets_and_plain_connections_share_one_cap_per_address() {
    let app = spawn_app_with(|s| s.http.max_tcp_per_ip = 3).await;
    let s = app.create_session(json!({"title": "Capped"})).await;
    let mut a = app.connect(&s.id, None).await;
    let _b = app.connect(&s.id, None).await;
    let _plain = tcp_from(&app, "127.0.0.1").await;
    // The fourth connection, a WebSocket, is refused before the upgrade.
    let refused = Client::open_with(&app.ws_url, &[]).await.err().unwrap();
    assert_eq!(refused.0, 429);
    assert!(refused.1.contains("too_many_connections"), "{}", refused.1);
    // An upgraded socket keeps its place after its HTTP connection is done; closing it gives
    // the place back.
    a.ws_send(tokio_tungstenite::tungstenite::Message::Close(None))
        .await
        .unwrap();
    let _ = a.until_closed().await;
    let mut again = None;
    for _ in 0..50 {
        if let Ok(c) = Client::open_with(&app.ws_url, &[]).await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "the closed socket's place is given back");
}

/// A raw WebSocket: the upgrade done by hand, so that any bytes can follow.
async fn raw_ws(app: &App) -> TcpStream {
    let mut tcp = tcp_from(app, "127.0.0.1").await;
    tcp.write_all(
        b"GET /ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
          sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        tcp.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
    tcp
}

/// One frame: the first byte (FIN, RSV bits, opcode), the payload, masked unless `mask` is None.
fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![first];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | u8::try_from(n).unwrap()),
        n if n <= 0xffff => {
            f.push(m | 126);
            f.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            f.extend_from_slice(&key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

fn text(payload: &[u8]) -> Vec<u8> {
    frame(0x81, payload, Some([1, 2, 3, 4]))
}

#[tokio::test]
async fn websocket_protocol_errors_get_their_rfc_6455_close_codes() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Edges"})).await;
    let hello = json!({"type": "hello", "v": 2, "session": s.id}).to_string();
    let mut bad_utf8 = br#"{"type":"hello","v":2,"session":""#.to_vec();
    bad_utf8.extend_from_slice(&[0xc3, 0x28, b'"', b'}']);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("one 65 KiB frame", text(&vec![b' '; 65 * 1024]), 1009),
        ("one 1 MiB frame", text(&vec![b' '; 1024 * 1024]), 1009),
        (
            "fragments over 64 KiB",
            [
                frame(0x01, &[b' '; 40 * 1024], Some([9; 4])),
                frame(0x80, &[b' '; 40 * 1024], Some([9; 4])),
            ]
            .concat(),
            1009,
        ),
        ("invalid UTF-8", text(&bad_utf8), 1007),
        ("a reserved bit", frame(0xc1, b"{}", Some([1; 4])), 1002),
        (
            "a reserved data opcode",
            frame(0x83, b"{}", Some([1; 4])),
            1002,
        ),
        (
            "a reserved control opcode",
            frame(0x8b, b"", Some([1; 4])),
            1002,
        ),
        ("an unmasked frame", frame(0x81, b"{}", None), 1002),
        (
            "a fragmented control frame",
            frame(0x09, b"", Some([1; 4])),
            1002,
        ),
        (
            "the client's close, echoed",
            frame(0x88, &1000u16.to_be_bytes(), Some([5; 4])),
            1000,
        ),
    ];
    for said_hello in [false, true] {
        for (what, bytes, code) in &cases {
            let mut tcp = raw_ws(&app).await;
            if said_hello {
                tcp.write_all(&text(hello.as_bytes())).await.unwrap();
            }
            // Written from another task: the server need not read all of it.
            let (mut rd, mut wr) = tcp.into_split();
            let bytes = bytes.clone();
            let writer = tokio::spawn(async move {
                let _ = wr.write_all(&bytes).await;
                wr
            });
            let mut rd_tcp = ReadHalf(&mut rd);
            assert_eq!(
                rd_tcp.close_code().await,
                Some(*code),
                "{what} (after hello: {said_hello})"
            );
            drop(writer);
        }
    }
    // Nobody else noticed.
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let v: Value = chair.ok(json!({"type": "reopen_list"})).await;
    assert_eq!(v["type"], "ack");
}

/// [`close_code`] on the read half of a split socket.
struct ReadHalf<'a>(&'a mut tokio::net::tcp::OwnedReadHalf);

impl ReadHalf<'_> {
    async fn close_code(&mut self) -> Option<u16> {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, self.0.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => bytes.extend_from_slice(&buf[..n]),
                _ => break,
            }
            if let Some(code) = parse_close(&bytes) {
                return Some(code);
            }
        }
        parse_close(&bytes)
    }
}

/// The code of the first close frame among the server's frames in `bytes`.
fn parse_close(bytes: &[u8]) -> Option<u16> {
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let (len, head) = match bytes[at + 1] & 0x7f {
            126 => (
                usize::from(u16::from_be_bytes(
                    bytes.get(at + 2..at + 4)?.try_into().ok()?,
                )),
                4,
            ),
            127 => (
                usize::try_from(u64::from_be_bytes(
                    bytes.get(at + 2..at + 10)?.try_into().ok()?,
                ))
                .ok()?,
                10,
            ),
            n => (usize::from(n), 2),
        };
        let payload = bytes.get(at + head..at + head + len)?;
        if opcode == 0x8 {
            return Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]));
        }
        at += head + len;
    }
    None
}

#[tokio::test]
async fn text_limits_have_one_source_core_pages_and_socket() {
    use rostrum::queue::text;
    // The pages' maxlength is the core's limit, field by field.
    let pages: String = ["join", "console", "organize"]
        .iter()
        .map(|p| {
            std::fs::read_to_string(format!("{}/web/pages/{p}.html", crate::support::ROOT)).unwrap()
        })
        .collect();
    for (id, chars) in text::PAGE_FIELDS {
        let at = pages
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id}"));
        let tag = &pages[pages[..at].rfind('<').unwrap()..at + pages[at..].find('>').unwrap()];
        assert!(
            tag.contains(&format!("maxlength=\"{chars}\"")),
            "#{id} must have maxlength {chars}: {tag}"
        );
    }
    // Every accepted character fits in four bytes of JSON, so the socket's limit carries the
    // longest text in any script.
    for c in ['长', 'ж', 'م', '😀', '"', '\\', '\n', '\t', 'a'] {
        assert!(json!(c.to_string()).to_string().len() - 2 <= text::WIRE_BYTES_PER_CHAR);
    }
    assert!(
        rostrum::config::Settings::new("http://x", "t")
            .ws
            .max_message_bytes
            >= text::MESSAGE_MIN_BYTES
    );

    // Through the socket: the longest takeaways in Chinese, Russian, Arabic, emoji and quotes
    // are taken; one character more is refused with a code, and the socket stays.
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Long texts"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    for c in ['长', 'ж', 'م', '😀', '"'] {
        let long: String = std::iter::repeat_n(c, text::TAKEAWAYS_MAX).collect();
        chair
            .ok(json!({"type": "set_takeaways", "text": long}))
            .await;
        let longer = format!("{long}{c}");
        let v = chair
            .refused(json!({"type": "set_takeaways", "text": longer}), "invalid")
            .await;
        assert!(v["message"].as_str().unwrap().contains("takeaways"), "{v}");
    }
    chair.ok(json!({"type": "reopen_list"})).await;
}

/// A WebSocket from the loopback address `from`, said hello to `session` with `token`.
async fn ws_from(
    app: &App,
    from: &str,
    session: &str,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<TcpStream> {
    use futures_util::SinkExt;
    let tcp = tcp_from(app, from).await;
    let (mut ws, _) = tokio_tungstenite::client_async(&app.ws_url, tcp)
        .await
        .unwrap();
    let hello = json!({"type": "hello", "v": 2, "session": session, "token": token});
    ws.send(hello.to_string().into()).await.unwrap();
    ws
}

/// Send `cmd` with `req` and return the answer to it.
async fn answer(
    ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>,
    req: u64,
    cmd: Value,
) -> Value {
    use futures_util::{SinkExt, StreamExt};
    let mut cmd = cmd;
    cmd["req"] = json!(req);
    ws.send(cmd.to_string().into()).await.unwrap();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("an answer")
            .expect("open")
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            // The command's own update (which names its `req` too) comes before the answer.
            if v["req"] == json!(req) && matches!(v["type"].as_str(), Some("ack" | "error")) {
                return v;
            }
        }
    }
}

#[tokio::test]
async fn room_code_guesses_are_limited_per_address_and_session_and_the_room_still_joins() {
    let app = spawn_app_with(|s| {
        s.ws.room_attempts_per_ip = 5;
        s.ws.room_attempts_per_session = 8;
    })
    .await;
    let s = app.create_session(json!({"title": "Guessed"})).await;
    let session: rostrum::ids::SessionId = s.id.parse().unwrap();
    let keys = rostrum::auth::Keys::from_secret(&[7; 32]).unwrap();
    let now = || {
        u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
    };
    let recent = |t: u64| {
        (0..=60u64)
            .map(|b| keys.room_code(session, t.saturating_sub(b * 60_000)))
            .collect::<Vec<_>>()
    };
    let t = now();
    let seen = recent(t);
    let wrong: Vec<String> = (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .filter(|c| !seen.contains(c))
        .take(20)
        .collect();
    let onsite = |room: &str| json!({"type": "join", "room": room, "profile": {"name": "Guest", "modality": "onsite"}});
    // Don't straddle a minute: the budgets are per minute.
    let into_minute = t % 60_000;
    if into_minute > 50_000 {
        tokio::time::sleep(Duration::from_millis(60_000 - into_minute + 100)).await;
    }

    // One address, spread over sockets: five wrong codes, then it is held back, even with
    // the right code (it learns nothing), and told how long to wait.
    let mut req = 0;
    for code in &wrong[..5] {
        let mut ws = ws_from(&app, "127.0.0.1", &s.id, &s.participant).await;
        req += 1;
        let v = answer(&mut ws, req, onsite(code)).await;
        assert_eq!(v["code"], "wrong_room_code", "{v}");
    }
    let mut ws = ws_from(&app, "127.0.0.1", &s.id, &s.participant).await;
    let right = keys.room_code(session, now());
    req += 1;
    let v = answer(&mut ws, req, onsite(&right)).await;
    assert_eq!(v["code"], "too_many_attempts", "{v}");
    assert!(v["retry_after_ms"].as_u64().unwrap() <= 60_000);

    // Another address spends the rest of the session's budget and is held back in turn...
    let mut other = ws_from(&app, "127.0.0.2", &s.id, &s.participant).await;
    for code in &wrong[5..8] {
        req += 1;
        let v = answer(&mut other, req, onsite(code)).await;
        assert_eq!(v["code"], "wrong_room_code", "{v}");
    }
    req += 1;
    let v = answer(&mut other, req, onsite(&wrong[8])).await;
    assert_eq!(v["code"], "too_many_attempts", "{v}");

    // ...but the room, on an address that typed no wrong code, joins with the code on the
    // screen; an old code from the last hour is called expired, not wrong.
    let mut room = ws_from(&app, "127.0.0.3", &s.id, &s.participant).await;
    let old = keys.room_code(session, now() - 10 * 60_000);
    if !recent(now())[..2].contains(&old) {
        req += 1;
        let v = answer(&mut room, req, onsite(&old)).await;
        assert_eq!(v["code"], "room_code_expired", "{v}");
    }
    req += 1;
    let v = answer(&mut room, req, onsite(&keys.room_code(session, now()))).await;
    assert_eq!(v["type"], "ack", "{v}");
}

#[tokio::test]
async fn names_a_spreadsheet_would_run_are_neutralised_in_turns_csv_from_the_api_and_the_cli() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Spreadsheet"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let names = [
        "=HYPERLINK(\"http://evil.example\",\"Ana\")",
        "+1+cmd",
        "-2+3",
        "@SUM(A1)",
    ];
    for (turn, name) in names.iter().enumerate() {
        chair
            .ok(json!({"type": "add_proxy", "profile": {"name": name, "affiliation": "=1+1", "modality": "onsite"}}))
            .await;
        chair.ok(json!({"type": "grant", "seen": null})).await;
        chair.ok(json!({"type": "end_turn", "seen": turn})).await;
    }
    let api = reqwest::Client::new()
        .get(format!("{}/api/sessions/{}/turns.csv", app.url, s.id))
        .bearer_auth(&s.chair)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["export", &s.id, "--format", "csv", "--data-dir"])
        .arg(app.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let cli = String::from_utf8(out.stdout).unwrap();
    for csv in [&api, &cli] {
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), names.len());
        for (row, name) in rows.iter().zip(names) {
            assert_eq!(&row[1], format!("'{name}"), "the name, shown as typed");
            assert_eq!(&row[2], "'=1+1");
        }
        // No cell of the file begins with a formula character.
        for row in &rows {
            for c in row {
                assert!(!c.starts_with(['=', '+', '-', '@', '\t', '\r']), "{c}");
            }
        }
    }
}

#[tokio::test]
async fn second_round_names_are_refused_or_told_apart_on_the_wire() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Names again"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    let mut joiner = app.connect(&s.id, Some(&s.participant)).await;
    let stacked = format!("A{}na", "\u{0301}".repeat(79));
    for (name, affiliation, field) in [
        ("ᴍoderator", "", "name"),
        ("M0derator", "", "name"),
        ("Ana\u{2028}Lima", "", "name"),
        ("An\u{034F}a", "", "name"),
        (stacked.as_str(), "", "name"),
        ("Ana Lima", "Session Chair", "affiliation"),
        ("Ana Lima", "IGF Secretariat", "affiliation"),
    ] {
        let v = joiner
            .refused(
                json!({"type": "join", "profile": {"name": name, "affiliation": affiliation}}),
                "invalid",
            )
            .await;
        let message = v["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{field}:")), "{name:?}: {v}");
    }
    // Twins whose names differ only in spaces or an ignorable mark are told apart for everyone.
    let mut first = app.connect(&s.id, Some(&s.participant)).await;
    first.join("Ana Lima", "online").await;
    first.ok(json!({"type": "raise_hand"})).await;
    joiner.join("Ana  Lima", "online").await;
    joiner.ok(json!({"type": "raise_hand"})).await;
    let mut third = app.connect(&s.id, Some(&s.participant)).await;
    third.join("ana\u{3000}lima", "online").await;
    third.ok(json!({"type": "raise_hand"})).await;
    let mut fourth = app.connect(&s.id, Some(&s.participant)).await;
    fourth.join("Ana Lima\u{FE0F}", "online").await;
    fourth.ok(json!({"type": "raise_hand"})).await;
    chair.sync_to(fourth.seq).await;
    assert_eq!(
        chair.request_names(),
        [
            "Ana Lima",
            "Ana Lima (2)",
            "Ana Lima\u{FE0F} (4)",
            "ana lima (3)"
        ],
    );
}

#[tokio::test]
async fn a_join_flood_is_slowed_per_address_and_the_chair_purges_it_in_bulk() {
    let app = spawn_app_with(|s| s.ws.joins_per_minute_per_ip = 20).await;
    let s = app.create_session(json!({"title": "Flooded"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    // A real participant, on another address, who raises a hand.
    let mut ana = ws_from(&app, "127.0.0.2", &s.id, &s.participant).await;
    let v = answer(
        &mut ana,
        1,
        json!({"type": "join", "profile": {"name": "Ana"}}),
    )
    .await;
    assert_eq!(v["type"], "ack", "{v}");
    assert_eq!(
        answer(&mut ana, 2, json!({"type": "raise_hand"})).await["type"],
        "ack"
    );
    // The flood: one address, a socket per join. The first 20 get in, then it is told to wait.
    let started = Instant::now();
    let mut bots = Vec::new();
    let mut refused = None;
    for n in 0..30 {
        let mut bot = ws_from(&app, "127.0.0.1", &s.id, &s.participant).await;
        let v = answer(
            &mut bot,
            1,
            json!({"type": "join", "profile": {"name": format!("Bot {n}")}}),
        )
        .await;
        match v["type"].as_str() {
            Some("ack") => bots.push(bot),
            _ => {
                refused.get_or_insert((n, v));
            }
        }
    }
    let (first_refused, v) = refused.expect("the flood is slowed");
    assert_eq!(first_refused, 20);
    assert_eq!(v["code"], "too_many_joins", "{v}");
    assert!(v["retry_after_ms"].as_u64().unwrap() > 0);
    println!(
        "30 joins from one address in {:.2} s: {} accepted",
        started.elapsed().as_secs_f64(),
        bots.len()
    );
    // Another address still joins.
    let mut late = ws_from(&app, "127.0.0.3", &s.id, &s.participant).await;
    let v = answer(
        &mut late,
        1,
        json!({"type": "join", "profile": {"name": "Bo"}}),
    )
    .await;
    assert_eq!(v["type"], "ack", "{v}");
    // The chair removes everyone who joined and never raised a hand: the bots, and Bo.
    let v = chair
        .ok(json!({"type": "remove_silent", "since": null, "reason": "join flood"}))
        .await;
    assert_eq!(v["type"], "ack");
    for bot in &mut bots {
        use futures_util::StreamExt;
        let mut closed_by = None;
        while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), bot.next()).await {
            if let tokio_tungstenite::tungstenite::Message::Close(Some(f)) = m {
                closed_by = Some(f.reason.to_string());
                break;
            }
        }
        assert_eq!(closed_by.as_deref(), Some("revoked"));
    }
    // Ana, who raised her hand, stays and keeps her place.
    chair.sync_to(chair.seq).await;
    let queue = &chair.view.as_ref().unwrap().queue;
    assert_eq!(queue.len(), 1);
    assert_eq!(
        answer(
            &mut ana,
            3,
            json!({"type": "update_profile", "profile": {"name": "Ana"}})
        )
        .await["type"],
        "ack"
    );
}
