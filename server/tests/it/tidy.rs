//! Tidy checks over the repository's sources: every Rust file says what it owns in a `//!`
//! header, and the server's layering holds (the domain does no IO; only `store` names
//! `sqlx`; only `bus::redis` names `redis`).

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
    for dir in ["proto/src", "proto/tests", "server/src", "server/tests", "server/benches", "load-tests/src"] {
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
