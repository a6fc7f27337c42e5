//! The programme importers: Plenary's own JSON, one CSV file per kind of record, and the
//! pretalx / frab `schedule.json` export. Each is a pure function from text to a
//! [`Programme`] that either succeeds or lists every problem it found, located the way the
//! organiser sees the file (a JSON path, or `line N` and a column), so that one round of
//! fixes is enough. Per-record checks are the model's `validate()`; checks across records
//! (unknown tracks or speakers, duplicate ids) are left to [`Programme::validate`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::model::{
    Booth, Event, FieldError, Programme, Session, SessionKind, Speaker, StageSource, Track, format_time, parse_time,
    slugify,
};

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

// ---------------------------------------------------------------------------------------
// Native JSON

/// Reads a [`Programme`] in Plenary's own JSON form and checks every record in it.
///
/// Times are normalised to UTC. Syntax and type errors stop the import with one error at
/// `line L, column C`; otherwise every record's problems are listed (`sessions[2].title`).
pub fn from_json(text: &str) -> Result<Programme, Vec<FieldError>> {
    let mut programme: Programme = serde_json::from_str(text).map_err(|e| vec![json_syntax_error(&e)])?;
    let mut errors = Vec::new();
    if let Some(event) = &programme.event {
        errors.extend(event.validate("event"));
    }
    for (i, track) in programme.tracks.iter().enumerate() {
        errors.extend(track.validate(&format!("tracks[{i}]")));
    }
    for (i, speaker) in programme.speakers.iter().enumerate() {
        errors.extend(speaker.validate(&format!("speakers[{i}]")));
    }
    for (i, session) in programme.sessions.iter_mut().enumerate() {
        errors.extend(session.validate(&format!("sessions[{i}]")));
        session.starts_at = to_utc(&session.starts_at);
        session.ends_at = to_utc(&session.ends_at);
    }
    for (i, booth) in programme.booths.iter().enumerate() {
        errors.extend(booth.validate(&format!("booths[{i}]")));
    }
    if errors.is_empty() { Ok(programme) } else { Err(errors) }
}

// ---------------------------------------------------------------------------------------
// CSV

/// Which records a CSV file holds; each kind has its own file and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CsvKind {
    Tracks,
    Speakers,
    Sessions,
    Booths,
}

impl CsvKind {
    pub const ALL: &'static [CsvKind] = &[CsvKind::Tracks, CsvKind::Speakers, CsvKind::Sessions, CsvKind::Booths];

    pub fn as_str(self) -> &'static str {
        match self {
            CsvKind::Tracks => "tracks",
            CsvKind::Speakers => "speakers",
            CsvKind::Sessions => "sessions",
            CsvKind::Booths => "booths",
        }
    }

    pub fn parse(value: &str) -> Option<CsvKind> {
        CsvKind::ALL.iter().copied().find(|k| k.as_str() == value)
    }

    /// The columns a file of this kind may have, in the order of the documentation.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            CsvKind::Tracks => &["id", "name", "description", "position"],
            CsvKind::Speakers => &["id", "external_id", "name", "affiliation", "bio", "country"],
            CsvKind::Sessions => &[
                "id",
                "external_id",
                "title",
                "description",
                "kind",
                "starts_at",
                "ends_at",
                "track",
                "languages",
                "tags",
                "speakers",
                "stage_kind",
                "stage_url",
            ],
            CsvKind::Booths => {
                &["id", "external_id", "organisation", "description", "links", "logo_url", "track", "tags", "staff"]
            }
        }
    }

    /// The columns a file of this kind must have.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            CsvKind::Tracks => &["id", "name"],
            CsvKind::Speakers => &["id", "name"],
            CsvKind::Sessions => &["id", "title", "kind", "starts_at", "ends_at"],
            CsvKind::Booths => &["id", "organisation"],
        }
    }
}

/// What a header cell names.
enum Column {
    Known(&'static str),
    /// A blank header cell: spreadsheets often leave a trailing empty column, which is
    /// harmless as long as nobody typed anything under it.
    Unnamed,
    /// An unknown column, already reported; its cells are ignored.
    Unknown,
}

/// One data row, by column name, collecting the row's errors.
struct Row {
    line: u64,
    cells: HashMap<&'static str, String>,
    required: &'static [&'static str],
    errors: Vec<FieldError>,
}

impl Row {
    fn location(&self) -> String {
        format!("line {}", self.line)
    }

    fn error(&mut self, column: &str, message: impl Into<String>) {
        let error = FieldError { location: self.location(), field: Some(column.to_owned()), message: message.into() };
        self.errors.push(error);
    }

    fn get(&self, column: &str) -> &str {
        self.cells.get(column).map_or("", String::as_str)
    }

    fn optional(&self, column: &str) -> Option<String> {
        Some(self.get(column).to_owned()).filter(|v| !v.is_empty())
    }

    /// The cell's text; an empty cell in a required column is an error. A required column
    /// missing from the header is reported once for the file, not again on every row.
    fn text(&mut self, column: &str) -> String {
        let value = self.get(column).to_owned();
        if value.is_empty() && self.cells.contains_key(column) && self.required.contains(&column) {
            self.error(column, "is required");
        }
        value
    }

    fn list(&self, column: &str) -> Vec<String> {
        self.get(column).split(';').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()
    }

    /// Maps the errors of the record's `validate(prefix)` to this row: `<prefix>.stage.url`
    /// becomes column `stage_url`, `<prefix>.languages[1]` column `languages`. Errors about
    /// a column the header lacks were reported with the header.
    fn validated(&mut self, prefix: &str, errors: Vec<FieldError>) {
        let mapped: Vec<FieldError> = errors
            .into_iter()
            .filter_map(|e| {
                let path = e.location.strip_prefix(prefix).and_then(|p| p.strip_prefix('.')).unwrap_or(&e.location);
                let column = path.split('[').next().unwrap_or(path).replace('.', "_");
                let known = self.cells.contains_key(column.as_str());
                let required = self.required.contains(&column.as_str());
                (known || !required).then(|| FieldError {
                    location: self.location(),
                    field: Some(column),
                    message: e.message,
                })
            })
            .collect();
        merge(&mut self.errors, mapped);
    }
}

/// Reads one CSV file of `kind`. The first row names the columns, in any order; lists are
/// separated by `;`; empty optional cells become `None` or an empty list. Errors are
/// located as `line N` (the header is line 1) with the column as `field`.
pub fn from_csv(kind: CsvKind, text: &str) -> Result<Programme, Vec<FieldError>> {
    // Spreadsheets export UTF-8 with a byte order mark, which would otherwise be part of
    // the first column's name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The csv crate counts a record after `\r\n` as starting on the previous line, which
    // would put every error of a Windows file one line too early.
    let text = if text.contains('\r') { Cow::Owned(text.replace("\r\n", "\n")) } else { Cow::Borrowed(text) };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut errors = Vec::new();

    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(e)) => return Err(vec![csv_error(&e)]),
        None => {
            return Err(vec![FieldError::new("line 1", "the file is empty; its first row must name the columns")]);
        }
    };
    let header_line = header.position().map_or(1, |p| p.line());
    let header_at = format!("line {header_line}");
    let mut columns = Vec::new();
    let mut present = HashSet::new();
    for name in header.iter() {
        let lower = name.to_ascii_lowercase();
        let column = match kind.columns().iter().find(|c| **c == lower) {
            Some(known) if !present.insert(*known) => {
                errors.push(FieldError {
                    location: header_at.clone(),
                    field: Some(name.to_owned()),
                    message: "column appears twice".into(),
                });
                Column::Unknown
            }
            Some(known) => Column::Known(known),
            None if name.is_empty() => Column::Unnamed,
            None => {
                errors.push(FieldError {
                    location: header_at.clone(),
                    field: Some(name.to_owned()),
                    message: format!("unknown column; a {} file has {}", kind.as_str(), kind.columns().join(", ")),
                });
                Column::Unknown
            }
        };
        columns.push(column);
    }
    for required in kind.required() {
        if !present.contains(required) {
            errors.push(FieldError {
                location: header_at.clone(),
                field: Some((*required).to_owned()),
                message: "required column is missing".into(),
            });
        }
    }

    let mut programme = Programme::default();
    for (index, record) in records.enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                errors.push(csv_error(&e));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != columns.len() {
            errors.push(FieldError::new(
                format!("line {line}"),
                format!("has {} cells but the header has {} columns", record.len(), columns.len()),
            ));
            continue;
        }
        let mut row = Row { line, cells: HashMap::new(), required: kind.required(), errors: Vec::new() };
        for (i, (column, cell)) in columns.iter().zip(record.iter()).enumerate() {
            match column {
                Column::Known(name) => {
                    row.cells.insert(name, cell.to_owned());
                }
                Column::Unnamed if !cell.is_empty() => {
                    row.error(&format!("column {}", i + 1), "a value under a column with no name");
                }
                Column::Unnamed | Column::Unknown => {}
            }
        }
        match kind {
            CsvKind::Tracks => programme.tracks.push(csv_track(&mut row, index)),
            CsvKind::Speakers => programme.speakers.push(csv_speaker(&mut row)),
            CsvKind::Sessions => programme.sessions.push(csv_session(&mut row)),
            CsvKind::Booths => programme.booths.push(csv_booth(&mut row)),
        }
        errors.append(&mut row.errors);
    }
    if errors.is_empty() { Ok(programme) } else { Err(errors) }
}

fn csv_error(error: &csv::Error) -> FieldError {
    let location = error.position().map_or_else(|| "line 1".to_owned(), |p| format!("line {}", p.line()));
    FieldError::new(location, error.to_string())
}

fn csv_track(row: &mut Row, index: usize) -> Track {
    let position = match row.get("position").to_owned().as_str() {
        // Without positions, the file's order is the listing order.
        "" => i32::try_from(index).unwrap_or(i32::MAX),
        value => value.parse().unwrap_or_else(|_| {
            row.error("position", format!("{value:?} is not a whole number"));
            0
        }),
    };
    let track = Track { id: row.text("id"), name: row.text("name"), description: row.text("description"), position };
    row.validated("r", track.validate("r"));
    track
}

fn csv_speaker(row: &mut Row) -> Speaker {
    let speaker = Speaker {
        id: row.text("id"),
        external_id: row.optional("external_id"),
        name: row.text("name"),
        affiliation: row.text("affiliation"),
        bio: row.text("bio"),
        country: row.optional("country").map(|c| c.to_ascii_uppercase()),
    };
    row.validated("r", speaker.validate("r"));
    speaker
}

fn csv_session(row: &mut Row) -> Session {
    let kind_cell = row.text("kind");
    let kind = if kind_cell.is_empty() {
        SessionKind::Other
    } else {
        SessionKind::parse(&kind_cell.to_ascii_lowercase()).unwrap_or_else(|| {
            let kinds: Vec<&str> = SessionKind::ALL.iter().map(|k| k.as_str()).collect();
            row.error("kind", format!("{kind_cell:?} is not one of {}", kinds.join(", ")));
            SessionKind::Other
        })
    };
    let stage_url = row.optional("stage_url");
    let stage = match (row.get("stage_kind").to_ascii_lowercase().as_str(), stage_url) {
        ("" | "none", None) => StageSource::None,
        ("webrtc", None) => StageSource::Webrtc,
        ("hls", Some(url)) => StageSource::Hls { url },
        ("embed", Some(url)) => StageSource::Embed { url },
        ("hls" | "embed", None) => {
            row.error("stage_url", "is required when stage_kind is hls or embed");
            StageSource::None
        }
        ("" | "none" | "webrtc", Some(_)) => {
            row.error("stage_url", "is only used when stage_kind is hls or embed");
            StageSource::None
        }
        (other, _) => {
            let other = other.to_owned();
            row.error("stage_kind", format!("{other:?} is not one of none, hls, embed, webrtc"));
            StageSource::None
        }
    };
    let mut session = Session {
        id: row.text("id"),
        external_id: row.optional("external_id"),
        title: row.text("title"),
        description: row.text("description"),
        kind,
        starts_at: row.text("starts_at"),
        ends_at: row.text("ends_at"),
        track: row.optional("track"),
        languages: row.list("languages").into_iter().map(|l| l.to_ascii_lowercase()).collect(),
        tags: row.list("tags"),
        speakers: row.list("speakers"),
        stage,
        qa: Default::default(),
    };
    row.validated("r", session.validate("r"));
    session.starts_at = to_utc(&session.starts_at);
    session.ends_at = to_utc(&session.ends_at);
    session
}

fn csv_booth(row: &mut Row) -> Booth {
    let booth = Booth {
        id: row.text("id"),
        external_id: row.optional("external_id"),
        organisation: row.text("organisation"),
        description: row.text("description"),
        links: row.list("links"),
        logo_url: row.optional("logo_url"),
        track: row.optional("track"),
        tags: row.list("tags"),
        staff: row.list("staff"),
    };
    row.validated("r", booth.validate("r"));
    booth
}

// ---------------------------------------------------------------------------------------
// pretalx / frab schedule.json

/// A JSON object being read, with its path for error messages.
struct Node<'a> {
    path: String,
    object: &'a Map<String, Value>,
}

impl<'a> Node<'a> {
    fn at(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    /// The value under `key`; JSON `null` counts as absent.
    fn value(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|v| !v.is_null())
    }

    fn object(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<Node<'a>> {
        match self.value(key) {
            Some(Value::Object(object)) => Some(Node { path: self.at(key), object }),
            Some(_) => {
                errors.push(FieldError::new(self.at(key), "expected an object"));
                None
            }
            None => {
                errors.push(FieldError::new(self.at(key), "is missing"));
                None
            }
        }
    }

    /// The array under `key`; absent is empty, anything else is an error.
    fn array(&self, key: &str, errors: &mut Vec<FieldError>) -> &'a [Value] {
        match self.value(key) {
            Some(Value::Array(items)) => items,
            Some(_) => {
                errors.push(FieldError::new(self.at(key), "expected an array"));
                &[]
            }
            None => &[],
        }
    }

    /// Text under `key`: a string, or pretalx's multilingual `{"en": "...", "de": "..."}`.
    fn optional_text(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<String> {
        let value = self.value(key)?;
        let text = match value {
            Value::String(s) => Some(s.clone()),
            Value::Object(translations) => translations
                .get("en")
                .and_then(Value::as_str)
                .or_else(|| translations.values().find_map(Value::as_str))
                .map(str::to_owned),
            _ => None,
        };
        if text.is_none() {
            errors.push(FieldError::new(self.at(key), "expected a string"));
        }
        text.map(|t| t.trim().to_owned())
    }

    fn text(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<String> {
        let text = self.optional_text(key, errors);
        if self.value(key).is_none() || text.as_deref() == Some("") {
            errors.push(FieldError::new(self.at(key), "is missing"));
        }
        text.filter(|t| !t.is_empty())
    }

    /// An identifier under `key`, which frab writes as a number and pretalx as a string.
    fn identifier(&self, key: &str) -> Option<String> {
        match self.value(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

fn as_node<'a>(value: &'a Value, path: String, errors: &mut Vec<FieldError>) -> Option<Node<'a>> {
    match value {
        Value::Object(object) => Some(Node { path, object }),
        _ => {
            errors.push(FieldError::new(path, "expected an object"));
            None
        }
    }
}

/// Maps a model `validate()` location (`<prefix>.<field>...`) to the source's location.
fn relocate(
    errors: Vec<FieldError>,
    prefix: &str,
    mut to: impl FnMut(&str) -> Option<String>,
) -> impl Iterator<Item = FieldError> {
    errors.into_iter().filter_map(move |mut e| {
        let path = e.location.strip_prefix(prefix).and_then(|p| p.strip_prefix('.')).unwrap_or(&e.location);
        e.location = to(path)?;
        Some(e)
    })
}

/// `HH:MM` or `HH:MM:SS` as milliseconds.
fn parse_duration(value: &str) -> Option<i64> {
    let parts: Vec<&str> = value.trim().split(':').collect();
    let number = |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<i64>().ok())?;
    let (hours, minutes, seconds) = match parts.as_slice() {
        [h, m] => (number(h)?, number(m)?, 0),
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        _ => return None,
    };
    (minutes < 60 && seconds < 60 && hours < 1000).then_some(((hours * 60 + minutes) * 60 + seconds) * 1000)
}

/// A talk's start: RFC 3339 with an offset, or, as some frab exports write it, a local
/// date-time in the conference's time zone.
fn parse_talk_start(value: &str, time_zone: &str) -> Result<i64, String> {
    parse_time(value).or_else(|error| {
        let local: jiff::civil::DateTime = value.parse().map_err(|_| error.clone())?;
        let zoned = local.in_tz(time_zone).map_err(|_| error)?;
        Ok(zoned.timestamp().as_millisecond())
    })
}

/// The session kind a pretalx submission type stands for.
fn kind_from_type(value: &str) -> SessionKind {
    let value = value.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| value.contains(w));
    if has(&["keynote"]) {
        SessionKind::Keynote
    } else if has(&["workshop"]) {
        SessionKind::Workshop
    } else if has(&["interview"]) {
        SessionKind::Interview
    } else if has(&["ceremony", "award", "prize"]) {
        SessionKind::PrizeCeremony
    } else {
        SessionKind::Other
    }
}

/// `en`, `EN` and `en-GB` give `en`; pretalx's variants such as `de-formal` give `de`.
fn language_code(value: &str) -> Option<String> {
    let code = value.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase())).then_some(code)
}

/// A talk as read, before ids are given out.
struct Talk {
    path: String,
    /// Where the session id comes from: `slug` or, without one, `title`.
    id_field: &'static str,
    id_source: String,
    external_id: String,
    title: String,
    description: String,
    kind: SessionKind,
    /// Start and end in Unix milliseconds, `None` when unreadable (already reported).
    starts: Option<i64>,
    ends: Option<i64>,
    track: Option<String>,
    languages: Vec<String>,
    /// Person keys (pretalx code or frab id).
    persons: Vec<String>,
    /// For a stable order of talks that start together.
    room_rank: (usize, String),
}

/// A person as first seen, keyed by code or id.
struct Person {
    path: String,
    name: String,
    bio: String,
}

/// Reads a pretalx or frab `schedule.json` export. Sessions get ids from the talks' slugs
/// (made unique with `-2`, `-3`...), speakers from their public names; times become UTC.
/// Problems are located by JSON path, e.g. `schedule.conference.days[1].rooms["Aula"][0].duration`.
pub fn from_pretalx(text: &str) -> Result<Programme, Vec<FieldError>> {
    let root: Value = serde_json::from_str(text).map_err(|e| vec![json_syntax_error(&e)])?;
    let mut errors = Vec::new();
    let Value::Object(root) = &root else {
        return Err(vec![FieldError::new("$", "expected an object with a \"schedule\"")]);
    };
    // The root has no name of its own; paths start at `schedule`.
    let root = Node { path: String::new(), object: root };
    let Some(schedule) = root.object("schedule", &mut errors) else {
        return Err(errors);
    };
    let Some(conference) = schedule.object("conference", &mut errors) else {
        return Err(errors);
    };

    let event = pretalx_event(&conference, &mut errors);
    let time_zone = event.time_zone.clone();

    // Tracks of the conference, then any a talk names that the list lacks.
    let mut tracks = Vec::new();
    let mut track_ids: HashMap<String, String> = HashMap::new();
    let mut used_track_ids = HashSet::new();
    let mut track_paths = Vec::new();
    for (i, value) in conference.array("tracks", &mut errors).iter().enumerate() {
        let Some(node) = as_node(value, format!("{}.tracks[{i}]", conference.path), &mut errors) else {
            continue;
        };
        let Some(name) = node.text("name", &mut errors) else {
            continue;
        };
        if track_ids.contains_key(&name) {
            continue;
        }
        let id = unique_slug(&slugify(&name), "track", &mut used_track_ids);
        track_ids.insert(name.clone(), id.clone());
        track_paths.push(node.at("name"));
        tracks.push(Track { id, name, description: String::new(), position: 0 });
    }

    let room_order: Vec<String> = conference
        .array("rooms", &mut errors)
        .iter()
        .filter_map(|r| r.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();

    let mut talks = Vec::new();
    let mut persons: HashMap<String, Person> = HashMap::new();
    let days = match conference.value("days") {
        Some(Value::Array(days)) => days.as_slice(),
        Some(_) => {
            errors.push(FieldError::new(conference.at("days"), "expected an array"));
            &[]
        }
        None => {
            errors.push(FieldError::new(conference.at("days"), "is missing"));
            &[]
        }
    };
    for (d, day) in days.iter().enumerate() {
        let Some(day) = as_node(day, format!("{}.days[{d}]", conference.path), &mut errors) else {
            continue;
        };
        let rooms = match day.value("rooms") {
            Some(Value::Object(rooms)) => rooms,
            Some(_) => {
                errors.push(FieldError::new(day.at("rooms"), "expected an object of room name to talks"));
                continue;
            }
            None => continue,
        };
        for (room, room_talks) in rooms {
            let room_path = format!("{}.rooms[{}]", day.path, serde_json::to_string(room).unwrap_or_default());
            let Some(room_talks) = room_talks.as_array() else {
                if !room_talks.is_null() {
                    errors.push(FieldError::new(room_path, "expected an array of talks"));
                }
                continue;
            };
            let rank = (room_order.iter().position(|r| r == room).unwrap_or(usize::MAX), room.clone());
            for (t, talk) in room_talks.iter().enumerate() {
                let Some(talk) = as_node(talk, format!("{room_path}[{t}]"), &mut errors) else {
                    continue;
                };
                talks.push(pretalx_talk(&talk, &time_zone, rank.clone(), &mut persons, &mut errors));
            }
        }
    }

    // Ids are given out in programme order, so `-2` goes to the later of two talks.
    talks.sort_by(|a, b| (a.starts, &a.room_rank).cmp(&(b.starts, &b.room_rank)));

    let mut speakers = Vec::new();
    let mut speaker_ids: HashMap<String, String> = HashMap::new();
    let mut used_speaker_ids = HashSet::new();
    let mut sessions = Vec::new();
    let mut used_session_ids = HashSet::new();
    for talk in &talks {
        let mut speaker_list = Vec::new();
        for key in &talk.persons {
            let id = match speaker_ids.get(key) {
                Some(id) => id.clone(),
                None => {
                    let person = &persons[key];
                    let id = unique_slug(&slugify(&person.name), "speaker", &mut used_speaker_ids);
                    speaker_ids.insert(key.clone(), id.clone());
                    let speaker = Speaker {
                        id: id.clone(),
                        external_id: Some(format!("pretalx:{key}")),
                        name: person.name.clone(),
                        affiliation: String::new(),
                        bio: person.bio.clone(),
                        country: None,
                    };
                    let path = person.path.clone();
                    merge(
                        &mut errors,
                        relocate(speaker.validate("s"), "s", |field| match field {
                            "bio" => Some(format!("{path}.biography")),
                            _ => Some(format!("{path}.public_name")),
                        }),
                    );
                    speakers.push(speaker);
                    id
                }
            };
            if !speaker_list.contains(&id) {
                speaker_list.push(id);
            }
        }

        let track = talk.track.as_ref().map(|name| match track_ids.get(name) {
            Some(id) => id.clone(),
            None => {
                let id = unique_slug(&slugify(name), "track", &mut used_track_ids);
                track_ids.insert(name.clone(), id.clone());
                track_paths.push(format!("{}.track", talk.path));
                tracks.push(Track { id: id.clone(), name: name.clone(), description: String::new(), position: 0 });
                id
            }
        });

        let session = Session {
            id: unique_slug(&slugify(&talk.id_source), "session", &mut used_session_ids),
            external_id: Some(talk.external_id.clone()),
            title: talk.title.clone(),
            description: talk.description.clone(),
            kind: talk.kind,
            starts_at: talk.starts.map(format_time).unwrap_or_default(),
            ends_at: talk.ends.map(format_time).unwrap_or_default(),
            track,
            languages: talk.languages.clone(),
            tags: Vec::new(),
            speakers: speaker_list,
            stage: StageSource::None,
            qa: Default::default(),
        };
        let times_known = talk.starts.is_some() && talk.ends.is_some();
        merge(
            &mut errors,
            relocate(session.validate("s"), "s", |field| {
                let source = match field.split('[').next().unwrap_or(field) {
                    "id" => talk.id_field,
                    "title" => "title",
                    "description" => "abstract",
                    "starts_at" | "ends_at" if !times_known => return None,
                    "starts_at" => "date",
                    "ends_at" => "duration",
                    "track" => "track",
                    "languages" => "language",
                    "speakers" => "persons",
                    other => other,
                };
                Some(format!("{}.{source}", talk.path))
            }),
        );
        sessions.push(session);
    }

    for (position, (track, path)) in tracks.iter_mut().zip(&track_paths).enumerate() {
        track.position = i32::try_from(position).unwrap_or(i32::MAX);
        merge(&mut errors, relocate(track.validate("t"), "t", |_| Some(path.clone())));
    }

    if errors.is_empty() {
        Ok(Programme { event: Some(event), tracks, speakers, sessions, booths: Vec::new() })
    } else {
        Err(errors)
    }
}

fn pretalx_event(conference: &Node<'_>, errors: &mut Vec<FieldError>) -> Event {
    // frab writes `start` as a date; some exporters write a full time, whose date is meant.
    let date = |key: &str, errors: &mut Vec<FieldError>| {
        let value = conference.text(key, errors).unwrap_or_default();
        match value.get(..10) {
            Some(day) if value.len() > 10 && day.parse::<jiff::civil::Date>().is_ok() => day.to_owned(),
            _ => value,
        }
    };
    let event = Event {
        name: conference.text("title", errors).unwrap_or_default(),
        time_zone: conference.optional_text("time_zone_name", errors).unwrap_or_else(|| "UTC".to_owned()),
        starts_on: date("start", errors),
        ends_on: date("end", errors),
    };
    merge(
        errors,
        relocate(event.validate("e"), "e", |field| {
            let source = match field {
                "name" => "title",
                "time_zone" => "time_zone_name",
                "starts_on" => "start",
                "ends_on" => "end",
                other => other,
            };
            Some(conference.at(source))
        }),
    );
    event
}

fn pretalx_talk(
    talk: &Node<'_>,
    time_zone: &str,
    room_rank: (usize, String),
    persons: &mut HashMap<String, Person>,
    errors: &mut Vec<FieldError>,
) -> Talk {
    let external_id = match (talk.identifier("guid"), talk.identifier("id")) {
        (Some(guid), _) => format!("pretalx:{guid}"),
        (None, Some(id)) => format!("pretalx:{id}"),
        (None, None) => {
            errors.push(FieldError::new(talk.at("guid"), "is missing, and so is id"));
            String::new()
        }
    };

    let title = talk.text("title", errors).unwrap_or_default();
    let subtitle = talk.optional_text("subtitle", errors).unwrap_or_default();
    let full_title = if subtitle.is_empty() { title.clone() } else { format!("{title} — {subtitle}") };
    let (id_field, id_source) = match talk.optional_text("slug", errors).filter(|s| !s.is_empty()) {
        Some(slug) => ("slug", slug),
        None => ("title", title),
    };

    let abstract_ = talk.optional_text("abstract", errors).unwrap_or_default();
    let details = talk.optional_text("description", errors).unwrap_or_default();
    let description = format!("{abstract_}\n\n{details}").trim().to_owned();

    let kind = talk.optional_text("type", errors).map_or(SessionKind::Other, |t| kind_from_type(&t));

    let starts = talk.text("date", errors).and_then(|date| {
        parse_talk_start(&date, time_zone).map_err(|e| errors.push(FieldError::new(talk.at("date"), e))).ok()
    });
    let duration = talk.text("duration", errors).and_then(|value| {
        let duration = parse_duration(&value);
        if duration.is_none() {
            errors.push(FieldError::new(talk.at("duration"), format!("{value:?} is not a duration such as \"01:30\"")));
        }
        duration
    });
    let ends = starts.zip(duration).map(|(s, d)| s + d);

    let track = talk.optional_text("track", errors).filter(|t| !t.is_empty());
    let languages = talk.optional_text("language", errors).and_then(|l| language_code(&l)).into_iter().collect();

    let mut keys = Vec::new();
    for (j, person) in talk.array("persons", errors).iter().enumerate() {
        let Some(person) = as_node(person, format!("{}.persons[{j}]", talk.path), errors) else {
            continue;
        };
        let Some(key) = person.identifier("code").or_else(|| person.identifier("id")) else {
            errors.push(FieldError::new(person.at("code"), "is missing, and so is id"));
            continue;
        };
        let name = match person.optional_text("public_name", errors).filter(|n| !n.is_empty()) {
            Some(name) => Some(name),
            None => person.text("name", errors),
        };
        let Some(name) = name else {
            continue;
        };
        let bio = person.optional_text("biography", errors).unwrap_or_default();
        match persons.get_mut(&key) {
            // The same person is repeated in every talk; a later copy may have the biography.
            Some(known) if known.bio.is_empty() => known.bio = bio,
            Some(_) => {}
            None => {
                persons.insert(key.clone(), Person { path: person.path.clone(), name, bio });
            }
        }
        keys.push(key);
    }

    Talk {
        path: talk.path.clone(),
        id_field,
        id_source,
        external_id,
        title: full_title,
        description,
        kind,
        starts,
        ends,
        track,
        languages,
        persons: keys,
        room_rank,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::model::is_slug;

    fn locations(errors: &[FieldError]) -> Vec<(String, Option<String>)> {
        errors.iter().map(|e| (e.location.clone(), e.field.clone())).collect()
    }

    fn at(location: &str, field: &str) -> (String, Option<String>) {
        (location.to_owned(), Some(field.to_owned()))
    }

    // ---- native JSON

    const PROGRAMME_JSON: &str = r#"{
        "event": {"name": "WSIS Forum 2025", "time_zone": "Europe/Zurich",
                  "starts_on": "2025-07-07", "ends_on": "2025-07-11"},
        "tracks": [{"id": "icts-youth", "name": "ICTs & Youth", "position": 1}],
        "speakers": [{"id": "ada", "name": "Ada Lovelace", "country": "GB"}],
        "sessions": [{
            "id": "opening", "title": "Opening", "kind": "high_level_policy_session",
            "starts_at": "2025-07-07T09:00:00+02:00", "ends_at": "2025-07-07T10:00:00+02:00",
            "track": "icts-youth", "languages": ["en", "fr"], "speakers": ["ada"],
            "stage": {"kind": "hls", "url": "https://cdn.example.org/live.m3u8"}
        }],
        "booths": [{"id": "itu", "organisation": "ITU", "links": ["https://itu.int"]}]
    }"#;

    #[test]
    fn json_valid() {
        let programme = from_json(PROGRAMME_JSON).unwrap();
        assert_eq!(programme.event.as_ref().unwrap().time_zone, "Europe/Zurich");
        assert_eq!(programme.tracks[0].id, "icts-youth");
        assert_eq!(programme.speakers[0].name, "Ada Lovelace");
        let session = &programme.sessions[0];
        assert_eq!(session.kind, SessionKind::HighLevelPolicySession);
        assert_eq!(session.starts_at, "2025-07-07T07:00:00Z", "times become UTC");
        assert_eq!(session.ends_at, "2025-07-07T08:00:00Z");
        assert_eq!(session.stage, StageSource::Hls { url: "https://cdn.example.org/live.m3u8".into() });
        assert_eq!(programme.booths[0].links, ["https://itu.int"]);
    }

    #[test]
    fn json_empty_object_is_an_empty_programme() {
        assert_eq!(from_json("{}").unwrap(), Programme::default());
    }

    #[test]
    fn json_syntax_error_has_line_and_column() {
        let errors = from_json("{\n  \"tracks\": [\n    {\"id\": \"a\", \"name\": \"A\",}\n  ]\n}").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].location, "line 3, column 29");
        assert_eq!(errors[0].message, "trailing comma");
    }

    #[test]
    fn json_type_error_has_line_and_column() {
        let errors = from_json("{\"sessions\": [\n{\"id\": 5}]}").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].location.starts_with("line 2, column "), "{errors:?}");
        assert!(errors[0].message.contains("expected a string"), "{errors:?}");
    }

    #[test]
    fn json_validation_lists_every_record() {
        let text = r#"{
            "tracks": [{"id": "ok", "name": "Fine"}, {"id": "Not A Slug", "name": ""}],
            "sessions": [{"id": "s", "title": "T", "kind": "other",
                          "starts_at": "2025-07-07T10:00:00Z", "ends_at": "2025-07-07T09:00:00Z"}],
            "booths": [{"id": "b", "organisation": "B", "logo_url": "http://x"}]
        }"#;
        let errors = from_json(text).unwrap_err();
        let locations: Vec<&str> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(locations, ["tracks[1].id", "tracks[1].name", "sessions[0].ends_at", "booths[0].logo_url"]);
    }

    // ---- CSV

    const SESSIONS_CSV: &str = "\
id,title,kind,starts_at,ends_at,track,languages,speakers,tags,description,external_id,stage_kind,stage_url
opening,Opening ceremony,high_level_policy_session,2025-07-07T09:00:00+02:00,2025-07-07T10:00:00+02:00,plenary,en;fr,ada; grace,C1;SDG9,\"Welcome, everyone\",cvent:1,embed,https://www.youtube-nocookie.com/embed/abc
youth,\"ICTs & Youth\",workshop,2025-07-07T08:00:00Z,2025-07-07T09:30:00Z,,EN,,,,,,
studio,Studio,interview,2025-07-08T08:00:00Z,2025-07-08T08:30:00Z,,,,,,,webrtc,
";

    #[test]
    fn csv_sessions_valid() {
        let programme = from_csv(CsvKind::Sessions, SESSIONS_CSV).unwrap();
        assert_eq!(programme.sessions.len(), 3);
        let opening = &programme.sessions[0];
        assert_eq!(opening.id, "opening");
        assert_eq!(opening.external_id.as_deref(), Some("cvent:1"));
        assert_eq!(opening.description, "Welcome, everyone");
        assert_eq!(opening.kind, SessionKind::HighLevelPolicySession);
        assert_eq!(opening.starts_at, "2025-07-07T07:00:00Z");
        assert_eq!(opening.ends_at, "2025-07-07T08:00:00Z");
        assert_eq!(opening.track.as_deref(), Some("plenary"));
        assert_eq!(opening.languages, ["en", "fr"]);
        assert_eq!(opening.speakers, ["ada", "grace"]);
        assert_eq!(opening.tags, ["C1", "SDG9"]);
        assert_eq!(opening.stage, StageSource::Embed { url: "https://www.youtube-nocookie.com/embed/abc".into() });
        let youth = &programme.sessions[1];
        assert_eq!(youth.title, "ICTs & Youth");
        assert_eq!((youth.track.as_ref(), youth.external_id.as_ref()), (None, None));
        assert_eq!(youth.languages, ["en"], "language codes are lowercased");
        assert!(youth.speakers.is_empty() && youth.tags.is_empty());
        assert_eq!(youth.stage, StageSource::None);
        assert_eq!(programme.sessions[2].stage, StageSource::Webrtc);
        assert!(programme.tracks.is_empty() && programme.event.is_none());
    }

    #[test]
    fn csv_reports_every_bad_row_with_line_and_field() {
        let text = "\
id,title,kind,starts_at,ends_at,languages,stage_kind,stage_url
good,Good,keynote,2025-07-07T08:00:00Z,2025-07-07T09:00:00Z,,,
Bad Id,,keynote,2025-07-07T08:00:00Z,2025-07-07T09:00:00Z,en;eng,hls,http://insecure
x,X,lecture,soon,2025-07-07T09:00:00Z,,,
y,Y,other,2025-07-07T08:00:00Z
z,Z,other,2025-07-07T10:00:00Z,2025-07-07T09:00:00Z,,carrier-pigeon,
\"multi
line\",W,other,2025-07-07T08:00:00Z,2025-07-07T09:00:00Z,,embed,
";
        let errors = from_csv(CsvKind::Sessions, text).unwrap_err();
        assert_eq!(
            locations(&errors),
            [
                at("line 3", "title"),
                at("line 3", "id"),
                at("line 3", "languages"),
                at("line 3", "stage_url"),
                at("line 4", "kind"),
                at("line 4", "starts_at"),
                (String::from("line 5"), None),
                at("line 6", "stage_kind"),
                at("line 6", "ends_at"),
                at("line 7", "stage_url"),
                at("line 7", "id"),
            ],
            "{errors:#?}"
        );
        assert_eq!(errors[0].message, "is required", "an empty title is reported once");
        assert!(errors[2].message.contains("\"eng\""));
        assert!(errors[3].message.contains("https://"));
        assert!(errors[6].message.contains("4 cells"));
    }

    #[test]
    fn csv_unknown_column() {
        let errors = from_csv(CsvKind::Tracks, "id,name,colour\nopen-data,Open Data,blue\n").unwrap_err();
        assert_eq!(locations(&errors), [at("line 1", "colour")]);
        assert!(errors[0].message.contains("unknown column"));
    }

    #[test]
    fn csv_missing_required_column() {
        let text = "id,title,kind,starts_at\nopening,Opening,keynote,2025-07-07T08:00:00Z\n";
        let errors = from_csv(CsvKind::Sessions, text).unwrap_err();
        assert_eq!(locations(&errors), [at("line 1", "ends_at")], "not repeated on every row: {errors:#?}");
        assert_eq!(errors[0].message, "required column is missing");
    }

    #[test]
    fn csv_duplicate_and_unnamed_columns() {
        let text = "id,name,name,\na,A,B,\nb,B,C,oops\n";
        let errors = from_csv(CsvKind::Tracks, text).unwrap_err();
        assert_eq!(locations(&errors), [at("line 1", "name"), at("line 3", "column 4")]);
    }

    #[test]
    fn csv_tracks_speakers_booths() {
        let tracks = from_csv(CsvKind::Tracks, "\u{feff}Name,ID,position\nOpen Data,open-data,\nYouth,youth,7\n");
        let tracks = tracks.unwrap().tracks;
        assert_eq!((tracks[0].id.as_str(), tracks[0].position), ("open-data", 0), "BOM and case do not matter");
        assert_eq!((tracks[1].name.as_str(), tracks[1].position), ("Youth", 7));
        let errors = from_csv(CsvKind::Tracks, "id,name,position\na,A,first\n").unwrap_err();
        assert_eq!(locations(&errors), [at("line 2", "position")]);

        let speakers = from_csv(CsvKind::Speakers, "id,name,country,bio\nada,Ada,gb,\"Wrote the\nfirst program\"\n");
        let speaker = &speakers.unwrap().speakers[0];
        assert_eq!(speaker.country.as_deref(), Some("GB"));
        assert_eq!(speaker.bio, "Wrote the\nfirst program");
        let errors = from_csv(CsvKind::Speakers, "id,name,country\nada,,GBR\n").unwrap_err();
        assert_eq!(locations(&errors), [at("line 2", "name"), at("line 2", "country")]);

        let booths = "id,organisation,links,staff,logo_url\nitu,ITU,https://itu.int; https://wsis.org,,\n";
        let booth = &from_csv(CsvKind::Booths, booths).unwrap().booths[0];
        assert_eq!(booth.links, ["https://itu.int", "https://wsis.org"]);
        assert_eq!(booth.logo_url, None);
        let errors = from_csv(CsvKind::Booths, "id,organisation,links\nitu,ITU,https://ok;ftp://no\n").unwrap_err();
        assert_eq!(locations(&errors), [at("line 2", "links")]);
    }

    #[test]
    fn csv_empty_file_and_header_only() {
        assert_eq!(from_csv(CsvKind::Booths, "").unwrap_err()[0].location, "line 1");
        assert_eq!(from_csv(CsvKind::Booths, "id,organisation\n").unwrap(), Programme::default());
    }

    #[test]
    fn csv_windows_line_endings() {
        let errors = from_csv(CsvKind::Tracks, "id,name\r\na,A\r\nB,B\r\n").unwrap_err();
        assert_eq!(locations(&errors), [at("line 3", "id")]);
    }

    #[test]
    fn csv_kind_names() {
        for kind in CsvKind::ALL {
            assert_eq!(CsvKind::parse(kind.as_str()), Some(*kind));
            assert!(kind.required().iter().all(|c| kind.columns().contains(c)));
        }
    }

    // ---- pretalx

    const PRETALX: &str = include_str!("../../tests/fixtures/pretalx-schedule.json");

    #[test]
    fn pretalx_sample_converts() {
        let programme = from_pretalx(PRETALX).unwrap();
        assert_eq!(
            programme.event,
            Some(Event {
                name: "Alpine Civic Tech Days 2025".into(),
                time_zone: "Europe/Zurich".into(),
                starts_on: "2025-09-16".into(),
                ends_on: "2025-09-17".into(),
            })
        );

        let tracks: Vec<(&str, &str, i32)> =
            programme.tracks.iter().map(|t| (t.id.as_str(), t.name.as_str(), t.position)).collect();
        assert_eq!(
            tracks,
            [
                ("open-government", "Open Government", 0),
                ("open-data", "Open Data", 1),
                ("accessibility-inclusion", "Accessibility & Inclusion", 2),
            ]
        );

        let speakers: Vec<(&str, &str, &str)> = programme
            .speakers
            .iter()
            .map(|s| (s.id.as_str(), s.external_id.as_deref().unwrap(), s.name.as_str()))
            .collect();
        assert_eq!(
            speakers,
            [
                ("anna-keller", "pretalx:AKL3MV", "Anna Keller"),
                ("lukas-meier", "pretalx:LMZ9QK", "Lukas Meier"),
                ("sofia-rossi", "pretalx:SRP7KD", "Sofia Rossi"),
                ("jean-dupont", "pretalx:JDW4NM", "Jean Dupont"),
            ]
        );
        assert_eq!(programme.speakers[3].bio, "Jean coordinates a citizens' association in Geneva.");

        let sessions: Vec<(&str, &str, &str, Option<&str>, SessionKind)> = programme
            .sessions
            .iter()
            .map(|s| (s.id.as_str(), s.starts_at.as_str(), s.ends_at.as_str(), s.track.as_deref(), s.kind))
            .collect();
        assert_eq!(
            sessions,
            [
                (
                    "actd25-1041-public-code-for-public-money",
                    "2025-09-16T07:00:00Z",
                    "2025-09-16T07:45:00Z",
                    Some("open-government"),
                    SessionKind::Keynote
                ),
                (
                    "actd25-1057-open-data-in-alpine-municipalities",
                    "2025-09-16T08:00:00Z",
                    "2025-09-16T08:30:00Z",
                    Some("open-data"),
                    SessionKind::Other
                ),
                (
                    "actd25-1062-hands-on-publishing-datasets-with-ck",
                    "2025-09-16T08:00:00Z",
                    "2025-09-16T10:00:00Z",
                    Some("open-data"),
                    SessionKind::Workshop
                ),
                (
                    "actd25-1073-accessible-forms-for-everyone",
                    "2025-09-17T07:30:00Z",
                    "2025-09-17T08:00:00Z",
                    Some("accessibility-inclusion"),
                    SessionKind::Other
                ),
                (
                    "actd25-1094-who-owns-municipal-data",
                    "2025-09-17T12:00:00Z",
                    "2025-09-17T13:30:00Z",
                    Some("open-government"),
                    SessionKind::Other
                ),
                (
                    "actd25-1088-civic-tech-awards",
                    "2025-09-17T15:00:00Z",
                    "2025-09-17T15:45:00Z",
                    None,
                    SessionKind::PrizeCeremony
                ),
            ]
        );

        let by_id = |id: &str| programme.sessions.iter().find(|s| s.id.ends_with(id)).unwrap();
        let keynote = by_id("public-money");
        assert_eq!(keynote.external_id.as_deref(), Some("pretalx:a3d0f6b2-1c4e-5b7a-8d9f-2e1c0b3a4d5e"));
        assert_eq!(keynote.languages, ["en"]);
        assert_eq!(keynote.speakers, ["anna-keller"]);
        assert_eq!(keynote.stage, StageSource::None);
        assert!(keynote.tags.is_empty());
        assert_eq!(
            keynote.description,
            "Why software paid for by the public should be available to the public.\n\n\
             Ten years of municipal procurement, and what changed when the code was published."
        );
        let open_data = by_id("alpine-municipalities");
        assert_eq!(open_data.title, "Open Data in Alpine Municipalities — Lessons from ten cantons");
        assert_eq!(open_data.description, "Small administrations, big datasets.");
        assert_eq!(open_data.languages, ["de"]);
        assert_eq!(open_data.speakers, ["lukas-meier", "anna-keller"]);
        assert_eq!(by_id("datasets-with-ck").title, "Hands-on: Publishing Datasets with CKAN", "null subtitle");
        assert_eq!(by_id("awards").description, "The jury presents this year's three winners.");
        assert_eq!(by_id("municipal-data").speakers, ["anna-keller", "lukas-meier", "jean-dupont"]);

        let ids: HashSet<&str> = programme.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), programme.sessions.len(), "session ids are unique");
        assert!(programme.sessions.iter().all(|s| is_slug(&s.id)));
        assert_eq!(programme.validate(&[], &[]), vec![], "the result is a consistent programme");
    }

    fn schedule(talks: &str) -> String {
        format!(
            r#"{{"schedule": {{"conference": {{"title": "C", "start": "2025-01-01", "end": "2025-01-01",
               "days": [{{"index": 1, "date": "2025-01-01", "rooms": {{"Room A": [{talks}]}}}}]}}}}}}"#
        )
    }

    fn talk(fields: &str) -> String {
        format!(
            r#"{{"id": 1, "date": "2025-01-01T10:00:00+00:00", "duration": "00:30", "title": "Talk",
                 "persons": [], {fields}}}"#
        )
    }

    #[test]
    fn pretalx_malformed_duration_reports_the_path() {
        let text =
            schedule(&format!("{}, {}", talk(r#""slug": "a""#), talk(r#""slug": "b", "duration": "half an hour""#)));
        let errors = from_pretalx(&text).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].location, r#"schedule.conference.days[0].rooms["Room A"][1].duration"#);
        assert!(errors[0].message.contains("half an hour"));
    }

    #[test]
    fn pretalx_lists_every_problem() {
        let text = schedule(&format!(
            "{}, {}, {}",
            talk(r#""date": "yesterday", "title": null"#),
            talk(r#""duration": "00:00", "language": "english", "persons": [{"public_name": "No Id"}]"#),
            r#"{"guid": "g"}"#
        ));
        let errors = from_pretalx(&text).unwrap_err();
        let talk = |i: usize, field: &str| format!(r#"schedule.conference.days[0].rooms["Room A"][{i}].{field}"#);
        let locations: Vec<&str> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(
            locations,
            [
                talk(0, "title"),
                talk(0, "date"),
                talk(1, "persons[0].code"),
                talk(2, "title"),
                talk(2, "date"),
                talk(2, "duration"),
                talk(1, "duration"),
            ],
            "{errors:#?}"
        );
        assert_eq!(errors[6].message, "must be after starts_at");
    }

    #[test]
    fn pretalx_ids_are_unique_and_fallbacks_apply() {
        let text = schedule(&format!(
            "{}, {}, {}",
            talk(r#""guid": null, "id": 7, "title": "Same Title", "persons": [{"id": 3, "name": "Kim Lee"}]"#),
            talk(
                r#""id": 8, "date": "2025-01-01T11:00:00+00:00", "title": "Same title!", "track": "New Track",
                   "type": "Interview", "language": "EN-gb", "persons": [{"code": "X", "public_name": "Kim Lee"}]"#
            ),
            talk(
                r#""id": 9, "date": "2025-01-01T12:00:00", "slug": "Same title", "title": "Third",
                   "type": {"en": "Prize giving"}"#
            ),
        ));
        let programme = from_pretalx(&text).unwrap();
        let ids: Vec<&str> = programme.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["same-title", "same-title-2", "same-title-3"]);
        assert_eq!(programme.sessions[0].external_id.as_deref(), Some("pretalx:7"));
        assert_eq!(programme.sessions[1].kind, SessionKind::Interview);
        assert_eq!(programme.sessions[1].languages, ["en"]);
        assert_eq!(programme.sessions[1].track.as_deref(), Some("new-track"));
        assert_eq!(programme.sessions[2].kind, SessionKind::PrizeCeremony);
        assert_eq!(programme.sessions[2].starts_at, "2025-01-01T12:00:00Z", "local times are in the event's zone");
        let speakers: Vec<(&str, &str)> =
            programme.speakers.iter().map(|s| (s.id.as_str(), s.external_id.as_deref().unwrap())).collect();
        assert_eq!(speakers, [("kim-lee", "pretalx:3"), ("kim-lee-2", "pretalx:X")]);
        assert_eq!(programme.tracks.len(), 1);
        assert_eq!(programme.event.unwrap().time_zone, "UTC", "the default zone");
    }

    #[test]
    fn pretalx_structure_errors() {
        assert_eq!(from_pretalx("[]").unwrap_err()[0].location, "$");
        assert_eq!(from_pretalx("{}").unwrap_err()[0].location, "schedule");
        let errors = from_pretalx(r#"{"schedule": {"conference": {"time_zone_name": "Mars/Olympus"}}}"#).unwrap_err();
        let locations: Vec<&str> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(
            locations,
            [
                "schedule.conference.title",
                "schedule.conference.start",
                "schedule.conference.end",
                "schedule.conference.time_zone_name",
                "schedule.conference.days",
            ]
        );
        assert_eq!(from_pretalx("{").unwrap_err()[0].location, "line 1, column 1");
    }

    #[test]
    fn durations_and_kinds() {
        assert_eq!(parse_duration("01:30"), Some(90 * 60_000));
        assert_eq!(parse_duration("0:05:30"), Some(330_000));
        assert_eq!(parse_duration("1:75"), None);
        assert_eq!(parse_duration("90"), None);
        assert_eq!(parse_duration("-1:00"), None);
        assert_eq!(kind_from_type("Opening KEYNOTE"), SessionKind::Keynote);
        assert_eq!(kind_from_type("Panel"), SessionKind::Other);
        assert_eq!(language_code("de-formal").as_deref(), Some("de"));
        assert_eq!(language_code("eng"), None);
    }

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
