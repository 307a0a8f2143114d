//! The pages' bundles (`build/bundle.rs`, which `build.rs` runs on every page's script): what
//! the transform writes, what it refuses (with the file and line), and, run by Node, that a
//! bundle does what its modules do when Node loads them as ES modules.

#[path = "../build/bundle.rs"]
mod bundle;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn sources(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, s)| ((*p).to_owned(), (*s).to_owned()))
        .collect()
}

fn refused(files: &[(&str, &str)]) -> String {
    match bundle::bundle(files[0].0, &sources(files)) {
        Ok(out) => panic!("bundled, not refused:\n{out}"),
        Err(e) => e,
    }
}

#[test]
fn modules_become_functions_in_evaluation_order_exports_an_object_imports_destructured() {
    let out = bundle::bundle(
        "app/page.js",
        &sources(&[
            (
                "app/page.js",
                "import { a, b as bee } from \"../lib/x.js\";\nimport * as Y from \"/assets/lib/y.js\";\nimport \"./side.js\";\nconsole.log(a, bee, Y.c);\n",
            ),
            (
                "lib/x.js",
                "import { c } from \"./y.js\";\nexport const a = c + 1;\nexport function b() {}\n",
            ),
            (
                "lib/y.js",
                "export const c = 1;\nconst d = 2;\nexport { d as dee };\nexport class E {}\nexport async function* f() {}\n",
            ),
            ("app/side.js", "export { c as sea } from \"../lib/y.js\";\n"),
        ]),
    )
    .unwrap();
    // Each module once, after what it imports, in source order (y before x, as x imports it).
    let order: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("// bundled: web/"))
        .collect();
    assert_eq!(
        order,
        ["lib/y.js", "lib/x.js", "app/side.js", "app/page.js"],
        "{out}"
    );
    for expected in [
        "const __rostrum_m0 = await (async () => {\nconst c = 1;\nconst d = 2;\n\nclass E {}\nasync function* f() {}\nreturn Object.freeze({ c, dee: d, E, f });\n})();\n",
        "const __rostrum_m1 = await (async () => {\nconst { c } = __rostrum_m0;\nconst a = c + 1;\nfunction b() {}\nreturn Object.freeze({ a, b });\n})();\n",
        "const __rostrum_m2 = await (async () => {\n\nreturn Object.freeze({ sea: __rostrum_m0.c });\n})();\n",
        "// bundled: web/app/page.js\nawait (async () => {\nconst { a, b: bee } = __rostrum_m1;\nconst Y = __rostrum_m0;\n\nconsole.log(a, bee, Y.c);\n})();\n",
    ] {
        assert!(out.contains(expected), "{expected}\nnot in\n{out}");
    }
    assert!(
        !out.lines()
            .any(|l| l.starts_with("import ") || l.starts_with("export ")),
        "{out}"
    );
}

#[test]
fn what_the_transform_does_not_support_is_refused_with_its_file_and_line() {
    let two = |page: &str, lib: &str| refused(&[("app/p.js", page), ("lib/l.js", lib)]);
    let from = "import { x } from \"../lib/l.js\";\n";
    for (error, why) in [
        (
            two("import x from \"../lib/l.js\";\n", "export const x = 1;\n"),
            "web/app/p.js:1: a default import",
        ),
        (
            two(from, "export default 1;\n"),
            "web/lib/l.js:1: a default export",
        ),
        (
            two("import { default as x } from \"../lib/l.js\";\n", ""),
            "web/app/p.js:1: a default import or export",
        ),
        (
            two(from, "const x = 1;\nexport { x as default };\n"),
            "web/lib/l.js:2: a default import or export",
        ),
        (
            two(from, "let n = 0;\nexport let x = 1;\n"),
            "web/lib/l.js:2: `export let`/`export var`: a live binding",
        ),
        (
            two(from, "export var x = 1;\n"),
            "web/lib/l.js:1: `export let`/`export var`",
        ),
        (
            two(from, "export * from \"./m.js\";\n"),
            "web/lib/l.js:1: `export *`",
        ),
        (
            two(from, "export const { x } = { x: 1 };\n"),
            "web/lib/l.js:1: `export const` of a pattern",
        ),
        (
            two(from, "export function x() {}\nx = () => 2;\n"),
            "web/lib/l.js:2: x is exported and assigned: a live binding",
        ),
        (
            two(
                from,
                "export class x {}\nfunction later() {\n  x ??= null;\n}\n",
            ),
            "web/lib/l.js:3: x is exported and assigned",
        ),
        (
            two(
                from,
                "function f() {}\nexport { f as x };\nconst g = () => { ++f; };\n",
            ),
            "web/lib/l.js:3: f is exported and assigned",
        ),
        (
            two(from, "let f = 1;\nexport { f as x };\n"),
            "web/lib/l.js:1: f is exported and declared with let or var",
        ),
        (
            two(
                "import {\n  x,\n} from \"../lib/l.js\";\n",
                "export const x = 1;\n",
            ),
            "web/app/p.js:1: a list of names over several lines",
        ),
        (
            two("if (true) {\n  import { x } from \"../lib/l.js\";\n}\n", ""),
            "web/app/p.js:2: an indented import",
        ),
        (
            two(from, "function f() {}\n  export { f as x };\n"),
            "web/lib/l.js:2: an indented export",
        ),
        (
            two(from, "export const x = import.meta.url;\n"),
            "web/lib/l.js:1: import.meta",
        ),
        (
            two("const m = await import(\"../lib/l.js\");\n", ""),
            "web/app/p.js:1: import(",
        ),
        (
            two(
                "import { y } from \"../lib/l.js\";\n",
                "export const x = 1;\n",
            ),
            "web/app/p.js: imports y from web/lib/l.js, which does not export it",
        ),
        (
            two(
                "export { y } from \"../lib/l.js\";\n",
                "export const x = 1;\n",
            ),
            "web/app/p.js: imports y from web/lib/l.js, which does not export it",
        ),
        (
            two(
                from,
                "export const x = 1;\nconst y = 2;\nexport { y as x };\n",
            ),
            "web/lib/l.js: x is exported twice",
        ),
        (
            two(
                "import { x } from \"../lib/l.js\"; console.log(x);\n",
                "export const x = 1;\n",
            ),
            "web/app/p.js:1: \"console.log(x);\" after the import",
        ),
        (
            two("import { x } from \"lib/l.js\";\n", ""),
            "web/app/p.js:1: import \"lib/l.js\": only /assets/",
        ),
        (
            two("import { x } from \"../lib/gone.js\";\n", ""),
            "web/app/p.js: imports lib/gone.js, which is not in web/",
        ),
        (
            two(
                "import { x } from \"../lib/l.js\";\nexport const y = 1;\n",
                "import { y } from \"../app/p.js\";\nexport const x = y;\n",
            ),
            "an import cycle: app/p.js -> lib/l.js -> app/p.js",
        ),
    ] {
        assert!(error.contains(why), "{why:?} not in {error:?}");
    }
    // Text that only looks like an import (in a comment, a string, mid-line) is left alone.
    let out = bundle::bundle(
        "app/p.js",
        &sources(&[(
            "app/p.js",
            "// import { x } from \"./nowhere.js\";\nconst s = \"export default\";\n/* import(\n * export let\n */\n",
        )]),
    )
    .unwrap();
    assert!(out.contains("const s = \"export default\";"), "{out}");
    // Reading an exported name, comparing it, a property of that name, a longer name: no
    // assignment.
    bundle::bundle(
        "app/p.js",
        &sources(&[(
            "app/p.js",
            "export function f() {}\nexport const n = 1;\nconst o = { f: 1 };\no.f = f;\nif (f === n) o.fn = 2;\nconst fx = (f) => f;\nlet nn = n + 1;\nnn += n;\n",
        )]),
    )
    .unwrap();
}

fn node(dir: &Path, file: &str, args: &[&str]) -> String {
    let out = Command::new("node")
        .args(args)
        .arg(file)
        .current_dir(dir)
        .output()
        .expect("node (v18 or later) on PATH: tests/run.sh needs it for web/test already");
    assert!(
        out.status.success(),
        "node {file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_bundle_run_by_node_does_what_its_modules_do() {
    let files = [
        (
            "app/main.js",
            r#"// The page's script: a side-effect import first, a namespace, renames, re-exports.
import "../lib/side.js";
import { log, ready } from "../lib/a.js";
import { plus, Crate, answer } from "../lib/b.js";
import * as A from "../lib/a.js";
log.push("main");
let threw = false;
try {
  A.add = null;
} catch (e) {
  threw = e instanceof TypeError;
}
const g = A.gen();
const waited = await new Promise((r) => setTimeout(() => r("main waited"), 5));
console.log(JSON.stringify({ log, sum: plus(2, 3), crate: new Crate(7).v, answer, ready, waited, threw, keys: Object.keys(A).sort(), first: (await g.next()).value, same: A.log === log, self: typeof this }));
"#,
        ),
        (
            "lib/a.js",
            r#"export const log = [];
log.push("a");
export function add(x, y) {
  return x + y;
}
export class Box {
  constructor(v) {
    this.v = v;
  }
}
export async function* gen() {
  yield hoisted();
}
function hoisted() {
  return "hoisted";
}
// A top-level await in a dependency: its importers wait for it.
export const ready = await new Promise((r) => setTimeout(() => r(`a ready after ${log.join()}`), 10));
"#,
        ),
        (
            "lib/b.js",
            r#"import { log, add as plus } from "./a.js";
log.push("b");
export { plus };
export { Box as Crate } from "./a.js";
const secret = 42;
export { secret as answer };
"#,
        ),
        (
            "lib/side.js",
            r#"import { log } from "./a.js";
log.push("side");
"#,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.json"), "{\"type\": \"module\"}\n").unwrap();
    for (path, text) in files {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let as_modules = node(dir.path(), "app/main.js", &[]);
    assert!(
        as_modules.contains(r#""log":["a","side","b","main"]"#)
            && as_modules.contains(r#""threw":true"#)
            && as_modules.contains(r#""first":"hoisted""#),
        "{as_modules}"
    );
    let bundled = bundle::bundle("app/main.js", &sources(&files)).unwrap();
    std::fs::write(dir.path().join("bundle.js"), &bundled).unwrap();
    assert_eq!(node(dir.path(), "bundle.js", &[]), as_modules, "{bundled}");
}

#[test]
fn every_pages_bundle_of_the_real_consoles_parses() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let mut all = BTreeMap::new();
    for dir in ["app", "lib"] {
        for e in std::fs::read_dir(web.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "js") {
                let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
                all.insert(name, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for e in std::fs::read_dir(web.join("pages")).unwrap() {
        let p = e.unwrap().path();
        let Ok(page) = std::fs::read_to_string(&p) else {
            continue;
        };
        let Some(script) = page
            .lines()
            .next()
            .and_then(|l| l.split("script=\"").nth(1))
            .and_then(|s| s.split('"').next())
        else {
            continue;
        };
        let out = bundle::bundle(&format!("app/{script}.js"), &all)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let file = format!("{script}.mjs");
        std::fs::write(dir.path().join(&file), out).unwrap();
        node(dir.path(), &file, &["--check"]);
        checked += 1;
    }
    assert!(checked >= 12, "{checked} pages with a script");
}
