//! `rostrum session create|list|show|end`: the organizer's commands, run against a running
//! server's API with the admin token (the same calls the organizer page makes). They print for
//! people by default and the API's JSON with `--json`.

mod text;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use text::{links_text, list_text, show_text};

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
    let id: rostrum::ids::SessionId = s
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{s:?} is not a session id"))?;
    Ok(id.to_string())
}
