//! The `rostrum` binary: parses the command line and runs the chosen subcommand.

use clap::Parser;

/// rostrum: a fair, ordered speaking queue for hybrid meetings.
///
/// The live service is not built yet; this binary shows its help until it is.
#[derive(Debug, Parser)]
#[command(name = "rostrum", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    use clap::CommandFactory;
    Cli::command().print_help().expect("stdout is writable");
    println!();
}
