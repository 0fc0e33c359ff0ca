//! The shape of `src/`: no two modules import each other.
//!
//! A module is one file (`src/a/b.rs` and `src/a/b/mod.rs` are `a::b`, `src/lib.rs` and
//! `src/main.rs` the crate root). Module A imports B when A mentions a path that starts
//! with `crate::`, `self::` or `super::` and whose longest prefix naming a module is B, in
//! a `use` item (grouped or not) or anywhere in its code; comments and literals do not
//! count. Two modules that import each other must be pulled apart: what both need goes to
//! the module that owns it, and one of them depends on the other one way only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Pairs of modules that may still import each other, each with the reason. A pair listed
/// here that no longer is a cycle fails the test too, so that the list only ever shrinks.
const ALLOWED_CYCLES: &[(&str, &str)] = &[];

#[test]
fn no_two_modules_of_src_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_rust_files(&src, &src, &mut files);
    assert!(
        files.len() > 10,
        "found only {} files under {}",
        files.len(),
        src.display()
    );
    let imports = Imports::of(
        files
            .iter()
            .map(|(path, source)| (path.as_str(), source.as_str())),
    );
    let cycles = imports.cycles();
    let allowed: BTreeSet<(Module, Module)> = ALLOWED_CYCLES
        .iter()
        .map(|(a, b)| ordered(Module::named(a), Module::named(b)))
        .collect();

    let mut problems = Vec::new();
    for (a, b) in cycles.iter().filter(|pair| !allowed.contains(pair)) {
        problems.push(format!(
            "{a} <-> {b}\n{}{}",
            imports.evidence(a, b),
            imports.evidence(b, a)
        ));
    }
    for (a, b) in allowed.iter().filter(|pair| !cycles.contains(pair)) {
        problems.push(format!(
            "{a} <-> {b} is in ALLOWED_CYCLES but no longer a cycle: remove it from the list"
        ));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) with the modules of src/ importing each other (each pair must depend \
         one way only: move what both need to the module that owns it):\n\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Every `.rs` file under `dir`, as (path relative to `root` with `/`, contents).
fn read_rust_files(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
            .path();
        if path.is_dir() {
            read_rust_files(root, &path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
            let relative = path
                .strip_prefix(root)
                .expect("a file under its root")
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, source));
        }
    }
}

/// A module's path below the crate root (empty for the root).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Module(Vec<String>);

impl Module {
    /// `a::b`, or `crate` for the root.
    fn named(name: &str) -> Self {
        if name == "crate" {
            return Self::default();
        }
        Self(name.split("::").map(str::to_owned).collect())
    }

    /// The module a file under `src/` is: `a/b.rs` and `a/b/mod.rs` are `a::b`, `lib.rs`
    /// and `main.rs` the root.
    fn of_file(relative: &str) -> Self {
        let without_extension = relative.strip_suffix(".rs").unwrap_or(relative);
        let mut parts: Vec<String> = without_extension.split('/').map(str::to_owned).collect();
        if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
            parts.clear();
        } else if parts.last().is_some_and(|last| last == "mod") {
            parts.pop();
        }
        Self(parts)
    }

    /// Whether `path` (below the root) starts with this module's segments.
    fn prefixes(&self, path: &[String]) -> bool {
        path.starts_with(&self.0)
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("crate")
        } else {
            f.write_str(&self.0.join("::"))
        }
    }
}

/// The pair in a stable order, the way cycles are reported and allow-listed.
fn ordered(a: Module, b: Module) -> (Module, Module) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Which module imports which, with the paths that make each import.
struct Imports {
    /// `(from, to)` → the paths `from` mentions that lie in `to`, as `crate::…`.
    edges: BTreeMap<(Module, Module), BTreeSet<String>>,
    /// The file of each module.
    files: BTreeMap<Module, String>,
}

impl Imports {
    /// Reads the given files (path relative to `src/`, contents).
    fn of<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let sources: Vec<(Module, &str, &str)> = files
            .into_iter()
            .map(|(path, source)| (Module::of_file(path), path, source))
            .collect();
        let modules: BTreeSet<Module> = sources
            .iter()
            .map(|(module, _, _)| module.clone())
            .chain([Module::default()])
            .collect();
        let mut edges: BTreeMap<(Module, Module), BTreeSet<String>> = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (module, path, source) in &sources {
            files.insert(module.clone(), format!("src/{path}"));
            for reference in paths_in(source, &module.0) {
                let target = owner(&reference, &modules);
                if target != *module {
                    edges
                        .entry((module.clone(), target))
                        .or_default()
                        .insert(format!("crate::{}", reference.join("::")));
                }
            }
        }
        Self { edges, files }
    }

    /// Every pair of distinct modules that import each other.
    fn cycles(&self) -> BTreeSet<(Module, Module)> {
        self.edges
            .keys()
            .filter(|(from, to)| self.edges.contains_key(&(to.clone(), from.clone())))
            .map(|(from, to)| ordered(from.clone(), to.clone()))
            .collect()
    }

    /// One line per path by which `from` imports `to`.
    fn evidence(&self, from: &Module, to: &Module) -> String {
        let file = self.files.get(from).map_or("?", String::as_str);
        self.edges
            .get(&(from.clone(), to.clone()))
            .into_iter()
            .flatten()
            .map(|path| format!("    {file} mentions {path}\n"))
            .collect()
    }
}

/// The module a path (below the root) lies in: the longest of `modules` prefixing it.
fn owner(path: &[String], modules: &BTreeSet<Module>) -> Module {
    modules
        .iter()
        .filter(|module| module.prefixes(path))
        .max_by_key(|module| module.0.len())
        .cloned()
        .unwrap_or_default()
}

/// Every path starting with `crate::`, `self::` or `super::` that `source` (the code of
/// `module`) mentions, made absolute (below the root); a `use` tree gives one path per leaf.
fn paths_in(source: &str, module: &[String]) -> Vec<Vec<String>> {
    let tokens = tokens(source);
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
    };
    // Inline modules (`mod tests { ... }`) open where `self` and `super` are resolved:
    // each with the brace depth its body is at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut paths = Vec::new();
    while let Some(token) = parser.peek() {
        match token {
            Token::Ident(word) if word == "mod" => {
                parser.at += 1;
                if let (Some(Token::Ident(name)), Some(Token::Open)) =
                    (parser.peek().cloned(), parser.tokens.get(parser.at + 1))
                {
                    parser.at += 2;
                    depth += 1;
                    inline.push((name, depth));
                }
            }
            Token::Ident(word)
                if matches!(word.as_str(), "crate" | "self" | "super")
                    && parser.tokens.get(parser.at + 1) == Some(&Token::PathSep)
                    && (parser.at == 0
                        || parser.tokens.get(parser.at - 1) != Some(&Token::PathSep)) =>
            {
                let start = vec![word.clone()];
                parser.at += 1;
                let here: Vec<String> = module
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(name, _)| name.clone()))
                    .collect();
                let mut written = Vec::new();
                parser.rest(start, &mut written);
                paths.extend(written.iter().map(|path| absolute(path, &here)));
            }
            Token::Open => {
                parser.at += 1;
                depth += 1;
            }
            Token::Close => {
                parser.at += 1;
                if inline.last().is_some_and(|(_, opened)| *opened == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => parser.at += 1,
        }
    }
    paths
}

/// A written path (starting with `crate`, `self` or `super`) seen from module `here`, below
/// the root.
fn absolute(written: &[String], here: &[String]) -> Vec<String> {
    let mut segments = written.iter().peekable();
    let mut base: Vec<String> = if written.first().is_some_and(|first| first == "crate") {
        segments.next();
        Vec::new()
    } else {
        here.to_vec()
    };
    while let Some(keyword) = segments.next_if(|segment| *segment == "self" || *segment == "super")
    {
        if keyword == "super" {
            base.pop();
        }
    }
    base.extend(segments.cloned());
    base
}

/// What the path reader needs of Rust's tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `::`
    PathSep,
    /// `{`
    Open,
    /// `}`
    Close,
    Comma,
    Star,
    /// Any other punctuation, number or literal.
    Other,
}

/// Reads paths and `use` trees from the tokens.
struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    /// The rest of a path whose first segments are `path`: `::segment`s, then maybe a
    /// `::{group}` or `::*`, then maybe `as alias`. Pushes each path it ends in.
    fn rest(&mut self, mut path: Vec<String>, out: &mut Vec<Vec<String>>) {
        while self.peek() == Some(&Token::PathSep) {
            match self.tokens.get(self.at + 1) {
                Some(Token::Ident(segment)) => {
                    path.push(segment.clone());
                    self.at += 2;
                }
                Some(Token::Open) => {
                    self.at += 2;
                    self.group(&path, out);
                    return;
                }
                Some(Token::Star) => {
                    self.at += 2;
                    break;
                }
                // A turbofish (`::<T>`) or anything else ends the path.
                _ => break,
            }
        }
        if matches!(self.peek(), Some(Token::Ident(word)) if word == "as") {
            self.at += 2;
        }
        out.push(path);
    }

    /// The trees of a `{...}` group after `prefix::`, up to its closing brace.
    fn group(&mut self, prefix: &[String], out: &mut Vec<Vec<String>>) {
        while let Some(token) = self.peek().cloned() {
            self.at += 1;
            match token {
                Token::Close => return,
                // `self` in a group names the prefix itself.
                Token::Ident(word) if word == "self" => self.rest(prefix.to_vec(), out),
                Token::Ident(word) => {
                    let mut path = prefix.to_vec();
                    path.push(word);
                    self.rest(path, out);
                }
                Token::Open => self.group(prefix, out),
                Token::Star => out.push(prefix.to_vec()),
                Token::PathSep | Token::Comma | Token::Other => {}
            }
        }
    }
}

/// The tokens of Rust source, without comments; literals are [`Token::Other`].
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        let next = chars.get(at + 1).copied();
        if c.is_whitespace() {
            at += 1;
        } else if c == '/' && next == Some('/') {
            while chars.get(at).is_some_and(|&c| c != '\n') {
                at += 1;
            }
        } else if c == '/' && next == Some('*') {
            at = after_block_comment(&chars, at);
        } else if c == '"' {
            at = after_string(&chars, at + 1, None);
            tokens.push(Token::Other);
        } else if c == '\'' {
            at = after_quote(&chars, at);
            tokens.push(Token::Other);
        } else if c.is_alphabetic() || c == '_' {
            let start = at;
            at = after_word(&chars, at);
            let word: String = chars[start..at].iter().collect();
            match (word.as_str(), chars.get(at).copied()) {
                // A string with a prefix: b"..", c"..", r"..", br#".."#, ...
                ("b" | "c", Some('"')) => {
                    at = after_string(&chars, at + 1, None);
                    tokens.push(Token::Other);
                }
                ("r" | "br" | "cr", Some('"' | '#')) => {
                    let hashes = chars[at..].iter().take_while(|&&c| c == '#').count();
                    if chars.get(at + hashes) == Some(&'"') {
                        at = after_string(&chars, at + hashes + 1, Some(hashes));
                        tokens.push(Token::Other);
                    } else {
                        // A raw identifier, `r#name`: the name alone.
                        let start = at + 1;
                        at = after_word(&chars, start);
                        tokens.push(Token::Ident(chars[start..at].iter().collect()));
                    }
                }
                _ => tokens.push(Token::Ident(word)),
            }
        } else if c.is_ascii_digit() {
            at = after_word(&chars, at);
            tokens.push(Token::Other);
        } else {
            at += 1;
            tokens.push(match c {
                ':' if next == Some(':') => {
                    at += 1;
                    Token::PathSep
                }
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                '*' => Token::Star,
                _ => Token::Other,
            });
        }
    }
    tokens
}

/// Past a (nested) block comment starting at `at`.
fn after_block_comment(chars: &[char], mut at: usize) -> usize {
    let mut depth = 0;
    while at < chars.len() {
        match (chars[at], chars.get(at + 1)) {
            ('/', Some('*')) => {
                depth += 1;
                at += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    at
}

/// Past the letters, digits and underscores starting at `at`.
fn after_word(chars: &[char], mut at: usize) -> usize {
    while chars
        .get(at)
        .is_some_and(|&c| c.is_alphanumeric() || c == '_')
    {
        at += 1;
    }
    at
}

/// Past a string whose contents start at `at`: with escapes, or raw (`r"..."`, closed by
/// `"` and the given number of `#`).
fn after_string(chars: &[char], mut at: usize, raw: Option<usize>) -> usize {
    while let Some(&c) = chars.get(at) {
        at += 1;
        match raw {
            None if c == '\\' => at += 1,
            None if c == '"' => return at,
            Some(hashes)
                if c == '"'
                    && chars
                        .get(at..at + hashes)
                        .is_some_and(|closing| closing.iter().all(|&c| c == '#')) =>
            {
                return at + hashes;
            }
            _ => {}
        }
    }
    at
}

/// Past a character literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime or label (`'a`)
/// starting at `at`.
fn after_quote(chars: &[char], at: usize) -> usize {
    match (chars.get(at + 1), chars.get(at + 2)) {
        (Some('\\'), _) => {
            let mut end = at + 3;
            while chars.get(end).is_some_and(|&c| c != '\'') {
                end += 1;
            }
            end + 1
        }
        (Some(_), Some('\'')) => at + 3,
        _ => after_word(chars, at + 1),
    }
}

/// The reader itself, on small inline examples.
mod reading {
    use super::*;

    fn module(name: &str) -> Vec<String> {
        Module::named(name).0
    }

    /// The paths `source` mentions as `module`, written `a::b`.
    fn paths(source: &str, module_name: &str) -> Vec<String> {
        paths_in(source, &module(module_name))
            .into_iter()
            .map(|path| path.join("::"))
            .collect()
    }

    #[test]
    fn a_plain_use_and_a_path_in_an_expression() {
        assert_eq!(
            paths(
                "use crate::db::Pool;\nfn f() { let x = crate::jobs::enqueue(1); }",
                "api"
            ),
            ["db::Pool", "jobs::enqueue"]
        );
    }

    #[test]
    fn grouped_and_nested_uses_give_one_path_per_leaf() {
        assert_eq!(
            paths("use crate::{a::{b, c::D}, e, f::*};", "x"),
            ["a::b", "a::c::D", "e", "f"]
        );
    }

    #[test]
    fn self_in_a_group_names_the_group_prefix() {
        assert_eq!(
            paths("use crate::db::{self, Pool};", "x"),
            ["db", "db::Pool"]
        );
    }

    #[test]
    fn aliases_are_not_paths() {
        assert_eq!(
            paths(
                "use crate::a::B as C;\nuse crate::{d::E as F, g::{self as h}};\nlet n = crate::N as u64;",
                "x"
            ),
            ["a::B", "d::E", "g", "N"]
        );
    }

    #[test]
    fn self_and_super_resolve_from_the_module() {
        assert_eq!(
            paths(
                "use super::sibling::T;\nuse self::child::U;\nfn f() { super::super::top(); }",
                "a::b::c"
            ),
            ["a::b::sibling::T", "a::b::c::child::U", "a::top"]
        );
        assert_eq!(paths("use super::{x, super::y};", "a::b"), ["a::x", "y"]);
    }

    #[test]
    fn super_in_an_inline_module_names_the_file_module() {
        assert_eq!(
            paths(
                "fn f() {}\nmod tests {\n use super::f;\n mod deeper { use super::super::g; }\n}\nuse super::h;",
                "a::b"
            ),
            ["a::b::f", "a::b::g", "a::h"]
        );
    }

    #[test]
    fn comments_literals_and_other_keywords_are_no_paths() {
        let source = r###"
            // crate::in_a_comment
            /* crate::in_a /* nested */ crate::block */
            /// [`crate::in_a_doc`]
            pub(crate) fn f<'a>(&self, x: &'a str) -> Self {
                let s = "crate::in_a_string \" crate::still";
                let r = r#"crate::raw " crate::raw"#;
                let b = b"crate::bytes";
                let c = '"';
                let d = '\'';
                let e = Self::new(self.x);
                'outer: loop { break 'outer; }
                crate::after_all::G
            }
        "###;
        assert_eq!(paths(source, "x"), ["after_all::G"]);
    }

    #[test]
    fn a_path_belongs_to_the_longest_module_prefixing_it() {
        let modules: BTreeSet<Module> = ["crate", "jobs", "jobs::activity", "api::charts"]
            .into_iter()
            .map(Module::named)
            .collect();
        for (path, expected) in [
            ("jobs::Registry", "jobs"),
            ("jobs::activity::store::Home", "jobs::activity"),
            ("jobs::activity", "jobs::activity"),
            ("api::charts::AvgTimeChart", "api::charts"),
            ("VERSION", "crate"),
        ] {
            assert_eq!(
                owner(&module(path), &modules),
                Module::named(expected),
                "{path}"
            );
        }
    }

    #[test]
    fn files_map_to_modules() {
        for (file, expected) in [
            ("lib.rs", "crate"),
            ("main.rs", "crate"),
            ("context.rs", "context"),
            ("jobs/mod.rs", "jobs"),
            ("jobs/activity/timeline.rs", "jobs::activity::timeline"),
        ] {
            assert_eq!(Module::of_file(file), Module::named(expected), "{file}");
        }
    }

    #[test]
    fn modules_importing_each_other_are_a_cycle_and_one_way_is_not() {
        let imports = Imports::of([
            ("lib.rs", "pub mod a; pub mod b; pub mod c;"),
            ("a.rs", "use crate::b::B; pub struct A;"),
            ("b/mod.rs", "pub mod inner; pub struct B(crate::a::A);"),
            ("b/inner.rs", "use super::B; use crate::c::C;"),
            ("c.rs", "pub struct C;"),
        ]);
        assert_eq!(
            imports.cycles(),
            BTreeSet::from([(Module::named("a"), Module::named("b"))])
        );
        assert_eq!(
            imports.evidence(&Module::named("b"), &Module::named("a")),
            "    src/b/mod.rs mentions crate::a::A\n"
        );
    }

    #[test]
    fn a_parent_and_its_child_importing_each_other_are_a_cycle() {
        let imports = Imports::of([
            ("p/mod.rs", "mod child; fn f() { crate::p::child::g(); }"),
            ("p/child.rs", "pub fn g() { super::f(); }"),
        ]);
        assert_eq!(
            imports.cycles(),
            BTreeSet::from([(Module::named("p"), Module::named("p::child"))])
        );
    }
}
