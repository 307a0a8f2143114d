//! `rostrum session create|list|show|end`: the organizer's commands, run against a running
//! server's API with the admin token (the same calls the organizer page makes). They print for
//! people by default and the API's JSON with `--json`.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use clap::{Args, Subcommand};
use secrecy::{ExposeSecret as _, SecretString};

/// `rostrum session ...`
#[derive(Debug, Subcommand)]
pub enum SessionCmd {
    /// Create a session and print its role links.
    Create(CreateArgs),
    /// List every session on the server: state, connections, participants, queue, title.
    List(ListArgs),
    /// Show one session: its figures, who has the floor, and its role links.
    Show(ShowArgs),
    /// End a session: read-only for good (its record and report remain).
    End(ShowArgs),
}

/// Run one `rostrum session` command.
pub async fn run(cmd: SessionCmd) -> anyhow::Result<()> {
    match cmd {
        SessionCmd::Create(args) => create(args).await,
        SessionCmd::List(args) => list(args).await,
        SessionCmd::Show(args) => show(args).await,
        SessionCmd::End(args) => end(args).await,
    }
}

/// The running server the `session` and `programme` commands talk to.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The running server's address.
    #[arg(long, env = "ROSTRUM_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The server's admin token.
    #[arg(long, env = "ROSTRUM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: SecretString,
}

/// `rostrum session list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `rostrum session show` and `rostrum session end`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The session id.
    pub session: String,
    /// Print the API's JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `rostrum session create --policy`: the order of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyArg {
    /// First come, first served.
    Fifo,
    /// The room and the remote side in turn, one each.
    Alternate,
    /// People who have not spoken yet go first.
    #[value(name = "first_time_first")]
    FirstTimeFirst,
}

/// `rostrum session create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The session's title.
    #[arg(long)]
    pub title: String,
    /// Ordering policy.
    #[arg(long, value_enum, default_value = "fifo")]
    pub policy: PolicyArg,
    /// Default speaking time, in seconds.
    #[arg(long, default_value_t = 180)]
    pub time_limit_secs: u64,
    /// An agenda item (repeat for several).
    #[arg(long = "agenda-item")]
    pub agenda: Vec<String>,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The roles of a session's links, in the order they are printed.
const ROLES: [&str; 5] = [
    "chair",
    "online_moderator",
    "participant",
    "display",
    "public",
];

/// A running server's API, with the admin token.
struct Api<'a> {
    server: &'a ServerArgs,
    http: reqwest::Client,
}

impl<'a> Api<'a> {
    fn new(server: &'a ServerArgs) -> Self {
        Self {
            server,
            http: reqwest::Client::new(),
        }
    }

    /// Send `request` to `path`; the JSON answer, or the API's error as `status: message (code)`.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let base = self.server.url.trim_end_matches('/');
        let mut req = self
            .http
            .request(method, format!("{base}{path}"))
            .bearer_auth(self.server.admin_token.expose_secret());
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {base}"))?;
        let status = resp.status();
        let json: Value = resp
            .json()
            .await
            .with_context(|| format!("{status}: the server's answer is not JSON"))?;
        if !status.is_success() {
            bail!(
                "{status}: {} ({})",
                json["message"].as_str().unwrap_or_default(),
                json["code"].as_str().unwrap_or_default()
            );
        }
        Ok(json)
    }
}

/// `rostrum session create`: ask the server to create a session, print its links.
pub async fn create(args: CreateArgs) -> anyhow::Result<()> {
    // The starvation guard is the server's default (`Policy::DEFAULT_STARVATION_MS`).
    let policy = match args.policy {
        PolicyArg::Fifo => json!({"order": "fifo"}),
        PolicyArg::Alternate => json!({"order": "alternate", "room": 1, "remote": 1}),
        PolicyArg::FirstTimeFirst => json!({"order": "first_time_first"}),
    };
    let body = json!({
        "title": args.title,
        "policy": policy,
        "limits": {"default_ms": args.time_limit_secs * 1000, "per_kind": {"point_of_order": 60000, "direct_reply": 60000}, "warning_ms": 30000},
        "agenda": args.agenda.iter().map(|t| json!({"title": t})).collect::<Vec<_>>(),
    });
    let json = Api::new(&args.server)
        .call(reqwest::Method::POST, "/api/sessions", Some(body))
        .await?;
    println!("session {}", json["id"].as_str().unwrap_or_default());
    print!("{}", links_text(&json["links"]));
    Ok(())
}

/// `rostrum session list`: every session on the server, a line each.
pub async fn list(args: ListArgs) -> anyhow::Result<()> {
    let json = Api::new(&args.server)
        .call(reqwest::Method::GET, "/api/sessions", None)
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", list_text(&json));
    }
    Ok(())
}

/// `rostrum session show ID`: one session's figures and its role links.
pub async fn show(args: ShowArgs) -> anyhow::Result<()> {
    let id = session_id(&args.session)?;
    let api = Api::new(&args.server);
    let list = api
        .call(reqwest::Method::GET, "/api/sessions", None)
        .await?;
    let Some(mut session) = list["sessions"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["id"] == id.as_str()))
        .cloned()
    else {
        bail!("no session {id} on this server");
    };
    // A damaged session is not served: it has figures from nowhere and no working links.
    if session["state"] != "damaged" {
        let handout = api
            .call(
                reqwest::Method::GET,
                &format!("/api/sessions/{id}/links"),
                None,
            )
            .await?;
        session["links"] = handout["links"].clone();
        session["short_url"] = handout["short_url"].clone();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&session)?);
    } else {
        print!("{}", show_text(&session));
    }
    Ok(())
}

/// `rostrum session end ID`: end a session for good.
pub async fn end(args: ShowArgs) -> anyhow::Result<()> {
    let id = session_id(&args.session)?;
    let json = Api::new(&args.server)
        .call(
            reqwest::Method::POST,
            &format!("/api/sessions/{id}/end"),
            None,
        )
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!(
            "session {id} ended at seq {}: read-only from now on; its record and report remain",
            json["seq"]
        );
    }
    Ok(())
}

/// A session id as the API spells it, or why it is not one.
fn session_id(s: &str) -> anyhow::Result<String> {
    let id: rostrum::auth::SessionId = s
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{s:?} is not a session id"))?;
    Ok(id.to_string())
}

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

fn list_text(json: &Value) -> String {
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

fn show_text(s: &Value) -> String {
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

fn links_text(links: &Value) -> String {
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
