//! The command line through the real binary: a bad value is refused before anything starts,
//! with exit code 2 and a message that names the flag and what it takes.

use std::process::Command;

/// `rostrum ARGS` with `env`: its exit code and standard error.
fn rostrum(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(args)
        .env("ROSTRUM_DATA_DIR", dir.path())
        .env("ROSTRUM_BIND", "127.0.0.1:0")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn bad_flags_are_refused_naming_the_flag_and_what_it_takes() {
    let (code, err) = rostrum(&["serve", "--store", "postgres"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("invalid value 'postgres' for '--store <STORE>'")
            && err.contains("use sqlite, memory, or nats://host:port"),
        "{err}"
    );

    // From the environment too, with the range the flag takes.
    let (code, err) = rostrum(&[], &[("ROSTRUM_MAX_MESSAGE_BYTES", "100")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("'--max-message-bytes <MAX_MESSAGE_BYTES>'") && err.contains("100 is not in"),
        "{err}"
    );

    let (code, err) = rostrum(&["serve", "--log-format", "xml"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[possible values: text, json]"), "{err}");

    let (code, err) = rostrum(
        &["session", "create", "--title", "t", "--policy", "lottery"],
        &[("ROSTRUM_ADMIN_TOKEN", "t")],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("[possible values: fifo, alternate, first_time_first]"),
        "{err}"
    );
}

#[test]
fn session_create_takes_the_server_arguments_every_server_command_takes() {
    let help = |cmd: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rostrum"))
            .args(cmd)
            .arg("--help")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    for cmd in [
        &["session", "create"][..],
        &["session", "list"],
        &["programme", "export"],
    ] {
        let text = help(cmd);
        assert!(
            text.contains("[env: ROSTRUM_URL=") && text.contains("[env: ROSTRUM_ADMIN_TOKEN"),
            "{cmd:?}: {text}"
        );
    }
}
