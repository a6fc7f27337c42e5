//! The pretalx / frab `schedule.json` export: conference, days, rooms and talks read into
//! a [`Programme`], with ids given out from slugs and names, and errors located by JSON
//! path.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{json_syntax_error, merge, unique_slug};
use crate::programme::model::{
    Event, FieldError, Programme, Session, SessionKind, Speaker, StageSource, Track, format_time, parse_time, slugify,
};

#[cfg(test)]
mod tests;

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
