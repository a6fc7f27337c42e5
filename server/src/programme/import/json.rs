//! Plenary's own JSON programme format: the [`Programme`] as serialised, read with serde
//! and checked record by record.

use super::{json_syntax_error, to_utc};
use crate::programme::model::{FieldError, Programme};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::model::{SessionKind, StageSource};

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
}
