//! The simulator against its own promises: same seed, same sessions; every policy shown.

use serde_json::Value;

use super::figures::{ModalityFigures, SessionFigures};
use super::*;

/// The defaults, as `rostrum simulate` with no flags gets them.
fn defaults() -> SimulateArgs {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }
    Cli::parse_from(["simulate"]).args
}

/// An hour with equal demand from the room and online, more than the floor can serve
/// (36 requests an hour, turns of about 2 min 15 s), so both sides keep a queue.
fn equal() -> SimulateArgs {
    SimulateArgs {
        minutes: 60,
        onsite_per_hour: 18.0,
        online_per_hour: 18.0,
        hub_per_hour: 0.0,
        onsite_people: 40,
        online_people: 40,
        hubs: 0,
        speak_secs: 150,
        runs: 8,
        ..defaults()
    }
}

fn sessions(a: &SimulateArgs, order: Order) -> Vec<SessionFigures> {
    let policy = Policy {
        order,
        ..Policy::default()
    };
    (0..a.runs)
        .map(|i| play(a, policy, a.seed + i).unwrap().measure())
        .collect()
}

/// The mean of a figure over the sessions that have it.
fn mean_of(runs: &[SessionFigures], f: impl Fn(&SessionFigures) -> Option<f64>) -> f64 {
    let v: Vec<f64> = runs.iter().filter_map(f).collect();
    assert!(!v.is_empty(), "no session has this figure");
    v.iter().sum::<f64>() / v.len() as f64
}

const ALTERNATE: Order = Order::Alternate { room: 1, remote: 1 };

#[test]
fn the_same_seed_plays_the_same_sessions() {
    let a = SimulateArgs {
        minutes: 30,
        runs: 2,
        ..defaults()
    };
    let table = run(&a).unwrap();
    assert_eq!(table, run(&a).unwrap());
    let json = SimulateArgs {
        format: SimulateFormat::Json,
        ..a.clone()
    };
    assert_eq!(run(&json).unwrap(), run(&json).unwrap());
    assert_ne!(table, run(&SimulateArgs { seed: 2, ..a }).unwrap());
}

/// Waits here count the requests still waiting at the end: under a biased moderator many
/// remote requests are never served, and the waits of the served alone would hide that.
#[test]
fn a_room_bias_makes_remote_people_wait_longer_under_fifo() {
    let fair = sessions(&equal(), Order::Fifo);
    let biased = sessions(
        &SimulateArgs {
            room_bias: 1.0,
            ..equal()
        },
        Order::Fifo,
    );
    let waited = |runs: &[SessionFigures], m: fn(&SessionFigures) -> &ModalityFigures| {
        mean_of(runs, |s| m(s).wait_all_mean_s)
    };
    let (f, b) = (waited(&fair, |s| &s.online), waited(&biased, |s| &s.online));
    assert!(b > 1.3 * f, "online mean wait {f:.0} s -> {b:.0} s");
    let (f, b) = (waited(&fair, |s| &s.onsite), waited(&biased, |s| &s.onsite));
    assert!(b < f, "the room waits less: {f:.0} s -> {b:.0} s");
    assert!(fair.iter().all(|s| s.granted_out_of_order == 0));
}

/// Alternation balances the turns of an unbiased moderator, but it cannot undo "grant this":
/// each skip is a room turn the alternation counts, and is on the record as an override.
#[test]
fn alternate_balances_turns_but_cannot_undo_a_biased_moderator() {
    let fair = sessions(&equal(), ALTERNATE);
    let share = mean_of(&fair, |s| s.remote.turns_pct);
    let asked = mean_of(&fair, |s| s.remote.requests_pct);
    assert!((38.0..=62.0).contains(&share), "remote turns {share:.1}%");
    assert!(
        (share - asked).abs() < 6.0,
        "turns {share:.1}%, requests {asked:.1}%"
    );
    assert!(fair.iter().all(|s| s.granted_out_of_order == 0));

    let biased = sessions(
        &SimulateArgs {
            room_bias: 0.5,
            ..equal()
        },
        ALTERNATE,
    );
    let skewed = mean_of(&biased, |s| s.remote.turns_pct);
    // With both sides always waiting, 1:1 and a bias b still leave the remote side one turn
    // in every 1 + 1 / (1 - b): a third at b = 0.5.
    assert!(
        (100.0 / 3.0..share).contains(&skewed),
        "remote turns {share:.1}% -> {skewed:.1}%"
    );
    assert!(biased.iter().map(|s| s.granted_out_of_order).sum::<usize>() > 0);
    let waited = |runs: &[SessionFigures]| mean_of(runs, |s| s.online.wait_all_mean_s);
    assert!(waited(&biased) > waited(&fair));
}

#[test]
fn no_policy_gives_more_turns_than_requests() {
    let a = SimulateArgs {
        minutes: 45,
        runs: 4,
        room_bias: 0.3,
        ..defaults()
    };
    for c in CONTENDERS {
        for s in sessions(&a, c.order) {
            for m in [&s.onsite, &s.online, &s.hub] {
                assert!(m.turns <= m.requests, "{}: {m:?}", c.label);
                // Nobody lowers a hand here: each request is served or still waits.
                assert_eq!(m.turns + m.unserved, m.requests, "{}: {m:?}", c.label);
            }
        }
    }
}

#[test]
fn both_formats_show_every_policy_and_bad_inputs_are_refused() {
    let a = SimulateArgs {
        minutes: 20,
        runs: 2,
        ..defaults()
    };
    let table = run(&a).unwrap();
    for c in CONTENDERS {
        assert!(table.contains(c.label), "{table}");
    }
    let json = run(&SimulateArgs {
        format: SimulateFormat::Json,
        ..a.clone()
    })
    .unwrap();
    let json: Value = serde_json::from_str(&json).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["alternate_1_1", "alternate_2_1", "fifo", "first_time_first"]
    );
    assert_eq!(json["alternate_2_1"]["policy"]["room"], 2);
    assert!(json["fifo"]["onsite"]["requests"].as_f64().unwrap() > 0.0);
    for bad in [
        SimulateArgs {
            room_bias: 1.5,
            ..a.clone()
        },
        SimulateArgs {
            runs: 0,
            ..a.clone()
        },
        SimulateArgs {
            time_limit_secs: 5,
            ..a.clone()
        },
        SimulateArgs {
            online_per_hour: f64::NAN,
            ..a.clone()
        },
    ] {
        assert!(run(&bad).is_err(), "{bad:?}");
    }
}

/// The example in `docs/simulator.md`:
/// `cargo test -p rostrum-tools --lib simulate::tests::example -- --ignored --nocapture`.
#[test]
#[ignore = "prints the example of docs/simulator.md"]
fn example() {
    print!(
        "{}",
        run(&SimulateArgs {
            room_bias: 0.3,
            ..defaults()
        })
        .unwrap()
    );
}
