//! `rostrum simulate`: synthetic sessions played under each ordering policy, with the fairness
//! figures side by side, so an organizer can choose a policy before the event.
//!
//! Only the people are simulated. Every hand, grant and end of turn goes through the real core
//! ([`decide`](rostrum::queue::decide) then [`State::apply`](rostrum::queue::State::apply), as the service does), and the figures come from the
//! report's own fold ([`Stats`](rostrum::queue::Stats)), so the simulator cannot drift from the rules it measures.
//! Requests arrive per modality as Poisson processes; a person with a request open does not ask
//! again. Turns follow one another with no gap, their length drawn from a gamma distribution
//! (shape 2) and cut at the limit. The moderator calls the head of the queue, except that, when
//! a remote request heads it, they give the floor to the first person in the room instead with
//! probability `--room-bias` ("grant this"): the human bias a policy is meant to resist.
//!
//! Every policy plays the same arrivals for a given seed (common random numbers), so the
//! columns differ by the policy, not by luck.

use anyhow::ensure;
use serde_json::Map;

use rostrum::queue::{Modality, Order, Policy, TimeLimits};

/// `rostrum simulate`
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Length of the session, in minutes.
    #[arg(long, default_value_t = 90)]
    pub minutes: u64,
    /// Requests per hour from people in the room.
    #[arg(long, default_value_t = 20.0)]
    pub onsite_per_hour: f64,
    /// Requests per hour from people online.
    #[arg(long, default_value_t = 12.0)]
    pub online_per_hour: f64,
    /// Requests per hour from remote hubs.
    #[arg(long, default_value_t = 4.0)]
    pub hub_per_hour: f64,
    /// People in the room who may ask (each may ask several times).
    #[arg(long, default_value_t = 50)]
    pub onsite_people: u32,
    /// People online who may ask.
    #[arg(long, default_value_t = 30)]
    pub online_people: u32,
    /// Remote hubs (each one entry, speaking for 10 people).
    #[arg(long, default_value_t = 4)]
    pub hubs: u32,
    /// Mean speaking time of a turn, in seconds, before the limit cuts it.
    #[arg(long, default_value_t = 120)]
    pub speak_secs: u64,
    /// The session's time limit per turn, in seconds (10 to 3600).
    #[arg(long, default_value_t = 180)]
    pub time_limit_secs: u64,
    /// Probability (0 to 1) that the moderator, when a remote request heads the queue, gives the
    /// floor to the first person in the room instead.
    #[arg(long, default_value_t = 0.0)]
    pub room_bias: f64,
    /// The first random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sessions per policy, with seeds `seed`, `seed + 1`...; figures are their means.
    #[arg(long, default_value_t = 20)]
    pub runs: u64,
    /// `table` for people, `json` (an object keyed by policy) for tools.
    #[arg(long, value_enum, default_value = "table")]
    pub format: SimulateFormat,
}

/// Output formats of `rostrum simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulateFormat {
    /// A reading guide, then one column per policy.
    Table,
    /// One JSON object keyed by policy.
    Json,
}

/// Play every policy and phrase the figures: the text `rostrum simulate` prints.
pub fn run(args: &SimulateArgs) -> anyhow::Result<String> {
    check(args)?;
    let mut results = Vec::new();
    for c in CONTENDERS {
        let runs = (0..args.runs)
            .map(|i| {
                let seed = args.seed.wrapping_add(i);
                let figures = play(args, c.policy(), seed)?.measure();
                Ok(serde_json::to_value(figures)?)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        results.push((c, mean(&runs)));
    }
    Ok(match args.format {
        SimulateFormat::Table => table(args, &results),
        SimulateFormat::Json => {
            let mut out = Map::new();
            for (c, mut figures) in results {
                figures["policy"] = serde_json::to_value(c.policy())?;
                out.insert(c.key.to_owned(), figures);
            }
            serde_json::to_string_pretty(&out)? + "\n"
        }
    })
}

/// Refuse inputs that make no sense, or would run for hours, before playing anything.
fn check(a: &SimulateArgs) -> anyhow::Result<()> {
    ensure!((1..=24 * 60).contains(&a.minutes), "--minutes: 1 to 1440");
    for (flag, rate) in [
        ("--onsite-per-hour", a.onsite_per_hour),
        ("--online-per-hour", a.online_per_hour),
        ("--hub-per-hour", a.hub_per_hour),
    ] {
        ensure!((0.0..=10_000.0).contains(&rate), "{flag}: 0 to 10000");
    }
    for (flag, n) in [
        ("--onsite-people", a.onsite_people),
        ("--online-people", a.online_people),
        ("--hubs", a.hubs),
    ] {
        ensure!(n <= 5_000, "{flag}: at most 5000");
    }
    ensure!(a.speak_secs >= 1, "--speak-secs: at least 1");
    let limits = TimeLimits::MIN_MS / 1000..=TimeLimits::MAX_MS / 1000;
    ensure!(
        limits.contains(&a.time_limit_secs),
        "--time-limit-secs: 10 to 3600"
    );
    ensure!((0.0..=1.0).contains(&a.room_bias), "--room-bias: 0 to 1");
    ensure!((1..=1_000).contains(&a.runs), "--runs: 1 to 1000");
    Ok(())
}

/// A policy in the comparison.
#[derive(Debug, Clone, Copy)]
struct Contender {
    /// Its key in the JSON.
    key: &'static str,
    /// Its column heading.
    label: &'static str,
    order: Order,
}

impl Contender {
    /// The policy, with the starvation guard a new session gets by default.
    fn policy(self) -> Policy {
        Policy {
            order: self.order,
            ..Policy::default()
        }
    }
}

const CONTENDERS: [Contender; 4] = [
    Contender {
        key: "fifo",
        label: "fifo",
        order: Order::Fifo,
    },
    Contender {
        key: "alternate_1_1",
        label: "alternate 1:1",
        order: Order::Alternate { room: 1, remote: 1 },
    },
    Contender {
        key: "alternate_2_1",
        label: "alternate 2:1",
        order: Order::Alternate { room: 2, remote: 1 },
    },
    Contender {
        key: "first_time_first",
        label: "first_time_first",
        order: Order::FirstTimeFirst,
    },
];

const MODALITIES: [Modality; 3] = [Modality::Onsite, Modality::Online, Modality::Hub];

/// The people a hub entry speaks for (it only shows in the report's participation figures).
const HUB_HEAD_COUNT: u32 = 10;
/// The shortest turn: someone given the floor says at least a sentence.
const MIN_TURN_MS: u64 = 5_000;
/// When simulated sessions start (2026-01-01 09:00 UTC): any time would do, the core reads none.
const START_MS: u64 = 1_767_258_000_000;

mod figures;
mod play;
mod table;

use figures::mean;
use play::play;
use table::table;
#[cfg(test)]
mod tests;
