//! The table `rostrum simulate` prints: a reading guide, then one column per policy.

use std::fmt::Write as _;

use serde_json::Value;

use rostrum::queue::Policy;

use super::{Contender, SimulateArgs};

const LABEL: usize = 36;
const COLUMN: usize = 18;
const WIDTH: usize = 100;

/// How a figure reads.
#[derive(Clone, Copy)]
enum Unit {
    Count,
    Clock,
}

/// The per-modality figures of the table, in order.
const PER_MODALITY: [(&str, &str, Unit); 10] = [
    ("Requests made", "requests", Unit::Count),
    ("Turns given", "turns", Unit::Count),
    ("Still waiting at the end", "unserved", Unit::Count),
    ("Lost: nobody free to ask", "lost", Unit::Count),
    ("Mean wait (m:ss)", "wait_mean_s", Unit::Clock),
    ("Median wait", "wait_median_s", Unit::Clock),
    ("90th percentile wait", "wait_p90_s", Unit::Clock),
    (
        "Mean wait, still waiting incl.",
        "wait_all_mean_s",
        Unit::Clock,
    ),
    (
        "Longest wait, still waiting incl.",
        "wait_longest_s",
        Unit::Clock,
    ),
    ("Mean speaking time", "speaking_mean_s", Unit::Clock),
];

fn cell(v: &Value, unit: Unit) -> String {
    match (v.as_f64(), unit) {
        (None, _) => "-".into(),
        (Some(x), Unit::Count) => format!("{x:.1}"),
        (Some(x), Unit::Clock) => {
            let s = x.round() as u64;
            format!("{}:{:02}", s / 60, s % 60)
        }
    }
}

/// The reading guide, then one column per policy.
pub(super) fn table(a: &SimulateArgs, results: &[(Contender, Value)]) -> String {
    let guide = format!(
        "Each policy plays the same {runs} synthetic sessions of {min} minutes (seeds {s0} to \
         {s1}) through rostrum's queue core; every figure is the mean over those sessions. \
         Requests arrive at random: {on}/h from the room ({onp} people), {ol}/h online ({olp} \
         people) and {hb}/h from {hubs} hubs. Someone with a request open does not ask again, \
         so an arrival that finds everyone of its modality waiting is lost. Turn lengths are drawn \
         with a mean of {speak} s and cut at the {limit} s limit; the next speaker is called as \
         soon as a turn ends. When a remote request heads the queue, the moderator gives the floor to the \
         first person in the room instead with probability {bias}. Every policy has the default \
         {guard}-minute starvation guard; alternate 2:1 gives the room two turns per remote one. \
         Waits count the requests that got their turn, except the rows \"still waiting incl.\", \
         which also count those still waiting at the end, up to the end. Room is onsite; remote \
         is online and hubs.",
        runs = a.runs,
        min = a.minutes,
        s0 = a.seed,
        s1 = a.seed.wrapping_add(a.runs - 1),
        on = a.onsite_per_hour,
        onp = a.onsite_people,
        ol = a.online_per_hour,
        olp = a.online_people,
        hb = a.hub_per_hour,
        hubs = a.hubs,
        speak = a.speak_secs,
        limit = a.time_limit_secs,
        bias = a.room_bias,
        guard = Policy::default().starvation_ms.unwrap_or(0) / 60_000,
    );
    let mut out = wrap(&guide, WIDTH);
    out.push('\n');
    let mut row = |label: &str, cells: &mut dyn Iterator<Item = String>| {
        let _ = write!(out, "{label:<LABEL$}");
        for c in cells {
            let _ = write!(out, "{c:>COLUMN$}");
        }
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
    };
    row("", &mut results.iter().map(|(c, _)| c.label.to_owned()));
    for (heading, key, unit) in PER_MODALITY {
        row(heading, &mut std::iter::empty());
        for m in ["onsite", "online", "hub"] {
            row(
                &format!("  {m}"),
                &mut results.iter().map(|(_, v)| cell(&v[m][key], unit)),
            );
        }
    }
    row("Shares, room / remote", &mut std::iter::empty());
    for (label, key) in [
        ("requests", "requests_pct"),
        ("turns", "turns_pct"),
        ("speaking time", "speaking_pct"),
    ] {
        let share = |v: &Value| match (v["room"][key].as_f64(), v["remote"][key].as_f64()) {
            (Some(room), Some(remote)) => format!("{room:.0}% / {remote:.0}%"),
            _ => "-".into(),
        };
        row(
            &format!("  {label}"),
            &mut results.iter().map(|(_, v)| share(v)),
        );
    }
    for (label, key) in [
        ("Granted out of order", "granted_out_of_order"),
        ("Refused by the core", "refused"),
    ] {
        row(
            label,
            &mut results.iter().map(|(_, v)| cell(&v[key], Unit::Count)),
        );
    }
    out
}

/// `text` folded into lines of at most `width` characters (longer words stand alone).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        }
        if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out.push('\n');
    out
}
