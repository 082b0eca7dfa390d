//! The library's layering, checked from its source with `std::fs` alone: every file module of the
//! library crate (`src/**/*.rs` reachable from `src/lib.rs` through `mod name;`) and the modules it
//! imports. Each binary (`src/bin/NAME/main.rs`) is another crate, whose `crate::` means itself and
//! for which `hyperjwt::` is an outside crate: rule 1 holds for it too, checked on its own graph.
//!
//! # The rules
//!
//! 1. **No import cycle between file modules** ([`no_import_cycles_between_file_modules`]): the
//!    modules import each other along a directed acyclic graph, so each can be read (and tested)
//!    after the ones it uses. [`KNOWN_CYCLES`] would list a cycle
//!    tolerated for a while, with the way out; it is empty. The test fails on any other cycle
//!    (naming each import on it), and on a listed one that has gone, so the list cannot rot.
//! 2. **`jwt/` stands alone** ([`jwt_imports_nothing_of_the_crate_outside_jwt`]): `src/jwt/**`
//!    imports only `jwt` and its files, so a learner can read it, and a bench can use it, without
//!    the rest of the server.
//! 3. **Only `http/` and `handlers/` speak HTTP**
//!    ([`only_http_and_handlers_name_the_http_crates`]): the identifiers `hyper`, `hyper_util` and
//!    `http_body_util` appear nowhere else (not in `app.rs`, not in `lib.rs`).
//! 4. **The core knows nothing of the server**
//!    ([`the_core_imports_nothing_of_http_handlers_or_app`]): `auth/`, `store/`, `config/`, `jwt/`,
//!    `bytes.rs`, `calendar.rs`, `logger/`, `metrics/` and `readiness.rs` import nothing from
//!    `http`, `handlers` or `app`, so
//!    the binary's tools and the benches use them without a server.
//!
//! # What counts as an import
//!
//! A file is lexed (comments, string, byte-string, raw-string and char literals are dropped, so a
//! `crate::` in a doc comment or a message makes no edge), then:
//!
//! - every `use` tree (groups, `self`, `as`, globs), whether `pub` or not, at any depth (a `use`
//!   inside a function counts);
//! - every path in code that starts with `crate::`, `super::`, `self::`, the name of a child module
//!   declared in that file, or a name the file imported with `use` (so `jwt::b64::encode` after
//!   `use crate::jwt` counts as `jwt::b64`).
//!
//! A path is mapped to the deepest file module it names (`crate::http::server::serve` →
//! `http::server`; `src/http/mod.rs` is `http`, `src/lib.rs` is `crate`). When that module only
//! re-exports the name (`pub use hs256::verify` in `jwt/mod.rs`), the edge goes on to the module
//! that defines it: `use super::JwtError` in `jwt/claims.rs` depends on `jwt::error`, not on
//! `jwt/mod.rs`. A `pub use` of a child is the folder's facade, so it is followed but is no edge of
//! its own (otherwise every `mod.rs` that re-exports a child which uses one of its helpers would be
//! a cycle).
//!
//! # What it ignores
//!
//! - Items under exactly `#[cfg(test)]` (the `mod tests { .. }` blocks, and `#[cfg(test)] mod
//!   tests;` files such as `src/config/tests/mod.rs`): a unit test importing its siblings is not a
//!   layering problem. Other `cfg` forms are read as ordinary code.
//! - `mod name;` declarations themselves (a parent declaring a child is not an import), `#[path]`
//!   attributes (there are none), and macros' bodies beyond their tokens (a path inside a macro call
//!   is still seen; one built by the macro is not).
//! - Inline modules (`pub mod server { .. }` in `lib.rs`) belong to their file; `super::` inside one
//!   is resolved from the inline module, as Rust does.
//! - Glob imports (`use super::*`) make an edge to the module, but what the code then names through
//!   the glob is not traced further.
//!
//! `ARCHITECTURE_EDGES=1` prints every edge found (with `--nocapture`); `ARCHITECTURE_SRC=dir` checks
//! another copy of `src/` (how a rule is shown to fail without touching this tree).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The cycles that exist today, each with the reason and the way out. A cycle found is tolerated
/// when every module in it is one of an entry's modules; each entry must still match a cycle.
const KNOWN_CYCLES: &[(&[&str], &str)] = &[];

/// The identifiers that name the HTTP crates.
const HTTP_CRATES: [&str; 3] = ["hyper", "hyper_util", "http_body_util"];

/// The folders and files that may name [`HTTP_CRATES`].
const HTTP_LAYER: [&str; 2] = ["http", "handlers"];

/// The modules that must import nothing of `http`, `handlers` or `app`.
const CORE: [&str; 9] = [
    "auth",
    "store",
    "config",
    "jwt",
    "bytes",
    "calendar",
    "logger",
    "metrics",
    "readiness",
];

// ----------------------------------------------------------------------------------------------
// Lexing
// ----------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
}

#[derive(Clone, Debug)]
struct Tok {
    kind: Kind,
    line: usize,
}

impl Tok {
    fn ident(&self) -> Option<&str> {
        match &self.kind {
            Kind::Ident(s) => Some(s),
            _ => None,
        }
    }
    fn is(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }
    fn is_ident(&self, s: &str) -> bool {
        self.ident() == Some(s)
    }
}

/// Identifiers, `::` and punctuation, with comments and literals dropped (numbers too).
fn lex(source: &str) -> Vec<Tok> {
    let chars: Vec<char> = source.chars().collect();
    let mut toks = Vec::new();
    let (mut i, mut line) = (0, 1);
    // Skips to just past the closing quote of a (non-raw) string or char literal starting at `i`.
    let skip_quoted = |i: &mut usize, line: &mut usize, quote: char| {
        *i += 1;
        while *i < chars.len() && chars[*i] != quote {
            if chars[*i] == '\\' {
                *i += 1;
            }
            if chars.get(*i) == Some(&'\n') {
                *line += 1;
            }
            *i += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            loop {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == '"' {
            skip_quoted(&mut i, &mut line, '"');
        } else if c == '\'' {
            if next == Some('\\') || chars.get(i + 2) == Some(&'\'') {
                skip_quoted(&mut i, &mut line, '\'');
            } else {
                i += 1; // a lifetime or a label: its name is lexed as an identifier
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
            if matches!(word.as_str(), "r" | "br" | "cr") && chars.get(i + hashes) == Some(&'"') {
                // A raw string: up to the quote followed by as many `#`.
                i += hashes + 1;
                let close: String = std::iter::once('"')
                    .chain("#".repeat(hashes).chars())
                    .collect();
                while i < chars.len() && !chars[i..].iter().collect::<String>().starts_with(&close)
                {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
                i += close.len();
            } else if matches!(word.as_str(), "b" | "c") && chars.get(i) == Some(&'"') {
                skip_quoted(&mut i, &mut line, '"');
            } else if word == "b" && chars.get(i) == Some(&'\'') {
                skip_quoted(&mut i, &mut line, '\'');
            } else if !word.starts_with(|c: char| c.is_ascii_digit()) {
                toks.push(Tok {
                    kind: Kind::Ident(word),
                    line,
                });
            }
        } else if c == ':' && next == Some(':') {
            toks.push(Tok {
                kind: Kind::Sep,
                line,
            });
            i += 2;
        } else {
            toks.push(Tok {
                kind: Kind::Punct(c),
                line,
            });
            i += 1;
        }
    }
    toks
}

/// Removes every item under `#[cfg(test)]`: up to its `;` or through its `{ .. }` block, whichever
/// comes first. Returns the kept tokens and the names of `#[cfg(test)] mod name;` files.
fn drop_test_items(toks: Vec<Tok>) -> (Vec<Tok>, BTreeSet<String>) {
    let is_cfg_test = |t: &[Tok]| {
        t.len() >= 7
            && t[0].is('#')
            && t[1].is('[')
            && t[2].is_ident("cfg")
            && t[3].is('(')
            && t[4].is_ident("test")
            && t[5].is(')')
            && t[6].is(']')
    };
    let (mut kept, mut test_files) = (Vec::new(), BTreeSet::new());
    let mut i = 0;
    while i < toks.len() {
        if !is_cfg_test(&toks[i..]) {
            kept.push(toks[i].clone());
            i += 1;
            continue;
        }
        i += 7;
        if toks[i].is_ident("mod") && toks.get(i + 2).is_some_and(|t| t.is(';')) {
            test_files.insert(toks[i + 1].ident().unwrap().to_string());
        }
        let mut depth = 0;
        while i < toks.len() {
            let t = &toks[i];
            i += 1;
            if t.is('{') {
                depth += 1;
            } else if t.is('}') {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            } else if t.is(';') && depth == 0 {
                break;
            }
        }
    }
    (kept, test_files)
}

// ----------------------------------------------------------------------------------------------
// The crate's file modules
// ----------------------------------------------------------------------------------------------

/// A module path from the crate root: `[]` is the crate, `["http", "server"]` is `http::server`.
type ModPath = Vec<String>;

fn display(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_string()
    } else {
        path.join("::")
    }
}

struct FileModule {
    file: PathBuf,
    toks: Vec<Tok>,
}

/// The `src/` checked: this tree's, or `ARCHITECTURE_SRC`.
fn src_dir() -> PathBuf {
    std::env::var_os("ARCHITECTURE_SRC").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        PathBuf::from,
    )
}

/// The root file of each binary crate: `src/bin/NAME/main.rs` or `src/bin/NAME.rs`.
fn binary_roots() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::fs::read_dir(src_dir().join("bin"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter_map(|path| {
                    let main = path.join("main.rs");
                    if main.is_file() {
                        Some(main)
                    } else {
                        (path.extension().is_some_and(|e| e == "rs")).then_some(path)
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    roots.sort();
    roots
}

/// Every file module reachable from the crate root `root` (`src/lib.rs`, a binary's `main.rs`)
/// through `mod name;`, outside `#[cfg(test)]`.
fn file_modules(root: &Path) -> BTreeMap<ModPath, FileModule> {
    let mut modules = BTreeMap::new();
    let mut queue = VecDeque::from([(ModPath::new(), root.to_path_buf())]);
    while let Some((path, file)) = queue.pop_front() {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let (toks, test_files) = drop_test_items(lex(&text));
        // A crate root, `lib.rs`, `main.rs` and `mod.rs` keep their children beside them; `a/b.rs`
        // keeps them in `a/b/`.
        let dir = match file.file_name().and_then(|n| n.to_str()) {
            Some("lib.rs" | "main.rs" | "mod.rs") => file.parent().unwrap().to_path_buf(),
            _ if path.is_empty() => file.parent().unwrap().to_path_buf(),
            _ => file.with_extension(""),
        };
        let mut depth = 0;
        for w in toks.windows(3) {
            depth += i32::from(w[0].is('{')) - i32::from(w[0].is('}'));
            if let (0, true, Some(name), true) =
                (depth, w[0].is_ident("mod"), w[1].ident(), w[2].is(';'))
            {
                assert!(!test_files.contains(name));
                let child = [
                    dir.join(format!("{name}.rs")),
                    dir.join(name).join("mod.rs"),
                ]
                .into_iter()
                .find(|f| f.exists())
                .unwrap_or_else(|| {
                    panic!("{file:?} declares `mod {name};` but has no file for it")
                });
                let mut child_path = path.clone();
                child_path.push(name.to_string());
                queue.push_back((child_path, child));
            }
        }
        modules.insert(path, FileModule { file, toks });
    }
    modules
}

// ----------------------------------------------------------------------------------------------
// Imports
// ----------------------------------------------------------------------------------------------

/// One path a file names, as written, with where it stands.
struct Reference {
    line: usize,
    /// The (file or inline) module the path is written in.
    scope: ModPath,
    /// The path as written: `["super", "error", "ApiError"]`; a glob ends in `*`.
    written: Vec<String>,
    /// A `pub` (or `pub(..)`) `use`: a re-export.
    reexport: bool,
    /// From a `use` (otherwise a path in code).
    from_use: bool,
}

/// Appends the paths of the use tree at `toks[*i..]` to `out`, each prefixed with `prefix`.
fn use_tree(toks: &[Tok], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        let t = &toks[*i];
        *i += 1;
        if t.kind == Kind::Sep {
            continue;
        } else if t.is('*') {
            path.push("*".into());
        } else if t.is('{') {
            while !toks[*i].is('}') {
                use_tree(toks, i, path.clone(), out);
                if toks[*i].is(',') {
                    *i += 1;
                }
            }
            *i += 1;
            return;
        } else if let Some(name) = t.ident() {
            if name != "self" || path.is_empty() {
                path.push(name.to_string());
            }
            if toks[*i].kind == Kind::Sep {
                continue;
            }
            if toks[*i].is_ident("as") {
                *i += 2;
            }
        }
        out.push(path);
        return;
    }
}

/// True if the tokens before `toks[at]` are `pub` or `pub(..)`.
fn is_pub(toks: &[Tok], at: usize) -> bool {
    match at.checked_sub(1).map(|j| &toks[j]) {
        Some(t) if t.is_ident("pub") => true,
        Some(t) if t.is(')') => toks[..at]
            .iter()
            .rposition(|t| t.is('('))
            .is_some_and(|open| open > 0 && toks[open - 1].is_ident("pub")),
        _ => false,
    }
}

/// Every `use` path and every `crate::`/`super::`/`self::`/child/imported-name path in `module`.
fn references(path: &ModPath, module: &FileModule) -> Vec<Reference> {
    let toks = &module.toks;
    let mut refs = Vec::new();
    // Inline modules: (path, brace depth inside them).
    let mut scopes: Vec<(ModPath, i32)> = vec![(path.clone(), 0)];
    let mut depth = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let scope = scopes.last().unwrap().0.clone();
        if t.is('{') {
            depth += 1;
        } else if t.is('}') {
            if scopes.len() > 1 && scopes.last().unwrap().1 == depth {
                scopes.pop();
            }
            depth -= 1;
        } else if t.is_ident("mod") && toks.get(i + 2).is_some_and(|t| t.is('{')) {
            let mut inner = scope.clone();
            inner.push(toks[i + 1].ident().unwrap().to_string());
            scopes.push((inner, depth + 1));
        } else if t.is_ident("use") {
            let reexport = is_pub(toks, i);
            let mut j = i + 1;
            let mut paths = Vec::new();
            use_tree(toks, &mut j, Vec::new(), &mut paths);
            for written in paths {
                refs.push(Reference {
                    line: t.line,
                    scope: scope.clone(),
                    written,
                    reexport,
                    from_use: true,
                });
            }
            i = j;
            continue;
        } else if t.ident().is_some()
            && toks.get(i + 1).is_some_and(|n| n.kind == Kind::Sep)
            && (i == 0 || toks[i - 1].kind != Kind::Sep)
        {
            let mut written = vec![t.ident().unwrap().to_string()];
            let mut j = i + 1;
            while toks.get(j).is_some_and(|n| n.kind == Kind::Sep) {
                match toks.get(j + 1).and_then(Tok::ident) {
                    Some(name) => written.push(name.to_string()),
                    None => break,
                }
                j += 2;
            }
            refs.push(Reference {
                line: t.line,
                scope,
                written,
                reexport: false,
                from_use: false,
            });
            i = j;
            continue;
        }
        i += 1;
    }
    refs
}

/// An import of one file module by another.
#[derive(Clone)]
struct Edge {
    from: ModPath,
    to: ModPath,
    /// `src/x.rs:12: crate::y::Z`
    evidence: String,
}

struct Graph {
    modules: BTreeSet<ModPath>,
    edges: Vec<Edge>,
    /// The files that name an identifier of [`HTTP_CRATES`], with the first line each does.
    http_crates: BTreeMap<ModPath, String>,
}

/// The library crate's graph.
fn graph() -> Graph {
    graph_of(&src_dir().join("lib.rs"))
}

/// The graph of the crate whose root file is `root`. In a binary crate, `crate::` is the binary,
/// and the library (`hyperjwt::...`) is another crate: its paths make no edges.
fn graph_of(root: &Path) -> Graph {
    let modules = file_modules(root);
    let all_refs: BTreeMap<&ModPath, Vec<Reference>> =
        modules.iter().map(|(p, m)| (p, references(p, m))).collect();
    let is_module = |p: &[String]| modules.contains_key(p);
    // `written` as a path from the crate root, or None if it names something outside the crate.
    let absolute = |r: &Reference, aliases: &BTreeMap<String, ModPath>| -> Option<ModPath> {
        let w = &r.written;
        let mut abs = match w[0].as_str() {
            "crate" => Vec::new(),
            "self" => r.scope.clone(),
            "super" => {
                let ups = w.iter().take_while(|s| *s == "super").count();
                let mut base = r.scope.clone();
                base.truncate(
                    base.len()
                        .checked_sub(ups)
                        .expect("super:: above the crate"),
                );
                base.extend(w[ups..].iter().cloned());
                return Some(base);
            }
            first => {
                let mut child = r.scope.clone();
                child.push(first.to_string());
                if is_module(&child) {
                    r.scope.clone()
                } else if let Some(target) = aliases.get(first).filter(|_| !r.from_use) {
                    let mut abs = target.clone();
                    abs.extend(w[1..].iter().cloned());
                    return Some(abs);
                } else {
                    return None;
                }
            }
        };
        let skip = usize::from(matches!(w[0].as_str(), "crate" | "self"));
        abs.extend(w[skip..].iter().cloned());
        Some(abs)
    };
    // Per file: what its `use`s bring in by name (for paths in code), and what it re-exports.
    let mut aliases: BTreeMap<&ModPath, BTreeMap<String, ModPath>> = BTreeMap::new();
    let mut reexports: BTreeMap<ModPath, BTreeMap<String, ModPath>> = BTreeMap::new();
    for (&path, refs) in &all_refs {
        for r in refs.iter().filter(|r| r.from_use) {
            let Some(abs) = absolute(r, &BTreeMap::new()) else {
                continue;
            };
            let name = abs.last().cloned().unwrap_or_default();
            if r.reexport && r.scope == *path {
                reexports
                    .entry(path.clone())
                    .or_default()
                    .insert(name.clone(), abs.clone());
            }
            aliases.entry(path).or_default().insert(name, abs);
        }
    }
    // The file module that defines what `abs` names, following re-exports.
    let resolve = |abs: &[String]| -> ModPath {
        let mut abs = abs.to_vec();
        for _ in 0..16 {
            let k = (0..=abs.len())
                .rev()
                .find(|&k| is_module(&abs[..k]))
                .unwrap();
            let module = abs[..k].to_vec();
            match abs
                .get(k)
                .and_then(|name| reexports.get(&module)?.get(name))
            {
                Some(target) => abs = [target.clone(), abs[k + 1..].to_vec()].concat(),
                None => return module,
            }
        }
        panic!("re-exports of {abs:?} go round in circles")
    };
    let mut edges = Vec::new();
    let mut http_crates = BTreeMap::new();
    for (&path, refs) in &all_refs {
        let file = &modules[path].file;
        let file = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(file);
        let no_aliases = BTreeMap::new();
        let file_aliases = aliases.get(path).unwrap_or(&no_aliases);
        for r in refs {
            // A facade's `pub use` of its own descendants is followed by `resolve`, not an edge.
            let Some(abs) = absolute(r, file_aliases) else {
                continue;
            };
            if r.reexport && abs.starts_with(path) {
                continue;
            }
            let to = resolve(&abs);
            if to != *path {
                edges.push(Edge {
                    from: path.clone(),
                    to,
                    evidence: format!("{}:{}: {}", file.display(), r.line, r.written.join("::")),
                });
            }
        }
        // Identifiers of the HTTP crates anywhere in code.
        if let Some(t) = modules[path]
            .toks
            .iter()
            .find(|t| t.ident().is_some_and(|s| HTTP_CRATES.contains(&s)))
        {
            http_crates
                .entry(path.clone())
                .or_insert_with(|| format!("{}:{}", file.display(), t.line));
        }
    }
    Graph {
        modules: modules.into_keys().collect(),
        edges,
        http_crates,
    }
}

impl Graph {
    fn targets(&self, from: &ModPath) -> BTreeSet<&ModPath> {
        self.edges
            .iter()
            .filter(|e| e.from == *from)
            .map(|e| &e.to)
            .collect()
    }

    /// The shortest import path `from` → … → `to`, if there is one.
    fn route(&self, from: &ModPath, to: &ModPath) -> Option<Vec<ModPath>> {
        let mut came_from: BTreeMap<&ModPath, &ModPath> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(at) = queue.pop_front() {
            for next in self.targets(at) {
                if next == to {
                    let mut route = vec![to.clone(), at.clone()];
                    let mut back = at;
                    while back != from {
                        back = came_from[back];
                        route.push(back.clone());
                    }
                    route.reverse();
                    return Some(route);
                }
                if next != from && !came_from.contains_key(next) {
                    came_from.insert(next, at);
                    queue.push_back(next);
                }
            }
        }
        None
    }

    /// The strongly connected components of more than one module, each sorted.
    fn cycles(&self) -> Vec<Vec<ModPath>> {
        let mut seen = BTreeSet::new();
        let mut cycles = Vec::new();
        for m in &self.modules {
            if seen.contains(m) {
                continue;
            }
            let component: Vec<ModPath> = self
                .modules
                .iter()
                .filter(|n| *n == m || (self.route(m, n).is_some() && self.route(n, m).is_some()))
                .cloned()
                .collect();
            seen.extend(component.iter().cloned());
            if component.len() > 1 {
                cycles.push(component);
            }
        }
        cycles
    }

    /// The modules of `component`, and one cycle through it with the import that makes each step,
    /// starting from a module no known cycle covers (where the new import most likely is).
    fn explain(&self, component: &[ModPath]) -> String {
        let known = |m: &ModPath| {
            KNOWN_CYCLES
                .iter()
                .any(|(names, _)| names.contains(&display(m).as_str()))
        };
        let first = component
            .iter()
            .find(|m| !known(m))
            .unwrap_or(&component[0]);
        let second = self
            .targets(first)
            .into_iter()
            .find(|t| component.contains(t))
            .unwrap();
        let mut route = self.route(second, first).unwrap();
        route.insert(0, first.clone());
        let names: Vec<String> = component.iter().map(|m| display(m)).collect();
        let mut text = format!("{}\n  e.g. ", names.join(", "));
        text += &route
            .iter()
            .map(|m| display(m))
            .collect::<Vec<_>>()
            .join(" -> ");
        for step in route.windows(2) {
            let edge = self
                .edges
                .iter()
                .find(|e| e.from == step[0] && e.to == step[1])
                .unwrap();
            write!(text, "\n    {}", edge.evidence).unwrap();
        }
        text
    }

    fn edges_from_under<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a Edge> + 'a {
        self.edges
            .iter()
            .filter(move |e| e.from.first().map(String::as_str) == Some(folder))
    }
}

fn top(path: &[String]) -> &str {
    path.first().map(String::as_str).unwrap_or("crate")
}

// ----------------------------------------------------------------------------------------------
// The rules
// ----------------------------------------------------------------------------------------------

#[test]
fn no_import_cycles_between_file_modules() {
    let mut problems = String::new();
    let roots = binary_roots();
    // The binary's modules are checked too: a tool's code is read like the server's.
    assert!(
        roots.iter().any(|r| r.ends_with("bin/hyperjwt/main.rs")),
        "{roots:?}"
    );
    for root in std::iter::once(src_dir().join("lib.rs")).chain(roots) {
        let graph = graph_of(&root);
        if std::env::var_os("ARCHITECTURE_EDGES").is_some() {
            for e in &graph.edges {
                eprintln!("{} -> {}: {}", display(&e.from), display(&e.to), e.evidence);
            }
        }
        let crate_problems = cycle_problems(&graph);
        if !crate_problems.is_empty() {
            write!(
                problems,
                "\nin the crate of {}:{crate_problems}",
                root.display()
            )
            .unwrap();
        }
    }
    assert!(problems.is_empty(), "{problems}");
}

/// The binary crate's modules and imports are seen: `inspect`'s files, and an import among them.
#[test]
fn the_binary_crate_is_walked_too() {
    let root = src_dir().join("bin/hyperjwt/main.rs");
    let graph = graph_of(&root);
    let inspect = |name: &str| vec!["inspect".to_string(), name.to_string()];
    assert!(
        graph.modules.contains(&inspect("report")),
        "{:?}",
        graph.modules
    );
    assert!(
        graph
            .edges
            .iter()
            .any(|e| e.from == inspect("report") && e.to == inspect("revocation")),
        "no edge inspect::report -> inspect::revocation"
    );
    // The library is another crate: `hyperjwt::...` makes no edge (to the binary's root or any).
    assert!(
        !graph
            .edges
            .iter()
            .any(|e| e.to.is_empty() && e.evidence.contains("hyperjwt::")),
        "a path into the library was read as the binary's own"
    );
}

/// The cycles of `graph` that [`KNOWN_CYCLES`] doesn't list, and the listed ones that are gone.
fn cycle_problems(graph: &Graph) -> String {
    let found = graph.cycles();
    let tolerated = |names: &[&str], component: &[ModPath]| {
        component
            .iter()
            .all(|m| names.contains(&display(m).as_str()))
    };
    let mut problems = String::new();
    for component in &found {
        if !KNOWN_CYCLES
            .iter()
            .any(|(names, _)| tolerated(names, component))
        {
            write!(
                problems,
                "\nimport cycle among {}",
                graph.explain(component)
            )
            .unwrap();
        }
    }
    // Gone: no cycle left among its modules (one swallowed by a larger cycle is reported above).
    for (names, _) in KNOWN_CYCLES {
        let within = |c: &Vec<ModPath>| {
            c.iter()
                .filter(|m| names.contains(&display(m).as_str()))
                .count()
        };
        if !found.iter().any(|c| within(c) >= 2) {
            write!(
                problems,
                "\nthe known cycle in {names:?} is gone: take it off KNOWN_CYCLES"
            )
            .unwrap();
        }
    }
    problems
}

#[test]
fn jwt_imports_nothing_of_the_crate_outside_jwt() {
    let graph = graph();
    let outside: Vec<&str> = graph
        .edges_from_under("jwt")
        .filter(|e| top(&e.to) != "jwt")
        .map(|e| e.evidence.as_str())
        .collect();
    assert!(
        outside.is_empty(),
        "jwt/ imports the rest of the crate:\n{}",
        outside.join("\n")
    );
    // The check sees jwt's files and their imports of each other.
    assert!(
        graph
            .modules
            .contains(&vec!["jwt".to_string(), "verify".to_string()])
    );
    assert!(
        graph
            .edges_from_under("jwt")
            .any(|e| display(&e.to) == "jwt::claims")
    );
}

#[test]
fn only_http_and_handlers_name_the_http_crates() {
    let graph = graph();
    let elsewhere: Vec<&str> = graph
        .http_crates
        .iter()
        .filter(|(m, _)| !HTTP_LAYER.contains(&top(m)))
        .map(|(_, at)| at.as_str())
        .collect();
    assert!(
        elsewhere.is_empty(),
        "{HTTP_CRATES:?} named outside {HTTP_LAYER:?}:\n{}",
        elsewhere.join("\n")
    );
    // The check sees them where they are.
    assert!(
        graph
            .http_crates
            .contains_key(&vec!["http".to_string(), "server".to_string()])
    );
}

#[test]
fn the_core_imports_nothing_of_http_handlers_or_app() {
    let graph = graph();
    let wrong: Vec<&str> = CORE
        .iter()
        .flat_map(|folder| graph.edges_from_under(folder))
        .filter(|e| matches!(top(&e.to), "http" | "handlers" | "app"))
        .map(|e| e.evidence.as_str())
        .collect();
    assert!(
        wrong.is_empty(),
        "the core imports the server:\n{}",
        wrong.join("\n")
    );
    // The check sees the core's imports of each other.
    assert!(
        graph
            .edges_from_under("auth")
            .any(|e| top(&e.to) == "store")
    );
}

// ----------------------------------------------------------------------------------------------
// The parser itself
// ----------------------------------------------------------------------------------------------

#[test]
fn comments_and_literals_make_no_tokens() {
    let toks = lex(concat!(
        "// crate::a\n/* crate::b /* nested */ crate::c */ let s = \"crate::d \\\" crate::e\";\n",
        "let r = r#\"crate::f \" crate::g\"#; let c = '\"'; let q = b'\\''; fn f<'a>() {}\n",
        "crate::h::I"
    ));
    let idents: Vec<&str> = toks.iter().filter_map(Tok::ident).collect();
    assert_eq!(
        idents,
        [
            "let", "s", "let", "r", "let", "c", "let", "q", "fn", "f", "a", "crate", "h", "I"
        ]
    );
    assert_eq!(toks.last().unwrap().line, 4);
}

#[test]
fn use_trees_expand_groups_self_aliases_and_globs() {
    let toks = lex("use crate::a::{self, b::C as D, e::{F, G}, h::*};");
    let (mut i, mut out) = (1, Vec::new());
    use_tree(&toks, &mut i, Vec::new(), &mut out);
    let out: Vec<String> = out.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        out,
        [
            "crate::a",
            "crate::a::b::C",
            "crate::a::e::F",
            "crate::a::e::G",
            "crate::a::h::*"
        ]
    );
}

#[test]
fn cfg_test_items_are_dropped() {
    let (toks, test_files) = drop_test_items(lex(
        "use crate::a;\n#[cfg(test)]\nmod tests { use crate::b; fn f() { g() } }\n\
         #[cfg(test)]\nmod more;\n#[cfg(test)]\nuse crate::c;\nfn h() {}",
    ));
    let idents: Vec<&str> = toks.iter().filter_map(Tok::ident).collect();
    assert_eq!(idents, ["use", "crate", "a", "fn", "h"]);
    assert_eq!(test_files, BTreeSet::from(["more".to_string()]));
}
