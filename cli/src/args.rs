//! The command line: the `rostrum` command and its subcommands. `serve`'s arguments are the
//! service's ([`rostrum::config::ServeArgs`]); the tools' are the tools crate's.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rostrum::config::ServeArgs;

/// rostrum: a fair, ordered speaking queue for hybrid meetings.
#[derive(Debug, Parser)]
#[command(
    name = "rostrum",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Cmd>,
    /// `serve`'s options, when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
// Parsed once at start: the size of the serve variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Serve the hub, the API and the consoles.
    Serve(ServeArgs),
    /// Manage sessions on a running server.
    #[command(subcommand)]
    Session(rostrum_tools::organizer::SessionCmd),
    /// The event's rooms and programme on a running server: import (CSV or iCalendar), export.
    #[command(subcommand)]
    Programme(rostrum_tools::programme::ProgrammeCmd),
    /// Print a session's record from the data directory: its events (ndjson) or its turns (csv).
    Export(ExportArgs),
    /// Take a consistent copy of the database while the service runs.
    Backup(BackupArgs),
    /// Verify the data directory offline: the database's integrity, and every session's
    /// checksums and sequence; exits non-zero if anything is damaged.
    Check(CheckArgs),
    /// Cut a damaged session back to its last valid record (stop the service first).
    Repair(RepairArgs),
    /// Print a session's report (Markdown, or JSON), recomputed from its log.
    Report(ReportArgs),
    /// Play synthetic sessions under each policy and compare their fairness figures.
    Simulate(rostrum_tools::simulate::SimulateArgs),
    /// Load a running server with viewers and commands, and print latencies and rates.
    Bench(rostrum_tools::bench::BenchArgs),
}

/// `rostrum report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The session id (none with `--event`).
    #[arg(required_unless_present = "event")]
    pub session: Option<String>,
    /// The whole event's summary for the secretariat: every session of the programme.
    #[arg(long, conflicts_with = "session")]
    pub event: bool,
    /// `markdown` for people, `json` for tools (with `--event`, the event's summary as JSON,
    /// as `GET /api/programme/report.json` answers).
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// The same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// The data directory.
    #[command(flatten)]
    pub dir: DataDir,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Headings and tables.
    Markdown,
    /// The IGF's official report template (Markdown), placed in the programme.
    Igf,
    /// The IGF template as an OpenDocument text file (`.odt`), written to standard output.
    Odt,
    /// The IGF template as JSON, as `GET /api/sessions/{id}/report.igf.json` answers.
    IgfJson,
    /// One JSON object.
    Json,
}

/// The data directory, for the offline subcommands.
#[derive(Debug, Args)]
pub struct DataDir {
    /// Where rostrum keeps its data.
    #[arg(long, env = "ROSTRUM_DATA_DIR", default_value = "./rostrum-data")]
    pub data_dir: PathBuf,
}

/// `rostrum export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The session id.
    pub session: String,
    /// `ndjson`: every event; `csv`: one row per turn.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: ExportFormat,
    /// The data directory.
    #[command(flatten)]
    pub dir: DataDir,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The event log, one JSON object per line.
    Ndjson,
    /// The turns: who, affiliation, modality, kind, requested, granted, waited, spoke.
    Csv,
}

/// `rostrum backup`
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy (a new file).
    pub path: PathBuf,
    /// The data directory.
    #[command(flatten)]
    pub dir: DataDir,
}

/// `rostrum repair`
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The damaged session's id.
    #[arg(required_unless_present = "wal", conflicts_with = "wal")]
    pub session: Option<String>,
    /// Accept the loss of what a damaged write-ahead log holds past the point SQLite can replay
    /// it (`rostrum check` says how many commits): the log is copied aside, the rest goes into
    /// the database file, and every session's epoch is bumped so clients resync.
    #[arg(long)]
    pub wal: bool,
    /// The data directory.
    #[command(flatten)]
    pub dir: DataDir,
}

/// `rostrum check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The data directory.
    #[command(flatten)]
    pub dir: DataDir,
}
