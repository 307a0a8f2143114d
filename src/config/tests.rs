//! `serve`'s arguments into settings, through clap as the binary parses them.

use clap::Parser;
use secrecy::ExposeSecret as _;

use super::*;

#[derive(Parser)]
struct Serve {
    #[command(flatten)]
    args: ServeArgs,
}

/// `rostrum serve ARGS` in a fresh data directory: clap's error (a bad value) or the settings'.
fn serve(args: &[&str]) -> anyhow::Result<Settings> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let cli = Serve::try_parse_from(["serve", "--data-dir", data].iter().chain(args))?;
    cli.args.settings()
}

const SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

#[test]
fn the_service_holds_the_directory_and_bounds_its_waits_for_the_disk() {
    let s = serve(&["--store-timeout-ms", "1500", "--max-db-mb", "2"]).unwrap();
    match s.store {
        StoreChoice::Sqlite { options, .. } => {
            assert_eq!(
                (options.timeout, options.lock, options.max_bytes),
                (Duration::from_millis(1500), true, Some(2 * 1024 * 1024))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cluster_store_needs_the_shared_secret_and_token() {
    let e = serve(&["--store", "nats://127.0.0.1:4222"]).unwrap_err();
    assert!(e.to_string().contains("--secret"), "{e}");
    let e = serve(&["--store", "nats://a:4222", "--secret", SECRET]).unwrap_err();
    assert!(e.to_string().contains("--admin-token"), "{e}");
    let s = serve(&[
        "--store",
        "nats://a:4222,nats://b:4222",
        "--nats-replicas",
        "3",
        "--secret",
        SECRET,
        "--admin-token",
        "t",
    ])
    .unwrap();
    match s.store {
        StoreChoice::Nats(o) => {
            assert_eq!(
                (o.urls.as_str(), o.replicas),
                ("nats://a:4222,nats://b:4222", 3)
            );
        }
        other => panic!("{other:?}"),
    }
    let e = serve(&[
        "--store",
        "nats://a:4222",
        "--nats-replicas",
        "0",
        "--secret",
        SECRET,
        "--admin-token",
        "t",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("--nats-replicas"), "{e}");
}

#[test]
fn peers_are_reconnect_targets_allowed_origins_and_csp_sources() {
    let s = serve(&[
        "--public-url",
        "https://a.example.org",
        "--peer-url",
        "https://b.example.org/,http://c.example.org:8080",
    ])
    .unwrap();
    assert_eq!(
        s.peer_sockets,
        ["wss://b.example.org/ws", "ws://c.example.org:8080/ws"]
    );
    assert_eq!(
        s.ws.allowed_origins,
        [
            "https://a.example.org",
            "https://b.example.org",
            "http://c.example.org:8080"
        ]
    );
    let csp = crate::http::guard::csp(&s.http);
    assert!(
        csp.contains("connect-src 'self' https://b.example.org wss://b.example.org http://c.example.org:8080 ws://c.example.org:8080;"),
        "{csp}"
    );
    assert!(serve(&["--peer-url", "b.example.org"]).is_err());
}

#[test]
fn bad_values_are_refused_by_their_parsers_naming_the_flag() {
    for (args, flag) in [
        (&["--store", "postgres"][..], "--store"),
        (&["--log-format", "xml"], "--log-format"),
        (&["--sync", "sometimes"], "--sync"),
        (&["--max-message-bytes", "100"], "--max-message-bytes"),
        (&["--resume-window", "0"], "--resume-window"),
        (&["--ping-secs", "0"], "--ping-secs"),
        (&["--api-burst", "0"], "--api-burst"),
        (&["--public-url", "rostrum.example.org"], "--public-url"),
        (
            &["--allowed-origin", "https://a.example.org/x"],
            "--allowed-origin",
        ),
        (
            &["--frame-ancestors", "'self'; script-src *"],
            "--frame-ancestors",
        ),
    ] {
        let e = serve(args).unwrap_err().to_string();
        assert!(e.contains(flag), "{args:?}: {e}");
    }
}

#[test]
fn the_debug_output_of_the_settings_holds_no_secret() {
    const TOKEN: &str = "admin-token-that-must-not-be-printed";
    const METRICS: &str = "metrics-token-that-must-not-be-printed";
    let s = serve(&[
        "--admin-token",
        TOKEN,
        "--secret",
        SECRET,
        "--metrics-token",
        METRICS,
    ])
    .unwrap();
    let debug = format!("{s:?} {:?} {s:#?}", s.http);
    for secret in [TOKEN, METRICS, SECRET, &s.keys.to_hex()] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(debug.contains("metrics_token"), "{debug}");
    // The secrets are there, for the code that checks them.
    assert_eq!(s.admin_token.expose_secret(), TOKEN);
    assert_eq!(s.keys.to_hex(), SECRET);
}
