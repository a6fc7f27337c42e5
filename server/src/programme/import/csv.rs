//! The CSV programme format: one file per kind of record ([`CsvKind`]), its first row
//! naming the columns, with errors located as `line N` and the column.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::{merge, to_utc};
use crate::programme::model::{Booth, FieldError, Programme, Session, SessionKind, Speaker, StageSource, Track};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn locations(errors: &[FieldError]) -> Vec<(String, Option<String>)> {
        errors.iter().map(|e| (e.location.clone(), e.field.clone())).collect()
    }

    fn at(location: &str, field: &str) -> (String, Option<String>) {
        (location.to_owned(), Some(field.to_owned()))
    }

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
}
