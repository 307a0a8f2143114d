//! The workspace's promise: the service's crate (`rostrum`) carries none of the tools'
//! dependencies, asked of cargo itself (`cargo tree`, normal, build and dev edges).

use std::process::Command;

/// `cargo tree -p rostrum ARGS` over the repository's locked dependencies.
fn tree(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(crate::support::ROOT)
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            "rostrum",
            "-e",
            "normal,build,dev",
        ])
        .args(["--prefix", "none", "--charset", "ascii"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_service_crate_has_no_http_client_histogram_or_websocket_client() {
    let all = tree(&[]);
    assert!(all.lines().any(|l| l.starts_with("axum ")), "{all}");
    for tool in ["reqwest ", "hdrhistogram ", "rand_distr "] {
        assert!(
            !all.lines().any(|l| l.starts_with(tool)),
            "{tool}is in the service's tree"
        );
    }
    // tokio-tungstenite is there only as axum's WebSocket (its `ws` feature), never a direct
    // dependency.
    let parents = tree(&["-i", "tokio-tungstenite", "--depth", "1"]);
    let parents: Vec<&str> = parents.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert!(
        parents.iter().all(|l| l.starts_with("axum ")),
        "{parents:?}"
    );
}
