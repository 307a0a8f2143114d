//! The `rostrum` binary: parse the command line, set up logging, run the subcommand: the
//! service (`serve`), its offline commands on the data directory, or a tool.

mod args;
mod report;

use clap::Parser;
use tokio::net::TcpListener;

use args::{Cli, Cmd, DataDir, ExportFormat, ReportFormat};
use rostrum::config::{LogFormat, ServeArgs};
use rostrum::ids::SessionId;
use rostrum::store::{EventLog, SqliteLog, SqliteOptions};

/// jemalloc: with glibc's allocator an idle connection held 11 KiB resident, with jemalloc 8.7
/// (before the smaller read buffer); see docs/performance.md.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Cmd::Session(cmd)) => rostrum_tools::organizer::run(cmd).await,
        Some(Cmd::Programme(cmd)) => rostrum_tools::programme::run(cmd).await,
        Some(Cmd::Serve(args)) => serve(args).await,
        Some(Cmd::Export(args)) => {
            let (log, id) = (open(&args.dir)?, parse_id(&args.session)?);
            let events = log.load(id, 0).await?;
            match args.format {
                ExportFormat::Ndjson => print!("{}", rostrum::export::ndjson(&events)),
                ExportFormat::Csv => print!("{}", rostrum::export::turns_csv(&events)),
            }
            Ok(())
        }
        Some(Cmd::Report(args)) => {
            let log = open(&args.dir)?;
            let session = args.session.as_deref().map(parse_id).transpose()?;
            let format = if args.json {
                ReportFormat::Json
            } else {
                args.format
            };
            let igf_form = matches!(
                format,
                ReportFormat::Igf | ReportFormat::Odt | ReportFormat::IgfJson
            );
            if args.event || igf_form {
                let igf = report::igf(&log, &args.dir.data_dir, session).await?;
                match format {
                    ReportFormat::Odt => {
                        use std::io::Write as _;
                        std::io::stdout()
                            .write_all(&rostrum::programme::odt::odt(&igf.markdown()))?;
                    }
                    ReportFormat::Json | ReportFormat::IgfJson => println!("{}", igf.json()?),
                    ReportFormat::Markdown | ReportFormat::Igf => print!("{}", igf.markdown()),
                }
                return Ok(());
            }
            let id = session.ok_or_else(|| anyhow::anyhow!("which session?"))?;
            let meta = log
                .meta(id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no session {id} in this data directory"))?;
            let report = rostrum::report::Report::of(id, meta.created_at, &log.load(id, 0).await?);
            match format {
                ReportFormat::Markdown
                | ReportFormat::Igf
                | ReportFormat::Odt
                | ReportFormat::IgfJson => {
                    print!("{}", report.markdown());
                }
                ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
            Ok(())
        }
        Some(Cmd::Simulate(args)) => {
            print!("{}", rostrum_tools::simulate::run(&args)?);
            Ok(())
        }
        Some(Cmd::Bench(args)) if args.wire => {
            let report = rostrum_tools::bench::wire::run(&args).await?;
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{report}");
            }
            Ok(())
        }
        Some(Cmd::Bench(args)) => {
            let report = rostrum_tools::bench::run(&args).await?;
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{report}");
            }
            Ok(())
        }
        Some(Cmd::Backup(args)) => {
            open(&args.dir)?.backup(&args.path).await?;
            println!("backed up to {}", args.path.display());
            Ok(())
        }
        Some(Cmd::Check(args)) => {
            let found = rostrum::store::check_dir(&args.dir.data_dir)?;
            print!("{found}");
            if !found.is_sound() {
                anyhow::bail!("{} is damaged", args.dir.data_dir.display());
            }
            Ok(())
        }
        Some(Cmd::Repair(args)) if args.wal => {
            let (scan, kept) = SqliteLog::repair_wal(&args.dir.data_dir)?;
            if scan.bytes > 0 {
                println!("the write-ahead log was copied to {}", kept.display());
            }
            println!(
                "{} commits past the damage were given up; SQLite replayed {} commits. Every \
                 session's epoch was bumped, so clients resync. Run `rostrum check` now.",
                scan.commits_at_risk(),
                scan.replayed_commits
            );
            Ok(())
        }
        Some(Cmd::Repair(args)) => {
            let id = parse_id(args.session.as_deref().unwrap_or_default())?;
            // One repair at a time, and never beside a running service on the same directory.
            let options = SqliteOptions {
                lock: true,
                ..SqliteOptions::default()
            };
            let log = SqliteLog::open(&args.dir.data_dir, options)?;
            let kept = log.repair(id).await?;
            let epoch = log.meta(id).await?.map_or(0, |m| m.epoch);
            println!(
                "session {id}: kept events 1..={kept}; its epoch is now {epoch}, so clients resync"
            );
            Ok(())
        }
        None => serve(cli.serve).await,
    }
}

fn open(dir: &DataDir) -> anyhow::Result<SqliteLog> {
    Ok(SqliteLog::open(&dir.data_dir, SqliteOptions::default())?)
}

fn parse_id(s: &str) -> anyhow::Result<SessionId> {
    s.parse()
        .map_err(|_| anyhow::anyhow!("{s:?} is not a session id"))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let mut settings = args.settings()?;
    let listener = TcpListener::bind(args.bind).await?;
    if args.public_url.is_none() {
        // The address actually bound (port 0 picks one), not the one asked for.
        settings.set_public_url(&format!("http://{}", listener.local_addr()?))?;
    }
    rostrum::app::run(listener, settings, shutdown_signal()).await
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    if format == LogFormat::Json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
