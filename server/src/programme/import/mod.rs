//! The programme importers: Plenary's own JSON, one CSV file per kind of record, and the
//! pretalx / frab `schedule.json` export. Each is a pure function from text to a
//! [`Programme`](super::model::Programme) that either succeeds or lists every problem it
//! found, located the way the organiser sees the file (a JSON path, or `line N` and a
//! column), so that one round of fixes is enough. Per-record checks are the model's
//! `validate()`; checks across records (unknown tracks or speakers, duplicate ids) are left
//! to [`Programme::validate`](super::model::Programme::validate).
//!
//! This module holds what the importers share (merging errors, UTC times, unique slugs,
//! JSON syntax errors); each format has its own submodule: `json`, `csv` and `pretalx`.

use std::collections::HashSet;

use super::model::{FieldError, format_time, parse_time};

mod csv;
mod json;
mod pretalx;

pub use self::csv::{CsvKind, from_csv};
pub use self::json::from_json;
pub use self::pretalx::from_pretalx;

/// Adds `extra` to `errors`, except those at a place that already has an error: a cell that
/// failed to parse is also invalid to `validate()`, and one message per place is enough.
fn merge(errors: &mut Vec<FieldError>, extra: impl IntoIterator<Item = FieldError>) {
    for error in extra {
        if !errors.iter().any(|e| e.location == error.location && e.field == error.field) {
            errors.push(error);
        }
    }
}

/// Times are stored in UTC so that they sort and compare as strings; a time that does not
/// parse is kept as written for `validate()` to report.
fn to_utc(value: &str) -> String {
    parse_time(value).map(format_time).unwrap_or_else(|_| value.to_owned())
}

/// Makes `base` unique among `used`, appending `-2`, `-3`... and shortening the base so the
/// result is still a slug of at most 48 characters.
fn unique_slug(base: &str, fallback: &str, used: &mut HashSet<String>) -> String {
    let base = if base.is_empty() { fallback } else { base };
    let mut candidate = base.to_owned();
    let mut n = 1;
    while used.contains(&candidate) {
        n += 1;
        let suffix = format!("-{n}");
        let stem = base.get(..48 - suffix.len()).unwrap_or(base).trim_end_matches('-');
        candidate = format!("{stem}{suffix}");
    }
    used.insert(candidate.clone());
    candidate
}

fn json_syntax_error(error: &serde_json::Error) -> FieldError {
    let message = error.to_string();
    // serde_json appends the position to its message; the location already carries it.
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    FieldError::new(format!("line {}, column {}", error.line(), error.column()), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::model::is_slug;

    #[test]
    fn unique_slugs_stay_slugs() {
        let mut used = HashSet::new();
        let long = "a".repeat(48);
        assert_eq!(unique_slug(&long, "x", &mut used), long);
        let second = unique_slug(&long, "x", &mut used);
        assert!(is_slug(&second) && second.ends_with("-2"), "{second}");
        assert_eq!(unique_slug("", "speaker", &mut used), "speaker");
        assert_eq!(unique_slug("", "speaker", &mut used), "speaker-2");
    }
}
