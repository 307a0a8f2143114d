//! `rostrum programme rooms|import|export|delete|delete-room`: the event's commands, run against a running
//! server's API with the admin token, as `rostrum session` is.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use secrecy::ExposeSecret as _;
use serde_json::Value;

use crate::organizer::ServerArgs;

/// `rostrum programme`
#[derive(Debug, Subcommand)]
pub enum ProgrammeCmd {
    /// Add rooms, or update those of the same name, from a CSV (`name,capacity,hub`); print
    /// every room's permanent display link.
    Rooms(RoomsArgs),
    /// Import a programme (CSV or iCalendar): each new entry becomes a session; entries with a
    /// known id are updated. Nothing is changed if any row is refused.
    Import(ImportArgs),
    /// Print the programme as CSV, with every session's role links.
    Export(ExportArgs),
    /// Delete a programme entry by its id (refused while its session is on); its session stays.
    Delete(DeleteArgs),
    /// Delete a room by its name (refused while the programme has sessions in it).
    DeleteRoom(DeleteRoomArgs),
}

/// `rostrum programme delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The entry's id, as in the programme file (`id`, or an iCalendar `UID`).
    pub id: String,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `rostrum programme delete-room`
#[derive(Debug, Args)]
pub struct DeleteRoomArgs {
    /// The room's name (case ignored).
    pub name: String,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `rostrum programme rooms`
#[derive(Debug, Args)]
pub struct RoomsArgs {
    /// The rooms' CSV file.
    pub file: PathBuf,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `rostrum programme import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The programme file (`.csv`, or `.ics` for iCalendar).
    pub file: PathBuf,
    /// Only list what would be created or updated, and every refused row.
    #[arg(long)]
    pub dry_run: bool,
    /// The IANA time zone of times given without an offset (such as `Europe/Berlin`).
    #[arg(long)]
    pub tz: Option<String>,
    /// `csv` or `ics` (by default from the file's name).
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// Print the API's JSON plan instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The programme file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// Comma-separated values, a header row first (`docs/event.md`).
    Csv,
    /// iCalendar (`.ics`).
    Ics,
}

/// `rostrum programme export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Run a `programme` command.
pub async fn run(cmd: ProgrammeCmd) -> anyhow::Result<()> {
    match cmd {
        ProgrammeCmd::Rooms(args) => rooms(args).await,
        ProgrammeCmd::Import(args) => import(args).await,
        ProgrammeCmd::Export(args) => {
            let (_, text) = call(
                &args.server,
                reqwest::Method::GET,
                "/api/programme.csv",
                None,
            )
            .await?;
            print!("{text}");
            Ok(())
        }
        ProgrammeCmd::Delete(args) => {
            let path = format!("/api/programme/entries/{}", segment(&args.id));
            let (_, text) = call(&args.server, reqwest::Method::DELETE, &path, None).await?;
            let json: Value = serde_json::from_str(&text)?;
            println!(
                "deleted {} from the programme; its session {} stays",
                args.id,
                json["session"].as_str().unwrap_or_default()
            );
            Ok(())
        }
        ProgrammeCmd::DeleteRoom(args) => delete_room(args).await,
    }
}

/// `s` as one percent-encoded path segment.
fn segment(s: &str) -> String {
    let mut u = url::Url::parse("http://x/").expect("a fixed base");
    u.path_segments_mut().expect("a base URL").push(s);
    u.path()[1..].to_owned()
}

async fn delete_room(args: DeleteRoomArgs) -> anyhow::Result<()> {
    let (_, text) = call(&args.server, reqwest::Method::GET, "/api/rooms", None).await?;
    let rooms: Value = serde_json::from_str(&text)?;
    let wanted = args.name.trim().to_lowercase();
    let Some(room) = rooms["rooms"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"].as_str().unwrap_or_default().to_lowercase() == wanted)
    else {
        bail!("no room is called {:?}", args.name);
    };
    let path = format!("/api/rooms/{}", room["id"].as_str().unwrap_or_default());
    call(&args.server, reqwest::Method::DELETE, &path, None).await?;
    println!(
        "deleted the room {}; its display and poster links no longer work",
        room["name"].as_str().unwrap_or_default()
    );
    Ok(())
}

/// Send a request; the status and body text, or the API's error as `status: message (code)`
/// (a refused import's 422 is an answer, returned).
async fn call(
    server: &ServerArgs,
    method: reqwest::Method,
    path: &str,
    body: Option<(&'static str, String)>,
) -> anyhow::Result<(reqwest::StatusCode, String)> {
    let base = server.url.trim_end_matches('/');
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(server.admin_token.expose_secret());
    if let Some((kind, body)) = body {
        req = req.header(reqwest::header::CONTENT_TYPE, kind).body(body);
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {base}"))?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() && status != reqwest::StatusCode::UNPROCESSABLE_ENTITY {
        let json: Value = serde_json::from_str(&text).unwrap_or_default();
        bail!(
            "{status}: {} ({})",
            json["message"].as_str().unwrap_or(&text),
            json["code"].as_str().unwrap_or_default()
        );
    }
    Ok((status, text))
}

async fn rooms(args: RoomsArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rooms = Vec::new();
    for (i, r) in reader.records().enumerate() {
        let r = r.with_context(|| format!("{}: row {}", args.file.display(), i + 1))?;
        let capacity: u32 = match r.get(1).unwrap_or("") {
            "" => 0,
            c => c
                .parse()
                .with_context(|| format!("row {}: capacity {c:?} is not a number", i + 1))?,
        };
        let hub = matches!(
            r.get(2).unwrap_or("").to_lowercase().as_str(),
            "yes" | "true" | "1" | "hub"
        );
        rooms.push(
            serde_json::json!({"name": r.get(0).unwrap_or(""), "capacity": capacity, "hub": hub}),
        );
    }
    let body = serde_json::json!({ "rooms": rooms }).to_string();
    let (_, text) = call(
        &args.server,
        reqwest::Method::PUT,
        "/api/rooms",
        Some(("application/json", body)),
    )
    .await?;
    let json: Value = serde_json::from_str(&text)?;
    for r in json["rooms"].as_array().into_iter().flatten() {
        println!(
            "{}\t{}\t{}",
            r["name"].as_str().unwrap_or_default(),
            r["capacity"],
            r["display"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {} as UTF-8 text", args.file.display()))?;
    let ics = args.format.map_or_else(
        || {
            args.file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("ics"))
        },
        |f| f == ImportFormat::Ics,
    );
    let format = if ics { "ics" } else { "csv" };
    let mut path = format!(
        "/api/programme/import?format={format}&dry_run={}",
        args.dry_run
    );
    if let Some(tz) = &args.tz {
        path.push_str("&tz=");
        path.push_str(&url::form_urlencoded::byte_serialize(tz.as_bytes()).collect::<String>());
    }
    let kind = if format == "ics" {
        "text/calendar"
    } else {
        "text/csv"
    };
    let (status, text) = call(
        &args.server,
        reqwest::Method::POST,
        &path,
        Some((kind, text)),
    )
    .await?;
    let plan: Value = serde_json::from_str(&text)?;
    if args.json {
        println!("{text}");
    } else {
        print!("{}", plan_text(&plan));
    }
    if status == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
        bail!("the programme was refused: nothing was changed");
    }
    Ok(())
}

/// A plan for people: the counts, then each refused row.
fn plan_text(plan: &Value) -> String {
    let n = |k: &str| plan[k].as_array().map_or(0, Vec::len);
    let verb = if plan["applied"].as_bool() == Some(true) {
        "imported"
    } else {
        "would import (dry run)"
    };
    let mut out = format!(
        "{verb}: {} new, {} updated, {} unchanged, {} refused\n",
        n("create"),
        n("update"),
        plan["unchanged"].as_u64().unwrap_or(0),
        n("refused")
    );
    for c in plan["update"].as_array().into_iter().flatten() {
        let changed: Vec<&str> = c["changed"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        out += &format!(
            "  update {}: {}\n",
            c["id"].as_str().unwrap_or_default(),
            changed.join(", ")
        );
    }
    for r in plan["refused"].as_array().into_iter().flatten() {
        out += &format!(
            "  refused {} {}: {} ({})\n",
            r["at"].as_str().unwrap_or_default(),
            r["id"]
                .as_str()
                .map(|i| format!("[{i}]"))
                .unwrap_or_default(),
            r["message"].as_str().unwrap_or_default(),
            r["code"].as_str().unwrap_or_default()
        );
    }
    out
}
