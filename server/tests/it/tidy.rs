//! Tidy checks over the repository's sources: every Rust file says what it owns in a `//!`
//! header, and the server's layering holds (the domain does no IO; only `store` names
//! `sqlx`; only `bus::redis` names `redis`; the top-level modules form no cycle).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn sources(under: &str) -> Vec<(String, String)> {
    let root = workspace();
    let mut files = Vec::new();
    rust_files(&root.join(under), &mut files);
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path.strip_prefix(&root).unwrap().display().to_string(), text)
        })
        .collect()
}

#[test]
fn every_rust_file_opens_with_a_module_doc() {
    let mut missing = Vec::new();
    for dir in [
        "proto/src",
        "proto/tests",
        "server/src",
        "server/tests",
        "server/benches",
        "server/media/src",
        "server/media/tests",
        "load-tests/src",
        "load-tests/tests",
    ] {
        for (path, text) in sources(dir) {
            if !text.trim_start().starts_with("//!") {
                missing.push(path);
            }
        }
    }
    assert!(missing.is_empty(), "files without a //! header saying what they own: {missing:?}");
}

/// Whether any line of code (comments left out, and re-exports of a submodule of the same
/// name such as `bus`'s `pub use redis::RedisBus`) uses the crate `name`.
fn uses(text: &str, name: &str) -> bool {
    let reexport = format!("pub use {name}::");
    text.lines().map(str::trim_start).filter(|l| !l.starts_with("//") && !l.starts_with(&reexport)).any(|l| {
        l.contains(&format!("{name}::")) && !l.contains(&format!("_{name}::")) && !l.contains(&format!("crate::{name}"))
    })
}

#[test]
fn the_layers_hold() {
    let mut crossings = Vec::new();
    for (path, text) in sources("server/src") {
        let domain = path.starts_with("server/src/domain/");
        if domain {
            for io in ["tokio::net", "tokio::fs", "sqlx", "redis", "axum", "crate::store", "crate::hub", "crate::http"]
            {
                if text.lines().filter(|l| !l.trim_start().starts_with("//")).any(|l| l.contains(io)) {
                    crossings.push(format!("{path} (domain) uses {io}"));
                }
            }
        }
        if !path.starts_with("server/src/store/") && uses(&text, "sqlx") {
            crossings.push(format!("{path} names sqlx outside store"));
        }
        if path != "server/src/bus/redis.rs" && uses(&text, "redis") {
            crossings.push(format!("{path} names redis outside bus::redis"));
        }
    }
    assert!(crossings.is_empty(), "{crossings:#?}");
}

/// The top-level modules of `server/src` and the ones each names through `crate::`.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let root = workspace().join("server/src");
    let mut modules: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_owned();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|name| name != "lib" && name != "main")
        .collect();
    modules.sort();
    modules.dedup();
    let mut graph = std::collections::BTreeMap::new();
    for module in &modules {
        let mut files = Vec::new();
        let dir = root.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        let file = root.join(format!("{module}.rs"));
        if file.is_file() {
            files.push(file);
        }
        let mut uses = std::collections::BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + "crate::".len()..];
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if &name != module && modules.contains(&name) {
                        uses.insert(name);
                    }
                }
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

#[test]
fn the_server_modules_form_no_cycle() {
    let graph = module_graph();
    // Depth-first search; a module met again while on the path closes a cycle.
    fn visit(
        module: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in &graph[module] {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for module in graph.keys() {
        if let Some(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!("the server's modules form a cycle: {}\n{graph:#?}", cycle.join(" -> "));
        }
    }
}

/// Whether `word` occurs as a whole identifier in `code`.
fn has_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

#[test]
fn every_path_architecture_md_names_exists() {
    let root = workspace();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    // The code the map may name: Rust sources and tests, and the web client's TypeScript.
    let mut files = Vec::new();
    for dir in ["proto/src", "server/src", "server/tests", "server/media/src", "load-tests/src", "web/src"] {
        rust_or_ts_files(&root.join(dir), &mut files);
    }
    let mut code = String::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            code.push_str(line);
            code.push('\n');
        }
    }
    let mut missing = Vec::new();
    for (_, span) in doc.split('`').enumerate().filter(|(n, _)| n % 2 == 1) {
        let is_path = span.contains("::")
            && span.split("::").all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if is_path && span.split("::").any(|segment| !has_word(&code, segment)) {
            missing.push(span.to_owned());
        }
        // A type named alone (`CamelCase`) must exist too.
        let is_type = span.len() > 2
            && span.starts_with(|c: char| c.is_ascii_uppercase())
            && span.chars().all(|c| c.is_ascii_alphanumeric())
            && span.chars().any(|c| c.is_ascii_lowercase());
        if is_type && !has_word(&code, span) {
            missing.push(span.to_owned());
        }
        // A file named by its path must exist.
        let is_file = span.ends_with(".rs") || span.ends_with(".ts") || span.ends_with(".tsx");
        if is_file && span.contains('/') && !span.contains(' ') {
            let candidates = [root.join(span), root.join("server/src").join(span), root.join("web/src").join(span)];
            let named = span.rsplit('/').next().unwrap_or(span);
            let anywhere = || {
                let mut files = Vec::new();
                for dir in ["proto", "server", "load-tests", "web/src", "web/test"] {
                    rust_or_ts_files(&root.join(dir), &mut files);
                }
                files.iter().any(|f| f.to_string_lossy().ends_with(span) || f.file_name().is_some_and(|f| f == named))
            };
            if !candidates.iter().any(|c| c.exists()) && !anywhere() {
                missing.push(span.to_owned());
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "ARCHITECTURE.md names what the code no longer has: {missing:#?}");
}

fn rust_or_ts_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "node_modules" || n == "target" || n == "dist") {
                continue;
            }
            rust_or_ts_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "ts" || e == "tsx" || e == "mjs") {
            out.push(path);
        }
    }
}
