//! `spawn_app()` and a WebSocket test client that holds the view a console would.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rostrum::config::{Settings, StoreChoice};
use rostrum::protocol::{Slot, View};
use rostrum::store::SqliteOptions;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub const ADMIN: &str = "test-admin-token";

/// The repository's root: these tests belong to the `cli/` package, and read the docs, the pages
/// and the examples where the repository keeps them.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The checked-in frame schemas (`docs/schema/{client,server}/TYPE.json`), compiled once.
fn validators() -> &'static HashMap<(String, String), jsonschema::Validator> {
    static ALL: OnceLock<HashMap<(String, String), jsonschema::Validator>> = OnceLock::new();
    ALL.get_or_init(|| {
        let root = std::path::Path::new(ROOT).join("docs/schema");
        let mut all = HashMap::new();
        for side in ["client", "server"] {
            for entry in std::fs::read_dir(root.join(side)).expect("docs/schema is checked in") {
                let path = entry.unwrap().path();
                let schema: Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let kind = path.file_stem().unwrap().to_string_lossy().into_owned();
                let validator = jsonschema::draft202012::new(&schema)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                all.insert((side.to_owned(), kind), validator);
            }
        }
        all
    })
}

/// Check a frame against the schema of its `type` (`side` is `client` or `server`).
pub fn validate(side: &str, frame: &Value) -> Result<(), String> {
    let kind = frame["type"].as_str().ok_or("a frame without a type")?;
    let v = validators()
        .get(&(side.to_owned(), kind.to_owned()))
        .ok_or_else(|| format!("no schema for the {side} frame `{kind}`"))?;
    v.validate(frame)
        .map_err(|e| format!("{e} (at {})", e.instance_path()))
}

/// A server frame must match its schema.
fn assert_served(frame: &Value) {
    if let Err(e) = validate("server", frame) {
        panic!("the server sent a frame its schema refuses: {e}\n{frame}");
    }
}
const WAIT: Duration = Duration::from_secs(10);

pub struct App {
    pub url: String,
    pub ws_url: String,
    stop: Option<oneshot::Sender<()>>,
    pub server: JoinHandle<anyhow::Result<()>>,
    pub dir: tempfile::TempDir,
}

/// The service on 127.0.0.1, port 0, storing in SQLite in a fresh directory (the default
/// store), with `tweak` applied to the settings.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> App {
    spawn_app_in(tempfile::tempdir().unwrap(), tweak).await
}

/// The same, on an existing data directory (a restart).
pub async fn spawn_app_in(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Settings)) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    let mut settings = Settings::new(&url, ADMIN);
    // A fixed secret, as the data directory keeps one: links survive a restart.
    settings.keys = rostrum::auth::Keys::from_secret(&[7; 32]).unwrap();
    settings.store = StoreChoice::Sqlite {
        dir: dir.path().to_owned(),
        options: SqliteOptions::default(),
    };
    tweak(&mut settings);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(rostrum::app::run(listener, settings, async move {
        let _ = stopped.await;
    }));
    App {
        ws_url: format!("ws://{addr}/ws"),
        url,
        stop: Some(stop),
        server,
        dir,
    }
}

/// Settings for a database capped at 96 KiB (it fills after a few hundred commands) and a
/// message rate that lets a script fill it.
pub fn small_database(s: &mut Settings) {
    if let StoreChoice::Sqlite { options, .. } = &mut s.store {
        options.max_bytes = Some(96 * 1024);
    }
    s.ws.messages_per_sec = 10_000;
    s.ws.message_burst = 10_000;
}

pub async fn spawn_app() -> App {
    spawn_app_with(|_| {}).await
}

/// A created session: its id and the tokens of its role links.
pub struct Session {
    pub id: String,
    pub chair: String,
    pub moderator: String,
    pub participant: String,
    pub display: String,
}

/// The capability token in a link's fragment (`#t=TOKEN`).
pub fn fragment(link: &Value) -> String {
    let frag = link.as_str().unwrap().split_once('#').unwrap().1;
    frag.strip_prefix("t=")
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

impl App {
    pub async fn create_session(&self, body: Value) -> Session {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/sessions", self.url))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
        let v: Value = resp.json().await.unwrap();
        let links = &v["links"];
        assert!(
            !links["chair"].as_str().unwrap().contains('?'),
            "no capability in a query string"
        );
        Session {
            id: v["id"].as_str().unwrap().to_owned(),
            chair: fragment(&links["chair"]),
            moderator: fragment(&links["online_moderator"]),
            participant: fragment(&links["participant"]),
            display: fragment(&links["display"]),
        }
    }

    pub async fn info(&self, id: &str) -> Value {
        reqwest::get(format!("{}/api/sessions/{id}", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Connect and say hello; returns the client once its view is in place.
    pub async fn connect(&self, session: &str, token: Option<&str>) -> Client {
        Client::connect_to(&self.ws_url, session, token).await
    }

    /// Stop the service: the shutdown signal fires and `run` returns.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop_keeping_data().await.0
    }

    /// Stop the service and keep its data directory (for a restart).
    pub async fn stop_keeping_data(mut self) -> (anyhow::Result<()>, tempfile::TempDir) {
        let _ = self.stop.take().unwrap().send(());
        let r = tokio::time::timeout(WAIT, self.server)
            .await
            .expect("the server stops in time")
            .unwrap();
        (r, self.dir)
    }
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub session: String,
    pub token: Option<String>,
    /// The client secret presented in the next hello: the one the last welcome issued (a
    /// resend after a reconnect is then answered from the record), or none yet.
    pub client_id: String,
    pub welcome: Value,
    pub view: Option<View>,
    pub epoch: u64,
    pub seq: u64,
    pub next_req: u64,
    /// Update frames applied since the last hello (for resume checks).
    pub updates_seen: Vec<(u64, u64)>,
    pub snapshots_seen: usize,
}

impl Client {
    /// A socket to `ws_url` that has said hello to `session` with `token`.
    pub async fn connect_to(ws_url: &str, session: &str, token: Option<&str>) -> Client {
        let mut c = Client::open(ws_url).await;
        c.session = session.to_owned();
        c.token = token.map(str::to_owned);
        c.hello(None).await;
        c
    }

    pub async fn open(ws_url: &str) -> Client {
        Self::open_with(ws_url, &[])
            .await
            .expect("the upgrade succeeds")
    }

    /// Open with extra handshake headers; a refused upgrade gives its HTTP status and body.
    pub async fn open_with(
        ws_url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Client, (u16, String)> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = ws_url.into_client_request().unwrap();
        for (k, v) in headers {
            request.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let ws = match connect_async(request).await {
            Ok((ws, _)) => ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                return Err((resp.status().as_u16(), body));
            }
            Err(e) => panic!("the upgrade failed: {e}"),
        };
        Ok(Client {
            ws,
            session: String::new(),
            token: None,
            client_id: String::new(),
            welcome: Value::Null,
            view: None,
            epoch: 0,
            seq: 0,
            next_req: 1,
            updates_seen: Vec::new(),
            snapshots_seen: 0,
        })
    }

    /// Read until the server closes the socket: the close code and the last `error` frame's code.
    pub async fn until_closed(&mut self) -> (Option<u16>, Option<String>) {
        let mut last_error = None;
        loop {
            match self.next_message().await {
                Some(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "error" {
                        last_error = v["code"].as_str().map(str::to_owned);
                    } else {
                        self.absorb(&v);
                    }
                }
                Some(Message::Close(f)) => return (f.map(|f| u16::from(f.code)), last_error),
                Some(_) => {}
                None => return (None, last_error),
            }
        }
    }

    pub async fn send_json(&mut self, v: &Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    /// Send without asserting success (the server may have closed already).
    pub async fn ws_send(
        &mut self,
        m: Message,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        self.ws.send(m).await
    }

    pub async fn send_raw(&mut self, m: Message) {
        self.ws.send(m).await.unwrap();
    }

    /// The next frame of any kind (panics after a timeout).
    pub async fn next_message(&mut self) -> Option<Message> {
        match tokio::time::timeout(WAIT, self.ws.next()).await {
            Ok(Some(Ok(m))) => Some(m),
            Ok(Some(Err(_)) | None) => None,
            Err(_) => panic!("no frame within {WAIT:?} (client at seq {})", self.seq),
        }
    }

    /// The next text frame as JSON, applying view frames on the way.
    pub async fn recv(&mut self) -> Value {
        loop {
            match self.next_message().await {
                Some(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    assert_served(&v);
                    self.absorb(&v);
                    return v;
                }
                Some(Message::Close(f)) => panic!("closed: {f:?}"),
                Some(_) => continue,
                None => panic!("the connection ended"),
            }
        }
    }

    /// The next text frame as JSON, or `None` once the connection is gone (a killed server).
    pub async fn try_recv(&mut self) -> Option<Value> {
        loop {
            match self.next_message().await? {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    assert_served(&v);
                    self.absorb(&v);
                    return Some(v);
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Apply a snapshot, update or order frame to the local view.
    fn absorb(&mut self, v: &Value) {
        match v["type"].as_str().unwrap() {
            "snapshot" => {
                self.view = Some(serde_json::from_value(v["view"].clone()).unwrap());
                self.seq = v["seq"].as_u64().unwrap();
                self.epoch = v["epoch"].as_u64().unwrap();
                self.snapshots_seen += 1;
            }
            "update" => {
                // Version 2: `from` is the seq after the audience's previous frame, which may
                // be at or before where this client is (a snapshot or resume in between).
                let from = v["from"].as_u64().unwrap();
                let seq = v["seq"].as_u64().unwrap();
                assert!(
                    from <= self.seq + 1 && seq > self.seq,
                    "no gap and no duplicate in the update stream: from {from} seq {seq} at {}",
                    self.seq
                );
                if self.moderator() {
                    assert_eq!(from, self.seq + 1, "moderators get every update");
                } else {
                    assert!(v.get("events").is_none(), "the public gets no events: {v}");
                }
                let patch: rostrum::protocol::Patch =
                    serde_json::from_value(v["patch"].clone()).unwrap();
                let before = self.view.clone();
                let at = rostrum::queue::Timestamp(v["server_time"].as_u64().unwrap_or(0));
                if let Err(e) = self.view.as_mut().expect("a view first").apply(&patch, at) {
                    panic!("{e}: {patch:?}\nview before: {:?}", before.map(|v| v.queue));
                }
                self.seq = v["seq"].as_u64().unwrap();
                self.updates_seen.push((from, self.seq));
            }
            "order" => {
                let queue: Vec<Slot> = serde_json::from_value(v["queue"].clone()).unwrap();
                self.view.as_mut().expect("a view first").queue = queue;
            }
            _ => {}
        }
    }

    /// Say hello (resuming from `resume` if given) and take in the welcome and what follows it.
    pub async fn hello(&mut self, resume: Option<(u64, u64)>) -> Value {
        let mut hello = json!({"type": "hello", "v": 2, "session": self.session});
        if !self.client_id.is_empty() {
            hello["client"] = json!(self.client_id);
        }
        if let Some(t) = &self.token {
            hello["token"] = json!(t);
        }
        if let Some((epoch, seq)) = resume {
            hello["resume"] = json!({"epoch": epoch, "seq": seq});
        }
        self.updates_seen.clear();
        if let Err(e) = validate("client", &hello) {
            panic!("the test client's hello does not match its schema: {e}\n{hello}");
        }
        self.send_json(&hello).await;
        let welcome = self.recv().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        self.welcome = welcome.clone();
        self.client_id = welcome["client"]
            .as_str()
            .expect("welcome issues a client secret")
            .to_owned();
        if welcome["recovered"] == true {
            // The missed updates, then one `order` frame.
            loop {
                if self.recv().await["type"] == "order" {
                    break;
                }
            }
        } else {
            let snapshot = self.recv().await;
            assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
        }
        welcome
    }

    /// Send a command (adding `req`) and wait for its answer, applying updates meanwhile.
    pub async fn command(&mut self, mut cmd: Value) -> Value {
        let req = self.next_req;
        self.next_req += 1;
        cmd["req"] = json!(req);
        self.command_with_req(cmd).await
    }

    /// Send a command that already carries its `req` and wait for the answer.
    pub async fn command_with_req(&mut self, cmd: Value) -> Value {
        let req = cmd["req"].as_u64().unwrap();
        let valid = validate("client", &cmd);
        self.send_json(&cmd).await;
        loop {
            let v = self.recv().await;
            if matches!(v["type"].as_str(), Some("ack" | "error")) && v["req"].as_u64() == Some(req)
            {
                // The schema and the server agree on the command's shape both ways: what the
                // server takes, the schema takes; what it refuses as malformed, the schema refuses.
                match (v["type"].as_str(), v["code"].as_str(), &valid) {
                    (Some("ack"), _, Err(e)) => {
                        panic!("the server took a command its schema refuses: {e}\n{cmd}")
                    }
                    (_, Some("bad_field" | "unknown_type" | "bad_json"), Ok(())) => {
                        panic!("the schema takes a command the server refuses: {v}\n{cmd}")
                    }
                    _ => {}
                }
                // On one node the command's own frame comes before its ack (when the audience
                // gets one); in a cluster the ack may overtake it: moderators, who get every
                // update, hold the view the ack speaks of.
                if let Some(seq) = v["seq"].as_u64().filter(|_| v["type"] == "ack")
                    && self.moderator()
                {
                    self.sync_to(seq).await;
                }
                return v;
            }
        }
    }

    /// Send commands in one write without waiting between them (numbering them from the next
    /// `req`), then read until each is answered; returns the answers in the order they came.
    /// A moderator's view holds every acknowledged command's update when its ack arrives.
    pub async fn pipeline(&mut self, cmds: Vec<Value>) -> Vec<Value> {
        let first = self.next_req;
        for mut cmd in cmds {
            cmd["req"] = json!(self.next_req);
            self.next_req += 1;
            self.ws.feed(Message::text(cmd.to_string())).await.unwrap();
        }
        self.ws.flush().await.unwrap();
        let mut answers = Vec::new();
        while answers.len() < (self.next_req - first) as usize {
            let v = self.recv().await;
            if matches!(v["type"].as_str(), Some("ack" | "error")) && v["req"].is_u64() {
                if let Some(seq) = v["seq"].as_u64().filter(|_| self.moderator()) {
                    assert!(
                        self.seq >= seq,
                        "the update at {seq} came before its ack: {v}"
                    );
                }
                answers.push(v);
            }
        }
        answers
    }

    /// A command that must be acknowledged; returns the ack.
    pub async fn ok(&mut self, cmd: Value) -> Value {
        let what = cmd.to_string();
        let v = self.command(cmd).await;
        assert_eq!(v["type"], "ack", "{what} -> {v}");
        v
    }

    /// A command that must be refused with `code`.
    pub async fn refused(&mut self, cmd: Value, code: &str) -> Value {
        let what = cmd.to_string();
        let v = self.command(cmd).await;
        assert_eq!(
            (v["type"].as_str(), v["code"].as_str()),
            (Some("error"), Some(code)),
            "{what} -> {v}"
        );
        v
    }

    /// The chair adds people in the room by proxy, one command each.
    pub async fn add_walk_ins(&mut self, names: &[&str]) {
        for name in names {
            self.ok(json!({"type": "add_proxy", "profile": {"name": name, "modality": "onsite"}}))
                .await;
        }
    }

    /// Join (from a participant link) and keep the personal token.
    pub async fn join(&mut self, name: &str, modality: &str) -> u64 {
        let ack = self.ok(json!({"type": "join", "profile": {"name": name, "affiliation": "Test IGF", "modality": modality, "head_count": if modality == "hub" { 10 } else { 1 }}})).await;
        self.token = Some(ack["token"].as_str().expect("a personal token").to_owned());
        ack["participant"].as_u64().unwrap()
    }

    /// Whether this client is a moderator (the organizer, chair or online moderator), who
    /// gets every update, with its events.
    pub fn moderator(&self) -> bool {
        matches!(
            self.welcome["role"].as_str(),
            Some("organizer" | "chair" | "online_moderator")
        )
    }

    /// Read until the local view is at `seq` (for the public, a seq one of its frames ends at:
    /// changes the public does not see send it nothing).
    pub async fn sync_to(&mut self, seq: u64) {
        while self.seq < seq {
            self.recv().await;
        }
    }

    /// The names on the hands up in this client's view, sorted.
    pub fn request_names(&self) -> Vec<String> {
        let view = self.view.as_ref().expect("a view");
        let mut names: Vec<String> = view.requests.values().map(|r| r.who.name.clone()).collect();
        names.sort();
        names
    }

    /// My open request, if any.
    pub fn my_request(&self, participant: u64) -> Option<u64> {
        let view = self.view.as_ref()?;
        view.requests
            .values()
            .find(|r| u64::from(r.participant) == participant)
            .map(|r| u64::from(r.id))
    }

    pub fn floor_turn(&self) -> Value {
        self.view
            .as_ref()
            .unwrap()
            .floor
            .as_ref()
            .map_or(Value::Null, |f| json!(f.turn))
    }

    /// Drop the connection but keep the view, as a tab that lost its network does.
    pub async fn disconnect(&mut self) {
        let _ = self.ws.close(None).await;
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.ws.next()).await {}
    }

    /// A new socket, resuming from where this client was.
    pub async fn resume(&mut self, ws_url: &str) -> Value {
        let (ws, _) = connect_async(ws_url).await.unwrap();
        self.ws = ws;
        let at = (self.epoch, self.seq);
        self.hello(Some(at)).await
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// The value of the Prometheus sample `name` (with its labels as written, if any).
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// The real `rostrum` binary, serving from a data directory.
pub struct Server {
    child: tokio::process::Child,
    /// Every line it has logged (JSON).
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The address it listens on.
    pub addr: String,
    pub url: String,
    pub ws_url: String,
}

impl Server {
    /// On a port the OS picks.
    pub async fn start(dir: &std::path::Path) -> Server {
        Self::start_at(dir, "127.0.0.1:0").await
    }

    /// On `bind` (a restart takes its predecessor's address).
    pub async fn start_at(dir: &std::path::Path, bind: &str) -> Server {
        Self::start_logging(dir, bind, "info").await
    }

    /// On `bind`, logging at `level` (`RUST_LOG`).
    pub async fn start_logging(dir: &std::path::Path, bind: &str, level: &str) -> Server {
        Self::start_with(dir, bind, level, &[]).await
    }

    /// On `bind`, logging at `level`, with `extra` arguments to `serve`.
    pub async fn start_with(
        dir: &std::path::Path,
        bind: &str,
        level: &str,
        extra: &[String],
    ) -> Server {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
            .args(["serve", "--bind", bind, "--log-format", "json"])
            .args(["--admin-token", ADMIN])
            .args(extra)
            .arg("--data-dir")
            .arg(dir)
            .env("RUST_LOG", level)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = tokio::time::timeout(Duration::from_secs(45), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["fields"]["message"] == "rostrum serving"
                {
                    return v["fields"]["addr"].as_str().unwrap().to_owned();
                }
            }
            panic!("the server exited before serving");
        })
        .await
        .expect("the server starts");
        // Keep draining its output so it never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        Server {
            child,
            log,
            url: format!("http://{addr}"),
            ws_url: format!("ws://{addr}/ws"),
            addr,
        }
    }

    /// SIGKILL: the process dies at once, mid-write if it was writing.
    pub async fn kill9(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }

    /// SIGTERM, as systemd or Kubernetes stop a service; returns its exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("a graceful shutdown within its grace")
            .unwrap()
    }

    /// A client on `session` through this server.
    pub async fn connect(&self, session: &str, token: Option<&str>) -> Client {
        Client::connect_to(&self.ws_url, session, token).await
    }

    /// `GET /metrics` with `token`: the status and the text.
    pub async fn scrape(&self, token: &str) -> (u16, String) {
        let resp = reqwest::Client::new()
            .get(format!("{}/metrics", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Create a session through the API: the answer (its id and links).
    pub async fn create_session_json(&self, title: &str) -> Value {
        create_session_at(&self.url, &json!({"title": title})).await
    }

    /// Create a session through the API: its id and the chair's and participants' tokens.
    pub async fn create_session(&self, title: &str) -> (String, String, String) {
        let v = self.create_session_json(title).await;
        (
            v["id"].as_str().unwrap().to_owned(),
            fragment(&v["links"]["chair"]),
            fragment(&v["links"]["participant"]),
        )
    }
}

/// `POST /api/sessions` with `body` on the server at `url`, with the admin token: the answer
/// (its id and links).
pub async fn create_session_at(url: &str, body: &Value) -> Value {
    reqwest::Client::new()
        .post(format!("{url}/api/sessions"))
        .bearer_auth(ADMIN)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
