//! The service's layering, held to ARCHITECTURE.md.
//!
//! Its "Layers" table is the single statement of the layering: one row per layer, top first,
//! naming the modules in it (top-level modules of `src/`, or a submodule such as
//! `programme::cli` that is to leave). This test reads every `src/**/*.rs` outside test code,
//! collects each module's `crate::...` paths (in `use` lines and inline, `super::` resolved), and
//! fails when a module reaches one in a higher row, when modules reach each other in a cycle,
//! or when the table and the tree disagree (a module missing from the table, or a row naming
//! one that does not exist). There is no exception list here: change the table, or the code.
//!
//! It also holds the size rule: no non-test source file over [`MAX_LINES`] lines, except those
//! ARCHITECTURE.md's "Oversize files" table lists with a reason (and a listed file that has come
//! down under the limit must leave the list).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a non-test source file may be, in lines (its test modules not counted).
const MAX_LINES: usize = 400;

/// The layer table: each module's row, 0 the bottom.
struct Layers {
    rows: Vec<String>,
    rank: BTreeMap<String, usize>,
}

/// The cells of the first markdown table after the heading `## {heading}`, header row and
/// separator skipped.
fn table_rows(md: &str, heading: &str) -> Result<Vec<Vec<String>>, String> {
    let start = md
        .lines()
        .position(|l| l.trim() == format!("## {heading}"))
        .ok_or_else(|| format!("ARCHITECTURE.md has no `## {heading}` section"))?;
    let rows: Vec<Vec<String>> = md
        .lines()
        .skip(start + 1)
        .skip_while(|l| !l.trim_start().starts_with('|'))
        .take_while(|l| l.trim_start().starts_with('|'))
        .map(|l| {
            let l = l.trim().trim_start_matches('|').trim_end_matches('|');
            l.split('|').map(|c| c.trim().to_owned()).collect()
        })
        .collect();
    if rows.len() < 2 {
        return Err(format!("the `## {heading}` section has no table"));
    }
    Ok(rows.into_iter().skip(2).collect())
}

/// The words in backticks of a cell.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn parse_layers(md: &str) -> Result<Layers, String> {
    let rows = table_rows(md, "Layers")?;
    let n = rows.len();
    let mut rank = BTreeMap::new();
    let mut names = vec![String::new(); n];
    for (i, row) in rows.iter().enumerate() {
        let (Some(name), Some(modules)) = (row.first(), row.get(1)) else {
            return Err(format!("layer row {row:?} needs a name and its modules"));
        };
        names[n - 1 - i] = name.clone();
        for m in ticked(modules) {
            if rank.insert(m.clone(), n - 1 - i).is_some() {
                return Err(format!("`{m}` is in two rows of the layer table"));
            }
        }
    }
    Ok(Layers { rows: names, rank })
}

/// The module path of a file under `src/`: `hub/error.rs` is `hub::error`, `auth/mod.rs` is `auth`.
fn module_path(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The table's unit a module path belongs to: the longest prefix the table names, else its
/// top-level module.
fn unit_of(path: &[String], layers: &Layers) -> String {
    (1..=path.len())
        .rev()
        .map(|k| path[..k].join("::"))
        .find(|p| layers.rank.contains_key(p))
        .unwrap_or_else(|| path[0].clone())
}

/// `src` without the items behind `#[cfg(test)]` (or `#[cfg(any(test, ...))]`).
fn without_tests(src: &str) -> String {
    let mut out = String::new();
    let mut lines = src.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if !(t.starts_with("#[cfg(test)]") || t.starts_with("#[cfg(any(test")) {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // Skip the item: through its first `;` at depth 0, or its braces' end.
        let mut depth = 0i32;
        let mut opened = false;
        for line in lines.by_ref() {
            let code = line.split("//").next().unwrap_or("");
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            let t = code.trim();
            if (opened && depth <= 0) || (!opened && t.ends_with(';') && !t.starts_with("#[")) {
                break;
            }
        }
    }
    out
}

/// The module paths `code` names with `crate::` (groups `crate::{a, b::c}` unfolded) or
/// `super::` (resolved from `module`), comments dropped.
fn imports(code: &str, module: &[String]) -> BTreeSet<Vec<String>> {
    let code: String = code
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &code[i..];
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let base: Option<(Vec<String>, usize)> = if !boundary {
            None
        } else if rest.starts_with("crate::") {
            Some((Vec::new(), "crate::".len()))
        } else if rest.starts_with("super::") {
            // `super` of a file's module; inline test modules are already gone.
            let mut base = module.to_vec();
            let mut n = 0;
            while code[i + n..].starts_with("super::") {
                base.pop();
                n += "super::".len();
            }
            Some((base, n))
        } else {
            None
        };
        match base {
            Some((base, n)) => {
                let end = path_tree(&code[i + n..], base, &mut out);
                i += n + end;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Parse a path (or a `{...}` group of them) at the start of `s` after `prefix`; push each whole
/// path into `out`; return the bytes read.
fn path_tree(s: &str, prefix: Vec<String>, out: &mut BTreeSet<Vec<String>>) -> usize {
    let mut path = prefix;
    let mut i = 0;
    loop {
        let b = s.as_bytes();
        if b.get(i) == Some(&b'{') {
            i += 1;
            loop {
                while s[i..].starts_with(|c: char| c.is_whitespace() || c == ',') {
                    i += 1;
                }
                if i >= s.len() || s[i..].starts_with('}') {
                    return i + 1;
                }
                i += path_tree(&s[i..], path.clone(), out);
                // Past a rename (`Log as L`) to the next item.
                while i < s.len() && !s[i..].starts_with([',', '}']) {
                    i += s[i..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        let word: String = s[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if word.is_empty() || word == "self" {
            out.insert(path);
            return i + word.len();
        }
        i += word.len();
        // A lowercase segment is a module; a type, trait or constant ends the module path.
        if word.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.insert(path);
            return i;
        }
        path.push(word);
        if s[i..].starts_with("::") {
            i += 2;
        } else {
            // A function or a module named last (`use crate::ws;` or `crate::auth::secret_matches`).
            out.insert(path);
            return i;
        }
    }
}

/// What is wrong with `files` (path under `src/`, text) against the layer table in `md`.
fn check(md: &str, files: &[(String, String)]) -> Vec<String> {
    let layers = match parse_layers(md) {
        Ok(l) => l,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    // unit -> unit it imports -> a file that does.
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    // Files only tests compile, like test code inline, may reach any layer (a test of the
    // command line builds the router; the fuzz driver drives the session's core).
    let tests = test_only(files);
    for (file, text) in files {
        if file == "lib.rs" || file == "main.rs" || tests.contains(file) {
            continue;
        }
        let module = module_path(file);
        let unit = unit_of(&module, &layers);
        seen.insert(unit.clone());
        let edges = graph.entry(unit.clone()).or_default();
        for path in imports(&without_tests(text), &module) {
            let to = unit_of(&path, &layers);
            if to != unit {
                edges.entry(to).or_insert_with(|| file.clone());
            }
        }
    }
    for unit in &seen {
        if !layers.rank.contains_key(unit) {
            problems.push(format!(
                "module `{unit}` is not in ARCHITECTURE.md's layer table"
            ));
        }
    }
    for unit in layers.rank.keys() {
        if !seen.contains(unit) {
            problems.push(format!(
                "the layer table names `{unit}`, which is not a module under src/"
            ));
        }
    }
    for (from, edges) in &graph {
        let Some(&r) = layers.rank.get(from) else {
            continue;
        };
        for (to, file) in edges {
            match layers.rank.get(to) {
                Some(&t) if t > r => problems.push(format!(
                    "`{from}` ({}) imports `{to}` ({}), a higher layer, in src/{file}",
                    layers.rows[r], layers.rows[t]
                )),
                Some(_) => {}
                None if graph.contains_key(to) => {}
                None => problems.push(format!(
                    "`{from}` imports `{to}` (src/{file}), which is no module under src/"
                )),
            }
        }
    }
    for cycle in cycles(&graph) {
        problems.push(format!("modules import each other: {}", cycle.join(" -> ")));
    }
    problems
}

/// Every cycle's modules (strongly connected components of two or more, or a module importing
/// itself through others), each listed once.
fn cycles(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<Vec<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for m in graph.get(&n).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|k| (k, reach(k))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut done = BTreeSet::new();
    for (a, ra) in &reaches {
        if done.contains(*a) || !ra.contains(*a) {
            continue;
        }
        let scc: Vec<String> = ra
            .iter()
            .filter(|b| reaches.get(b).is_some_and(|rb| rb.contains(*a)))
            .cloned()
            .collect();
        done.extend(scc.iter().cloned());
        out.push(scc);
    }
    out
}

/// Source files under `src/` that only tests compile: declared behind `#[cfg(test)]`, and
/// everything under them.
fn test_only(files: &[(String, String)]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (file, text) in files {
        let dir = match file.rsplit_once('/') {
            Some((d, "mod.rs")) => d.to_owned(),
            _ if file == "lib.rs" || file == "main.rs" => String::new(),
            _ => file.trim_end_matches(".rs").to_owned(),
        };
        let mut lines = text.lines().map(str::trim);
        while let Some(l) = lines.next() {
            if l.starts_with("#[cfg(test)]") || l.starts_with("#[cfg(any(test") {
                let Some(decl) = lines.next() else { break };
                let name = decl
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub ")
                    .strip_prefix("mod ")
                    .and_then(|r| r.strip_suffix(';'));
                if let Some(name) = name {
                    let base = if dir.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{dir}/{name}")
                    };
                    out.insert(base);
                }
            }
        }
    }
    files
        .iter()
        .map(|(f, _)| f.clone())
        .filter(|f| {
            out.iter()
                .any(|b| *f == format!("{b}.rs") || f.starts_with(&format!("{b}/")))
        })
        .collect()
}

/// Non-test files over the limit and not listed, and listed files no longer over it.
fn oversize(md: &str, files: &[(String, String)]) -> Vec<String> {
    let listed: BTreeMap<String, String> = match table_rows(md, "Oversize files") {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|r| {
                let file = ticked(r.first()?).into_iter().next()?;
                Some((file, r.get(1).cloned().unwrap_or_default()))
            })
            .collect(),
        Err(e) => return vec![e],
    };
    let tests = test_only(files);
    let mut problems = Vec::new();
    for (file, text) in files {
        if tests.contains(file) {
            continue;
        }
        let lines = without_tests(text).lines().count();
        let path = format!("src/{file}");
        match listed.get(&path) {
            None if lines > MAX_LINES => problems.push(format!(
                "{path} has {lines} lines (past {MAX_LINES}): split it by concept, or list it \
                 in ARCHITECTURE.md's \"Oversize files\" with a reason"
            )),
            Some(reason) if reason.is_empty() => {
                problems.push(format!("{path} is listed as oversize without a reason"));
            }
            Some(_) if lines <= MAX_LINES => problems.push(format!(
                "{path} has {lines} lines now: take it off ARCHITECTURE.md's \"Oversize files\""
            )),
            _ => {}
        }
    }
    for path in listed.keys() {
        if !files.iter().any(|(f, _)| format!("src/{f}") == *path) {
            problems.push(format!(
                "\"Oversize files\" lists {path}, which does not exist"
            ));
        }
    }
    problems
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

fn the_tree() -> (String, Vec<(String, String)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut files = Vec::new();
    sources(&root.join("src"), &root.join("src"), &mut files);
    (md, files)
}

#[test]
fn the_tree_keeps_the_layers_of_architecture_md() {
    let (md, files) = the_tree();
    let problems = check(&md, &files);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_source_file_is_oversize_unless_architecture_md_says_why() {
    let (md, files) = the_tree();
    let problems = oversize(&md, &files);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

const TABLE: &str = "\
# A crate

## Layers

| Layer | Modules | What |
|---|---|---|
| tools (leaving) | `bench`, `web::cli` | leaving |
| web | `web` | routes |
| store | `store`, `export` | the log |
| ids | `ids` | keys |

## Oversize files

| File | Why |
|---|---|
| `src/store/big.rs` | one state machine |
";

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
        .collect()
}

#[test]
fn the_checker_passes_a_tree_that_keeps_its_layers() {
    let tree = files(&[
        ("lib.rs", "pub mod ids;\npub mod store;\n"),
        ("ids.rs", "pub struct Id;\n"),
        ("store/mod.rs", "use crate::ids::Id;\nmod sqlite;\n"),
        (
            "store/sqlite.rs",
            "use super::super::ids::Id;\nuse super::Thing;\n",
        ),
        (
            "export.rs",
            "use crate::{ids::Id as Key, store::{self, Log as L}};\n",
        ),
        ("web/mod.rs", "use crate::store;\npub mod cli;\n"),
        // The tools may use anything; a module's own submodules are itself.
        (
            "web/cli.rs",
            "use crate::{web::Router, store};\nuse super::Router;\n",
        ),
        ("bench.rs", "fn f() { crate::web::cli::run(); }\n"),
    ]);
    assert_eq!(check(TABLE, &tree), Vec::<String>::new());
}

#[test]
fn the_checker_refuses_an_upward_import_however_it_is_written() {
    for upward in [
        "use crate::web::Router;",
        "use crate::{ids::Id, web::Router};",
        "use crate::{ids::{self, Id}, web};",
        "fn f() { let r = crate::web::router(); }",
        "fn f() -> crate::web::cli::Args { todo!() }",
        "use super::super::web;",
    ] {
        let tree = files(&[
            ("ids.rs", ""),
            ("store/mod.rs", "mod sqlite;\n"),
            ("store/sqlite.rs", upward),
            ("export.rs", ""),
            ("web/mod.rs", "use crate::store;"),
            ("web/cli.rs", ""),
            ("bench.rs", ""),
        ]);
        let problems = check(TABLE, &tree);
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("`store` (store) imports `web") && p.contains("higher")),
            "{upward}: {problems:?}"
        );
    }
}

#[test]
fn the_checker_ignores_comments_and_tests_but_not_code_after_them() {
    let tree = files(&[
        ("ids.rs", ""),
        (
            "store/mod.rs",
            "// see crate::web::router\n/// [`crate::web`]\n#[cfg(test)]\nmod tests {\n    use crate::web;\n}\n#[cfg(test)]\nuse crate::bench;\n#[cfg(test)]\nmod driver;\n",
        ),
        // A file only tests compile (declared behind `#[cfg(test)]` above).
        ("store/driver.rs", "use crate::web::router;\n"),
        ("export.rs", ""),
        ("web/mod.rs", ""),
        ("web/cli.rs", ""),
        ("bench.rs", ""),
    ]);
    assert_eq!(check(TABLE, &tree), Vec::<String>::new());
    let mut tree = tree;
    tree[1].1.push_str("fn late() { crate::web::go() }\n");
    assert_eq!(check(TABLE, &tree).len(), 1, "{:?}", check(TABLE, &tree));
}

#[test]
fn the_checker_refuses_cycles_within_a_row_and_a_table_that_disagrees_with_the_tree() {
    let tree = files(&[
        ("ids.rs", ""),
        ("store.rs", "use crate::export::Csv;"),
        ("export.rs", "use crate::store::Log;"),
        ("web/mod.rs", ""),
        ("web/cli.rs", ""),
        ("bench.rs", ""),
        ("stray.rs", "use crate::ids::Id;"),
    ]);
    let problems = check(TABLE, &tree);
    assert!(
        problems.contains(&"modules import each other: export -> store".to_owned()),
        "{problems:?}"
    );
    assert!(
        problems.contains(&"module `stray` is not in ARCHITECTURE.md's layer table".to_owned()),
        "{problems:?}"
    );
    let gone = files(&[("ids.rs", ""), ("store.rs", ""), ("export.rs", "")]);
    let problems = check(TABLE, &gone);
    assert!(
        problems.iter().any(|p| p.contains("names `web::cli`")),
        "{problems:?}"
    );
}

#[test]
fn the_size_check_counts_code_not_tests_and_keeps_its_list_true() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1);
    let short = "fn f() {}\n".repeat(10);
    let tested = format!(
        "{short}#[cfg(test)]\nmod tests {{\n{}}}\n",
        "    fn t() {}\n".repeat(MAX_LINES)
    );
    let tree = files(&[
        ("store/mod.rs", "#[cfg(test)]\nmod tests;\n"),
        ("store/tests.rs", &long),
        ("store/big.rs", &long),
        ("export.rs", &tested),
        ("web.rs", &long),
    ]);
    let problems = oversize(TABLE, &tree);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("src/web.rs has 401 lines"));
    let tree = files(&[("store/big.rs", &short)]);
    let problems = oversize(TABLE, &tree);
    assert!(problems[0].contains("take it off"), "{problems:?}");
}
