//! The README's options table lists exactly the flags `rostrum serve --help` shows.

#[test]
fn every_serve_flag_and_its_variable_is_in_the_readme() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let flags: Vec<&str> = help
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .map(|l| l.split([' ', '=']).next().unwrap())
        .filter(|f| !["help", "version"].contains(f))
        .collect();
    assert!(flags.len() >= 10, "{flags:?}");
    for flag in &flags {
        let var = format!("ROSTRUM_{}", flag.to_uppercase().replace('-', "_"));
        assert!(
            help.contains(&format!("env: {var}")),
            "--{flag} has the variable {var}"
        );
        let row = format!("| `--{flag}` | `{var}` |");
        assert!(readme.contains(&row), "README lists {row}");
    }
    let rows = readme.lines().filter(|l| l.starts_with("| `--")).count();
    assert_eq!(rows, flags.len(), "and nothing else");
}
