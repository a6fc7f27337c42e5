//! Checks that `proto/PROTOCOL.md` tells the truth about the encoding and leaves nothing out:
//!
//! - every fenced block tagged ```` ```json client ```` decodes as a [`ClientMsg`] and every
//!   block tagged ```` ```json server ```` as a [`ServerMsg`], one message per block, and
//!   re-encoding the decoded value gives back the same message (`decode(encode(decode(x))) ==
//!   decode(x)`) and the same JSON as written (so no example carries a field the type ignores);
//! - no other ```` ```json ```` block exists, so no example escapes these checks;
//! - every `ClientMsg`, `ServerMsg` and `RoomEvent` variant appears in at least one example
//!   (by its `type` tag);
//! - every [`ErrorCode`] and [`CloseCode`] has a table row giving its number and name;
//! - every limit of [`input`] has a table row giving its name and value.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{CLIENT_TAGS, EVENT_TAGS, SERVER_TAGS, client_tag, event_tag, server_tag, type_of};
use plenary_proto::{ClientMsg, CloseCode, ErrorCode, ServerMsg, input};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Which Rust type an example illustrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Client,
    Server,
}

/// One fenced JSON block of the document.
#[derive(Debug)]
struct Example {
    /// The 1-based line of the opening fence.
    line: usize,
    /// `None` for a ```` ```json ```` block with any other info string.
    direction: Option<Direction>,
    info: String,
    body: String,
}

/// `proto/PROTOCOL.md`: the crate root, which is `../PROTOCOL.md` from this file.
fn document() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("PROTOCOL.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every fenced block whose info string starts with `json`.
fn json_blocks(doc: &str) -> Vec<Example> {
    let mut blocks = Vec::new();
    let mut lines = doc.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let info = info.trim().to_owned();
        let mut body = String::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            if inner.trim_start().starts_with("```") {
                closed = true;
                break;
            }
            body.push_str(inner);
            body.push('\n');
        }
        assert!(closed, "PROTOCOL.md:{}: unterminated code block", index + 1);
        if !(info == "json" || info.starts_with("json ")) {
            continue;
        }
        let direction = match info.as_str() {
            "json client" => Some(Direction::Client),
            "json server" => Some(Direction::Server),
            _ => None,
        };
        blocks.push(Example { line: index + 1, direction, info, body });
    }
    blocks
}

/// Decodes `example` as `T`, checks the round trip, and returns the value.
fn decode_round_trip<T>(example: &Example) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let at = format!("PROTOCOL.md:{} ({})", example.line, example.info);
    let decoded: T = serde_json::from_str(&example.body)
        .unwrap_or_else(|e| panic!("{at}: does not decode as {}: {e}", std::any::type_name::<T>()));
    let encoded = serde_json::to_string(&decoded).unwrap_or_else(|e| panic!("{at}: does not encode: {e}"));
    let again: T = serde_json::from_str(&encoded).unwrap_or_else(|e| panic!("{at}: re-encoding does not decode: {e}"));
    assert_eq!(again, decoded, "{at}: decode(encode(decode(x))) != decode(x)");
    let written: serde_json::Value = serde_json::from_str(&example.body).expect("decoded above, so valid JSON");
    let canonical: serde_json::Value = serde_json::from_str(&encoded).expect("just encoded");
    assert_eq!(
        canonical, written,
        "{at}: the example is not what the node would send (a misspelt or unknown field, or a null?)"
    );
    decoded
}

#[test]
fn every_example_decodes_and_round_trips() {
    let doc = document();
    let blocks = json_blocks(&doc);
    assert!(!blocks.is_empty(), "PROTOCOL.md has no JSON examples");
    let (mut clients, mut servers) = (0, 0);
    for block in &blocks {
        let at = format!("PROTOCOL.md:{}", block.line);
        match block.direction {
            Some(Direction::Client) => {
                let msg: ClientMsg = decode_round_trip(block);
                let json: serde_json::Value = serde_json::from_str(&block.body).unwrap();
                assert_eq!(client_tag(&msg), type_of(&json), "{at}");
                clients += 1;
            }
            Some(Direction::Server) => {
                let msg: ServerMsg = decode_round_trip(block);
                let json: serde_json::Value = serde_json::from_str(&block.body).unwrap();
                assert_eq!(server_tag(&msg), type_of(&json), "{at}");
                servers += 1;
            }
            None => {
                panic!("{at}: a ```{} block is checked by nothing; tag it ```json client or ```json server", block.info)
            }
        }
    }
    assert!(clients > 0 && servers > 0, "{clients} client and {servers} server examples");
}

#[test]
fn every_variant_has_an_example() {
    let doc = document();
    let (mut client_seen, mut server_seen, mut event_seen) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for block in json_blocks(&doc) {
        match block.direction {
            Some(Direction::Client) => {
                if let Ok(msg) = serde_json::from_str::<ClientMsg>(&block.body) {
                    client_seen.insert(client_tag(&msg));
                }
            }
            Some(Direction::Server) => {
                if let Ok(msg) = serde_json::from_str::<ServerMsg>(&block.body) {
                    server_seen.insert(server_tag(&msg));
                    if let ServerMsg::Event { event, .. } = &msg {
                        event_seen.insert(event_tag(event));
                    }
                }
            }
            None => {}
        }
    }
    let missing = |all: &[&'static str], seen: &BTreeSet<&'static str>| -> Vec<&'static str> {
        all.iter().copied().filter(|tag| !seen.contains(tag)).collect()
    };
    assert_eq!(missing(CLIENT_TAGS, &client_seen), Vec::<&str>::new(), "client messages without an example");
    assert_eq!(missing(SERVER_TAGS, &server_seen), Vec::<&str>::new(), "server messages without an example");
    assert_eq!(missing(EVENT_TAGS, &event_seen), Vec::<&str>::new(), "room events without an example");
}

/// The cells of every Markdown table row, trimmed and without backticks.
fn table_rows(doc: &str) -> Vec<Vec<String>> {
    doc.lines()
        .map(str::trim)
        .filter(|line| line.starts_with('|') && line.ends_with('|'))
        .map(|line| line.trim_matches('|').split('|').map(|cell| cell.trim().trim_matches('`').to_owned()).collect())
        .collect()
}

/// Whether some table row starts with `number` and `label`.
fn has_row(rows: &[Vec<String>], number: u16, label: &str) -> bool {
    rows.iter().any(|cells| cells.len() >= 3 && cells[0] == number.to_string() && cells[1] == label)
}

#[test]
fn every_error_code_and_close_code_is_in_a_table() {
    let doc = document();
    let rows = table_rows(&doc);
    let missing_errors: Vec<String> = ErrorCode::ALL
        .iter()
        .filter(|code| !has_row(&rows, code.as_u16(), code.label()))
        .map(ToString::to_string)
        .collect();
    assert!(missing_errors.is_empty(), "error codes without a `| code | name | ... |` row: {missing_errors:?}");
    let missing_closes: Vec<String> = CloseCode::ALL
        .iter()
        .filter(|code| !has_row(&rows, code.as_u16(), code.label()))
        .map(ToString::to_string)
        .collect();
    assert!(missing_closes.is_empty(), "close codes without a `| code | name | ... |` row: {missing_closes:?}");
}

#[test]
fn every_input_limit_is_in_a_table() {
    let doc = document();
    let rows = table_rows(&doc);
    let missing: Vec<String> = input::ALL
        .iter()
        .filter(|(name, max_chars)| {
            !rows.iter().any(|cells| cells.len() >= 3 && cells[0] == *name && cells[1] == max_chars.to_string())
        })
        .map(|(name, max_chars)| format!("{name} {max_chars}"))
        .collect();
    assert!(missing.is_empty(), "input limits without a `| name | characters | ... |` row: {missing:?}");
}

#[test]
fn the_extractor_finds_blocks() {
    let doc = "text\n```json client\n{\"a\":1}\n```\n```rust\nfn x() {}\n```\n```json\n{}\n```\n";
    let blocks = json_blocks(doc);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].direction, Some(Direction::Client));
    assert_eq!(blocks[0].line, 2);
    assert_eq!(blocks[0].body, "{\"a\":1}\n");
    assert_eq!(blocks[1].direction, None);
}
