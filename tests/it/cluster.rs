//! Several rostrum nodes on one NATS JetStream: real `nats-server` processes (a current one,
//! pinned: `tests/tools/nats-server.sh`, which `tests/run.sh` puts first on `PATH`), a single
//! server and a three-server cluster with the stream kept three times, and the real binary as
//! each node.

use std::time::Duration;

use rostrum::ids::SessionId;
use rostrum::queue::{Actor, Command, State, Timestamp, decide};
use rostrum::store::{EventLog, NatsLog, NatsOptions, Origin, SessionMeta, StoreError};
use serde_json::{Value, json};

use crate::support::{ADMIN, Client, Server, fragment, sample};

const SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the `nats-server` on `PATH` knows `sync_interval` (2.10 and later; Debian's is 2.9).
pub fn syncs_always() -> bool {
    static KNOWS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KNOWS.get_or_init(|| {
        let out = std::process::Command::new("nats-server")
            .arg("--version")
            .output()
            .expect("nats-server is not on PATH: tests/tools/nats-server.sh installs it");
        let version = String::from_utf8_lossy(&out.stdout);
        !version.contains("v2.9.") && !version.contains("v2.8.")
    })
}

/// One real `nats-server` with JetStream, alone or in a cluster.
pub struct Nats {
    child: std::process::Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Nats {
    fn spawn(name: &str, port: u16, cluster: Option<(u16, &[u16])>) -> Nats {
        let dir = tempfile::tempdir().unwrap();
        // As deploy/cluster ships it: every write flushed before it is acknowledged, on a
        // server that knows the setting (2.10 and later).
        let sync = if syncs_always() {
            "sync_interval: always"
        } else {
            ""
        };
        let mut conf = format!(
            "server_name: {name}\nlisten: 127.0.0.1:{port}\njetstream {{\n  store_dir: {:?}\n  {sync}\n}}\n",
            dir.path().join("js")
        );
        if let Some((own, all)) = cluster {
            let routes: Vec<String> = all
                .iter()
                .map(|p| format!("nats-route://127.0.0.1:{p}"))
                .collect();
            conf += &format!(
                "cluster {{ name: rostrum-test, listen: 127.0.0.1:{own}, routes: [{}] }}\n",
                routes.join(", ")
            );
        }
        let path = dir.path().join("nats.conf");
        std::fs::write(&path, conf).unwrap();
        let log = std::fs::File::create(dir.path().join("nats.log")).unwrap();
        let child = std::process::Command::new("nats-server")
            .arg("-c")
            .arg(&path)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("nats-server is not on PATH: tests/tools/nats-server.sh installs it");
        Nats {
            child,
            port,
            _dir: dir,
        }
    }

    async fn ready(&self) {
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server on {} did not start", self.port);
    }

    /// A single server.
    pub async fn single() -> Nats {
        let n = Self::spawn("solo", free_port(), None);
        n.ready().await;
        n
    }

    /// Three servers routed to each other.
    pub async fn cluster() -> Vec<Nats> {
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let nodes: Vec<Nats> = (0..3)
            .map(|i| Self::spawn(&format!("n{i}"), free_port(), Some((routes[i], &routes))))
            .collect();
        for n in &nodes {
            n.ready().await;
        }
        nodes
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn signal(&self, sig: &str) {
        let status = std::process::Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A rostrum node on `store` (NATS URLs), with `extra` arguments. A cluster node keeps nothing
/// on its own disk: its data directory is never created.
async fn node(bind: &str, store: &str, extra: &[&str]) -> Server {
    let mut args: Vec<String> = ["--store", store, "--secret", SECRET]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let unused = std::env::temp_dir().join(format!("rostrum-node-{}", uuid::Uuid::new_v4()));
    let server = Server::start_with(&unused, bind, "info", &args).await;
    assert!(
        !unused.exists(),
        "a cluster node wrote to its data directory"
    );
    server
}

/// Two nodes on one NATS server.
async fn two_nodes(nats: &Nats) -> (Server, Server) {
    (
        node("127.0.0.1:0", &nats.url(), &[]).await,
        node("127.0.0.1:0", &nats.url(), &[]).await,
    )
}

/// A session as `server` reports it (`GET /api/sessions/{id}`).
async fn info(server: &Server, s: &Value) -> Value {
    reqwest::get(format!(
        "{}/api/sessions/{}",
        server.url,
        s["id"].as_str().unwrap()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

async fn connect(ws_url: &str, s: &Value, link: &str) -> Client {
    let token = fragment(&s["links"][link]);
    Client::connect_to(ws_url, s["id"].as_str().unwrap(), Some(&token)).await
}

/// A counter from a node's `/metrics` (0 when it has not counted yet).
async fn metric(server: &Server, name: &str) -> f64 {
    sample(&server.scrape(ADMIN).await.1, name).unwrap_or(0.0)
}

fn queue(c: &Client) -> Vec<u32> {
    let view = c.view.as_ref().unwrap();
    view.queue.iter().map(|e| e.request).collect()
}

#[tokio::test]
async fn clients_on_two_nodes_converge() {
    let nats = Nats::single().await;
    let (a, b) = two_nodes(&nats).await;
    let s = a.create_session_json("Two nodes").await;
    let mut chair = connect(&a.ws_url, &s, "chair").await;
    let mut om = connect(&b.ws_url, &s, "online_moderator").await;
    // Eight people join and raise their hands at once, half through each node.
    let mut joining = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (url, s) = (
            if i % 2 == 0 { &a.ws_url } else { &b.ws_url }.clone(),
            s.clone(),
        );
        joining.spawn(async move {
            let mut p = connect(&url, &s, "participant").await;
            p.join(&format!("Person {i}"), "online").await;
            let ack = p
                .ok(json!({"type": "raise_hand", "kind": "intervention"}))
                .await;
            (p, ack["seq"].as_u64().unwrap())
        });
    }
    let mut people = Vec::new();
    let mut last = 0;
    while let Some(done) = joining.join_next().await {
        let (p, seq) = done.unwrap();
        last = last.max(seq);
        people.push(p);
    }
    assert_eq!(
        last,
        1 + 16,
        "the opening, then 8 joins and 8 raises, none lost or doubled"
    );
    // The chair on A and the online moderator on B take turns granting.
    for i in 0..3 {
        let m = if i % 2 == 0 { &mut chair } else { &mut om };
        m.sync_to(last).await;
        let seen = m.floor_turn();
        // Online speakers are granted without the ready check here.
        last = m
            .ok(json!({"type": "grant", "seen": seen, "force": true}))
            .await["seq"]
            .as_u64()
            .unwrap();
    }
    chair.sync_to(last).await;
    om.sync_to(last).await;
    assert_eq!(chair.view, om.view, "both moderators see the same view");
    assert_eq!(queue(&chair).len(), 5);
    for p in &mut people {
        p.sync_to(last).await;
        assert_eq!(p.seq, last);
        assert_eq!(
            queue(p),
            queue(&chair),
            "every participant sees the same order"
        );
        assert_eq!(p.floor_turn(), json!(2));
    }
    for server in [&a, &b] {
        assert!(
            metric(server, "rostrum_followed_appends_total").await > 0.0,
            "each node applied the other's appends"
        );
    }
    // Each node's own view of the session agrees too.
    for server in [&a, &b] {
        let info = info(server, &s).await;
        assert_eq!(info["seq"], json!(last), "{info}");
    }
}

#[tokio::test]
async fn moderators_on_two_nodes_granting_at_once_grant_once() {
    let nats = Nats::single().await;
    let (a, b) = two_nodes(&nats).await;
    let s = a.create_session_json("Same moment").await;
    let mut chair = connect(&a.ws_url, &s, "chair").await;
    let mut om = connect(&b.ws_url, &s, "online_moderator").await;
    let rounds = 10;
    for round in 0..rounds {
        chair.add_walk_ins(&[&format!("Walk-in {round}")]).await;
        om.sync_to(chair.seq).await;
        let seen = chair.floor_turn();
        assert_eq!(seen, om.floor_turn());
        let (r1, r2) = (1000 + round * 2, 1001 + round * 2);
        let grant = |req| json!({"type": "grant", "req": req, "seen": seen});
        let (g1, g2) = (grant(r1), grant(r2));
        tokio::join!(chair.send_json(&g1), om.send_json(&g2));
        let (x, y) = tokio::join!(answer(&mut chair, r1), answer(&mut om, r2));
        let (won, lost) = if x["type"] == "ack" { (x, y) } else { (y, x) };
        assert_eq!(won["type"], "ack", "round {round}: {won}");
        assert_eq!(lost["code"], "conflict", "round {round}: {lost}");
        let seq = won["seq"].as_u64().unwrap();
        chair.sync_to(seq).await;
        om.sync_to(seq).await;
        assert_eq!(chair.floor_turn(), json!(round), "one grant per round");
    }
    assert_eq!(chair.view, om.view);
    let conflicts = metric(&a, "rostrum_append_conflicts_total").await
        + metric(&b, "rostrum_append_conflicts_total").await;
    eprintln!("{conflicts} of {rounds} rounds were decided again after a refused append");
    assert!(
        conflicts > 0.0,
        "the nodes raced to the store at least once"
    );
}

async fn answer(c: &mut Client, req: u64) -> Value {
    loop {
        let v = c.recv().await;
        if v["req"].as_u64() == Some(req) && matches!(v["type"].as_str(), Some("ack" | "error")) {
            return v;
        }
    }
}

#[tokio::test]
async fn a_killed_node_s_clients_resume_on_the_next_node_and_lose_nothing() {
    let nats = Nats::single().await;
    let (pa, pb) = (free_port(), free_port());
    let peer_b = format!("http://127.0.0.1:{pb}");
    let peer_a = format!("http://127.0.0.1:{pa}");
    let a = node(
        &format!("127.0.0.1:{pa}"),
        &nats.url(),
        &["--peer-url", &peer_b],
    )
    .await;
    let b = node(
        &format!("127.0.0.1:{pb}"),
        &nats.url(),
        &["--peer-url", &peer_a],
    )
    .await;
    let s = a.create_session_json("Node dies").await;
    let mut chair = connect(&a.ws_url, &s, "chair").await;
    let next = chair.welcome["nodes"][0].as_str().unwrap().to_owned();
    assert_eq!(next, b.ws_url, "the welcome names the other node");
    let mut p = connect(&a.ws_url, &s, "participant").await;
    let me = p.join("Ana", "online").await;
    p.ok(json!({"type": "raise_hand", "kind": "question"}))
        .await;
    // The chair adds walk-ins as fast as it can while node A is killed under it.
    let mut acked = 0;
    let mut sent = 0;
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        a.kill9().await;
    });
    loop {
        sent += 1;
        let cmd = json!({"type": "add_proxy", "req": sent, "profile": {"name": format!("Walk-in {sent}"), "modality": "onsite"}});
        chair.send_json(&cmd).await;
        match tokio::time::timeout(Duration::from_secs(2), answer_or_close(&mut chair, sent)).await
        {
            Ok(Some(v)) if v["type"] == "ack" => acked = v["seq"].as_u64().unwrap(),
            Ok(Some(v)) => panic!("{v}"),
            _ => break,
        }
    }
    killer.await.unwrap();
    assert!(acked > 3, "commands were acknowledged before the kill");
    // Both clients reconnect to the node the welcome named, resuming where they were.
    chair.resume(&next).await;
    p.resume(&next).await;
    let seq = info(&b, &s).await["seq"].as_u64().unwrap();
    assert!(
        seq >= acked,
        "every acknowledged command survived: {seq} < {acked}"
    );
    chair.sync_to(seq).await;
    p.sync_to(seq).await;
    let view = chair.view.as_ref().unwrap();
    let walk_ins = view
        .requests
        .values()
        .filter(|r| r.who.name.starts_with("Walk-in"))
        .count() as u64;
    // The opening, the join and the raise; then each walk-in joins and queues (two events).
    assert_eq!(
        2 * walk_ins,
        seq - 3,
        "every recorded walk-in is in the view"
    );
    assert!(2 * walk_ins + 3 >= acked);
    assert!(
        p.my_request(me).is_some(),
        "the hand raised on A is still up on B"
    );
    // And the session goes on from B.
    let seen = chair.floor_turn();
    chair
        .ok(json!({"type": "grant", "seen": seen, "force": true}))
        .await;
}

async fn answer_or_close(c: &mut Client, req: u64) -> Option<Value> {
    loop {
        let v = c.try_recv().await?;
        if v["req"].as_u64() == Some(req) && matches!(v["type"].as_str(), Some("ack" | "error")) {
            return Some(v);
        }
    }
}

#[tokio::test]
async fn a_nats_server_killed_leaves_the_stream_its_quorum() {
    let mut cluster = Nats::cluster().await;
    let urls = |first: usize| {
        (0..3)
            .map(|i| cluster[(first + i) % 3].url())
            .collect::<Vec<_>>()
            .join(",")
    };
    let a = node("127.0.0.1:0", &urls(0), &["--nats-replicas", "3"]).await;
    let b = node("127.0.0.1:0", &urls(1), &["--nats-replicas", "3"]).await;
    let s = a.create_session_json("Quorum").await;
    // The chair's link open on both nodes (a chair on a laptop and on a tablet).
    let mut chair = connect(&a.ws_url, &s, "chair").await;
    let mut om = connect(&b.ws_url, &s, "chair").await;
    let mut last = 0;
    for i in 0..30 {
        if i == 10 {
            // Node A's first server, and maybe the stream's leader.
            cluster[0].kill9();
        }
        let m = if i % 2 == 0 { &mut chair } else { &mut om };
        let ack = until_acked(
            m,
            json!({"type": "add_proxy", "profile": {"name": format!("Walk-in {i}"), "modality": "onsite"}}),
        )
        .await;
        let Some(ack) = ack else {
            for l in a.log.lock().unwrap().iter() {
                eprintln!("A {l}");
            }
            for l in b.log.lock().unwrap().iter() {
                eprintln!("B {l}");
            }
            panic!("command {i} never acknowledged");
        };
        last = ack["seq"].as_u64().unwrap();
    }
    assert_eq!(
        last,
        1 + 2 * 30,
        "every command recorded once (a walk-in joins and queues)"
    );
    chair.sync_to(last).await;
    om.sync_to(last).await;
    assert_eq!(chair.view, om.view);
    assert_eq!(queue(&chair).len(), 30);
}

/// Send until acknowledged: while the cluster elects a new leader a command may be answered
/// `unavailable`; the same `req` is sent again, as the pages do.
async fn until_acked(c: &mut Client, cmd: Value) -> Option<Value> {
    let mut cmd = cmd;
    let req = c.seq + 10_000;
    cmd["req"] = json!(req);
    for _ in 0..10 {
        let v = c.command_with_req(cmd.clone()).await;
        match v["type"].as_str() {
            Some("ack") => return Some(v),
            _ if v["code"] == "unavailable" => tokio::time::sleep(Duration::from_millis(500)).await,
            _ => panic!("{cmd} -> {v}"),
        }
    }
    None
}

fn opening(now: u64) -> (SessionMeta, Vec<rostrum::queue::Event>) {
    let meta = SessionMeta {
        id: SessionId::random(),
        created_at: Timestamp(now),
        epoch: 1,
        key_epoch: 1,
    };
    let open = Command::OpenSession {
        title: "Store".into(),
        policy: Default::default(),
        limits: Default::default(),
        agenda: vec![],
    };
    let events = decide(&State::default(), Actor::Organizer, open, Timestamp(now)).unwrap();
    (meta, events)
}

/// Two nodes' stores on one NATS server (one copy of the stream).
async fn two_stores(nats: &Nats) -> (NatsLog, NatsLog) {
    let opts = NatsOptions {
        urls: nats.url(),
        replicas: 1,
    };
    (
        NatsLog::connect(&opts).await.unwrap(),
        NatsLog::connect(&opts).await.unwrap(),
    )
}

#[tokio::test]
async fn the_store_appends_conditionally_and_suppresses_a_retried_duplicate() {
    let nats = Nats::single().await;
    let (one, two) = two_stores(&nats).await;
    let (meta, events) = opening(1_763_820_000_000);
    let n = events.len() as u64;
    one.create(&meta, &events).await.unwrap();
    assert_eq!(
        one.create(&meta, &events).await,
        Err(StoreError::Exists(meta.id))
    );
    assert_eq!(two.meta(meta.id).await.unwrap(), Some(meta.clone()));
    let mut follower = two
        .follow(meta.id, 0)
        .await
        .unwrap()
        .expect("a shared log is followed");
    let by = |req| Origin {
        req,
        sender: Some(format!("sender-{req}")),
    };
    // Two nodes append after the same seq: one wins, the other is told where the log is.
    assert_eq!(one.append(meta.id, n, &by(7), &events).await, Ok(2 * n));
    assert_eq!(
        two.append(meta.id, n, &by(8), &events).await,
        Err(StoreError::Conflict {
            expected: n,
            actual: 2 * n
        })
    );
    // The follower saw the opening, then the winner's append, with its request id.
    let first = follower.recv().await.unwrap().unwrap();
    assert_eq!((first.from, first.seq()), (1, n));
    let second = follower.recv().await.unwrap().unwrap();
    assert_eq!((second.from, &second.origin), (n + 1, &by(7)));
    // The server stops answering mid-append (SIGSTOP) for longer than an acknowledgement is
    // awaited: the append is sent again with the same message id, and stored once.
    nats.signal("-STOP");
    let resume = {
        let pid = nats.child.id().to_string();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            std::process::Command::new("kill")
                .args(["-CONT", &pid])
                .status()
                .unwrap();
        })
    };
    assert_eq!(one.append(meta.id, 2 * n, &by(9), &events).await, Ok(3 * n));
    resume.await.unwrap();
    let all = two.load(meta.id, 0).await.unwrap();
    assert_eq!(all.len() as u64, 3 * n, "each append stored exactly once");
    let third = follower.recv().await.unwrap().unwrap();
    assert_eq!((third.from, &third.origin), (2 * n + 1, &by(9)));
    assert!(
        tokio::time::timeout(Duration::from_millis(500), follower.recv())
            .await
            .is_err(),
        "no duplicate follows"
    );
    // The answers travel in the events' messages: one each, the loser's none.
    let answers = two.answers(meta.id, Timestamp(0)).await.unwrap();
    let answered: Vec<_> = answers.iter().map(|a| (a.req, a.seq)).collect();
    assert_eq!(answered, [(7, 2 * n), (9, 3 * n)]);
    assert_eq!(two.list().await.unwrap(), vec![meta]);
}

/// Two copies of one command in flight on two nodes (a page resent it to the other node when
/// the first got no answer): whichever the log stores first settles it. A refusal's claim makes
/// the other copy's append fail instead of landing after the refusal was given; an append makes
/// the other copy's claim a conflict (it is answered from the log); a claim moves no seq.
#[tokio::test]
async fn two_copies_of_one_command_are_settled_by_the_first_stored() {
    let nats = Nats::single().await;
    let (one, two) = two_stores(&nats).await;
    let (meta, events) = opening(1_763_820_000_000);
    let n = events.len() as u64;
    one.create(&meta, &events).await.unwrap();
    let by = |req| Origin {
        req,
        sender: Some("one-page".to_owned()),
    };
    // Refused on node one first: the copy on node two does not land.
    assert_eq!(one.claim(meta.id, n, &by(1)).await, Ok(()));
    assert!(
        matches!(
            two.append(meta.id, n, &by(1), &events).await,
            Err(StoreError::Unavailable(_))
        ),
        "a claimed command's other copy is not appended"
    );
    // The same refusal claimed again (the refused copy resent) stands.
    assert_eq!(two.claim(meta.id, n, &by(1)).await, Ok(()));
    // The claims moved no seq: the next command appends after the opening, on either node.
    assert_eq!(two.append(meta.id, n, &by(2), &events).await, Ok(2 * n));
    // Appended on node two first: node one, behind, refused its copy; the claim is told where
    // the log is, and the actor answers from it.
    assert_eq!(
        one.claim(meta.id, n, &by(2)).await,
        Err(StoreError::Conflict {
            expected: n,
            actual: 2 * n
        })
    );
    assert_eq!(one.append(meta.id, 2 * n, &by(3), &events).await, Ok(3 * n));
    // The log reads back whole, claims included; they record no acknowledgement.
    assert_eq!(two.load(meta.id, 0).await.unwrap().len() as u64, 3 * n);
    let answers = two.answers(meta.id, Timestamp(0)).await.unwrap();
    let answered: Vec<_> = answers.iter().map(|a| (a.req, a.seq)).collect();
    assert_eq!(answered, [(2, 2 * n), (3, 3 * n)]);
}

#[tokio::test]
async fn resent_after_the_node_died_each_command_takes_effect_once_with_its_original_answer() {
    use crate::resend::{agenda_session, check, play_seven};
    let nats = Nats::single().await;
    let (a, b) = two_nodes(&nats).await;
    // Two sessions: one node B follows live (a viewer is on it), one B starts from the log.
    let mut sessions = Vec::new();
    let mut viewers = Vec::new();
    for followed in [true, false] {
        let (id, chair_token, join_token) = agenda_session(&a.url).await;
        if followed {
            viewers.push(b.connect(&id, None).await);
        }
        let mut chair = a.connect(&id, Some(&chair_token)).await;
        let mut newcomer = a.connect(&id, Some(&join_token)).await;
        let played = play_seven(&mut chair, &mut newcomer).await;
        sessions.push((id, chair_token, chair, newcomer, played));
    }
    a.kill9().await;
    for (id, chair_token, chair, newcomer, played) in &mut sessions {
        check(&b, id, chair_token, chair, newcomer, played).await;
    }
    b.kill9().await;
}

/// A node that has never run a session, fifty of its clients arriving at once (a failover from
/// a dead node): one load of its log from JetStream, so one replay and one follower's
/// consumer, not one per client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_failing_over_at_once_load_the_session_once() {
    let nats = Nats::single().await;
    let (a, b) = two_nodes(&nats).await;
    let s = a.create_session_json("Failover storm").await;
    let mut chair = connect(&a.ws_url, &s, "chair").await;
    chair.add_walk_ins(&["Ana", "Ben", "Chen"]).await;
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(metric(&b, "rostrum_session_loads_total").await, 0.0);
    let clients =
        futures_util::future::join_all((0..50).map(|_| Client::connect_to(&b.ws_url, &id, None)))
            .await;
    let seq = clients[0].seq;
    assert!(clients.iter().all(|c| c.seq == seq && seq > 3), "{seq}");
    assert_eq!(
        metric(&b, "rostrum_session_loads_total").await,
        1.0,
        "one load for fifty clients"
    );
}

/// `method path` on `server` with the admin token (and a body of `media`); status and JSON.
async fn admin_call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<(&str, String)>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", server.url))
        .bearer_auth(ADMIN);
    if let Some((media, body)) = body {
        req = req.header("content-type", media).body(body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// What room `room` shows now on `server`, through its display link as `server` lists it.
async fn room_now(server: &Server, room: &str) -> Value {
    let (_, rooms) = admin_call(server, reqwest::Method::GET, "/api/rooms", None).await;
    let listed = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(room))
        .unwrap_or_else(|| panic!("no room {room} on {}: {rooms}", server.url));
    let resp = reqwest::Client::new()
        .get(format!("{}/api/rooms/{room}/now", server.url))
        .bearer_auth(fragment(&listed["display"]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Poll `check` on what it reads until it holds, for up to 5 s.
async fn within_5s<F, Fut>(what: &str, mut read: F, check: impl Fn(&Value) -> bool) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let v = read().await;
        if check(&v) {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn rooms_and_the_programme_imported_on_one_node_are_on_every_node() {
    let nats = Nats::single().await;
    let fast = ["--api-per-sec", "10000"];
    let a = node("127.0.0.1:0", &nats.url(), &fast).await;
    let b = node("127.0.0.1:0", &nats.url(), &fast).await;
    use reqwest::Method;

    // Node A defines the rooms and imports a programme: one session on now, one next.
    let (status, rooms) = admin_call(
        &a,
        Method::PUT,
        "/api/rooms",
        Some((
            "application/json",
            json!({"rooms": [{"name": "Room 1", "capacity": 300}, {"name": "Hub room", "hub": true}]}).to_string(),
        )),
    )
    .await;
    assert_eq!(status, 200, "{rooms}");
    let room = rooms["rooms"][0]["id"].as_str().unwrap().to_owned();
    let at = |min: i64| {
        jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_mins(min))
            .unwrap()
            .round(jiff::Unit::Second)
            .unwrap()
            .to_string()
    };
    let csv = format!(
        "id,title,room,start,end\nNOW,On now,Room 1,{},{}\nNEXT,Up next,Room 1,{},{}\n",
        at(-10),
        at(50),
        at(60),
        at(120)
    );
    let (status, plan) = admin_call(
        &a,
        Method::POST,
        "/api/programme/import",
        Some(("text/csv", csv)),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    let on_a = plan["create"][0]["session"].as_str().unwrap().to_owned();

    // Node B's room display shows the session node A created, by the same room link.
    let shown = within_5s(
        "node B shows what node A imported",
        || room_now(&b, &room),
        |v| v["on"]["id"] == json!("NOW"),
    )
    .await;
    assert_eq!(shown["on"]["session"], json!(on_a));
    assert_eq!(shown["next"]["id"], json!("NEXT"));
    // The same rooms and permanent links (each node names itself in them: its public URL).
    let (_, listed_a) = admin_call(&a, Method::GET, "/api/rooms", None).await;
    let (_, listed_b) = admin_call(&b, Method::GET, "/api/rooms", None).await;
    assert_eq!(
        listed_a.to_string().replace(&a.url, ""),
        listed_b.to_string().replace(&b.url, "")
    );

    // The chair ends the session through node A: node B's display moves on to the next.
    let (status, _) =
        admin_call(&a, Method::POST, &format!("/api/sessions/{on_a}/end"), None).await;
    assert_eq!(status, 200);
    within_5s(
        "node B's display moves on after the end",
        || room_now(&b, &room),
        |v| v["on"].is_null() && v["next"]["id"] == json!("NEXT"),
    )
    .await;

    // A deletion on node B is seen on node A; a node started later has it all at once.
    let (status, deleted) =
        admin_call(&b, Method::DELETE, "/api/programme/entries/NEXT", None).await;
    assert_eq!(status, 200, "{deleted}");
    within_5s(
        "node A sees node B's deletion",
        || async { admin_call(&a, Method::GET, "/api/programme", None).await.1 },
        |v| v["sessions"].as_array().is_some_and(|s| s.len() == 1),
    )
    .await;
    let c = node("127.0.0.1:0", &nats.url(), &fast).await;
    let (_, programme_c) = admin_call(&c, Method::GET, "/api/programme", None).await;
    let (_, programme_a) = admin_call(&a, Method::GET, "/api/programme", None).await;
    assert_eq!(
        programme_c, programme_a,
        "a new node starts with the programme"
    );

    // Both nodes change the rooms at once, again and again: each change is either kept or
    // refused whole (409 programme_moved, nothing changed), never lost, and the nodes agree.
    let mut kept = Vec::new();
    for i in 0..10 {
        let put = |server: &Server, name: String| {
            let body = json!({"rooms": [{"name": name}]}).to_string();
            let (url, name) = (server.url.clone(), name.clone());
            async move {
                let resp = reqwest::Client::new()
                    .put(format!("{url}/api/rooms"))
                    .bearer_auth(ADMIN)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let v: Value = resp.json().await.unwrap();
                (name, status, v)
            }
        };
        let (x, y) = tokio::join!(put(&a, format!("A{i}")), put(&b, format!("B{i}")));
        for (name, status, v) in [x, y] {
            match status {
                200 => kept.push(name),
                409 => assert_eq!(v["code"], json!("programme_moved"), "{v}"),
                _ => panic!("{name}: {status} {v}"),
            }
        }
    }
    assert!(!kept.is_empty());
    let names = |v: &Value| -> Vec<String> {
        v["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let on_a = within_5s(
        "the nodes agree on the rooms",
        || async {
            // Each node names itself in the links: compare the rooms without it.
            let (_, ra) = admin_call(&a, Method::GET, "/api/rooms", None).await;
            let (_, rb) = admin_call(&b, Method::GET, "/api/rooms", None).await;
            json!([
                ra.to_string().replace(&a.url, ""),
                rb.to_string().replace(&b.url, ""),
                ra
            ])
        },
        |v| v[0] == v[1],
    )
    .await;
    let all = names(&on_a[2]);
    for name in &kept {
        assert!(
            all.contains(name),
            "{name} was answered 200 but is gone: {all:?}"
        );
    }
    assert_eq!(all.len(), 2 + kept.len(), "{all:?}");
}

/// A stream made before the programme had a subject (as an earlier version made it) gains the
/// subject when a node starts, keeping its settings and its logs; the programme is then written
/// conditionally on its last version, and a stale writer is refused.
#[tokio::test]
async fn an_older_stream_gains_the_programme_and_a_stale_write_is_refused() {
    use async_nats::jetstream::stream::{Config, StorageType};
    use rostrum::store::ProgrammeWriteError;
    let nats = Nats::single().await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    js.create_stream(Config {
        name: "ROSTRUM".to_owned(),
        subjects: vec![
            "rostrum.events.*".to_owned(),
            "rostrum.sessions.*".to_owned(),
        ],
        storage: StorageType::File,
        duplicate_window: Duration::from_secs(120),
        allow_direct: true,
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let (a, b) = two_stores(&nats).await;
    let mut stream = js.get_stream("ROSTRUM").await.unwrap();
    let config = stream.info().await.unwrap().config.clone();
    assert!(
        config.subjects.contains(&"rostrum.programme".to_owned()),
        "{config:?}"
    );
    assert!(
        config.deny_delete && config.allow_direct,
        "its settings are kept"
    );

    assert_eq!(a.programme().await.unwrap(), None);
    let first = a
        .write_programme(b"{\"v\":1,\"rooms\":[],\"slots\":[]}".to_vec(), 0)
        .await
        .unwrap();
    // Node B still believes there is none: refused, nothing written.
    let stale = b.write_programme(b"{}".to_vec(), 0).await;
    assert!(
        matches!(stale, Err(ProgrammeWriteError::Moved)),
        "{stale:?}"
    );
    let (bytes, seq) = b.programme().await.unwrap().unwrap();
    assert_eq!(
        (bytes.as_ref(), seq),
        (&b"{\"v\":1,\"rooms\":[],\"slots\":[]}"[..], first)
    );
    let second = b
        .write_programme(b"{\"v\":1,\"rooms\":[],\"slots\":[]}".to_vec(), first)
        .await
        .unwrap();
    assert!(second > first);
    // Too large for one message: refused before it is sent.
    let huge = a.write_programme(vec![b' '; 2 * 1024 * 1024], second).await;
    assert!(
        matches!(huge, Err(ProgrammeWriteError::TooLarge { .. })),
        "{huge:?}"
    );
}
