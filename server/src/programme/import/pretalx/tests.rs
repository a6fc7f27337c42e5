//! Tests of the pretalx / frab importer, on a sample export and on hand-made schedules.

use std::collections::HashSet;

use super::*;
use crate::programme::model::is_slug;

const PRETALX: &str = include_str!("../../../../tests/fixtures/pretalx-schedule.json");

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
    let text = schedule(&format!("{}, {}", talk(r#""slug": "a""#), talk(r#""slug": "b", "duration": "half an hour""#)));
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
