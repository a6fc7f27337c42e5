//! The programme's model: the event, its tracks, sessions, speakers and booths, and role
//! grants, as the REST API, the importers and the store exchange them. Validation lives here
//! too, as plain functions that list every problem with the path of the field.

use plenary_proto::{RoomId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::domain::identity::RoleGrant;
use crate::domain::text::{has_control, normalise_line, normalise_text};

/// A problem with one field of an input, named by its path (`sessions[2].title`) or line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Where the problem is: a JSON path such as `sessions[2].starts_at`, or `line 7`.
    pub location: String,
    /// The field, when the location names a record rather than the field itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { location: location.into(), field: None, message: message.into() }
    }
}

/// The event as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub name: String,
    /// IANA time zone of the venue or organiser, e.g. `Europe/Zurich`.
    pub time_zone: String,
    /// First day, `YYYY-MM-DD`, in the event's time zone.
    pub starts_on: String,
    /// Last day, `YYYY-MM-DD`, in the event's time zone.
    pub ends_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Track {
    /// Slug: lowercase letters, digits and `-`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Order in listings.
    #[serde(default)]
    pub position: i32,
}

/// What kind of session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Keynote,
    Workshop,
    HighLevelPolicySession,
    SpecialTrackSession,
    MinisterialRoundTable,
    PrizeCeremony,
    Interview,
    Other,
}

impl SessionKind {
    pub const ALL: &'static [SessionKind] = &[
        SessionKind::Keynote,
        SessionKind::Workshop,
        SessionKind::HighLevelPolicySession,
        SessionKind::SpecialTrackSession,
        SessionKind::MinisterialRoundTable,
        SessionKind::PrizeCeremony,
        SessionKind::Interview,
        SessionKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Keynote => "keynote",
            SessionKind::Workshop => "workshop",
            SessionKind::HighLevelPolicySession => "high_level_policy_session",
            SessionKind::SpecialTrackSession => "special_track_session",
            SessionKind::MinisterialRoundTable => "ministerial_round_table",
            SessionKind::PrizeCeremony => "prize_ceremony",
            SessionKind::Interview => "interview",
            SessionKind::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Option<SessionKind> {
        SessionKind::ALL.iter().copied().find(|k| k.as_str() == value)
    }
}

/// Where a session's stage comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageSource {
    /// Nothing to watch yet.
    None,
    /// An HLS stream (`.m3u8`) played in the page.
    Hls { url: String },
    /// A video platform's player in a sandboxed frame; the host must be allowed.
    Embed { url: String },
    /// Plenary's own WebRTC stage.
    Webrtc,
}

/// Hosts whose players may be embedded.
pub const EMBED_HOSTS: &[&str] =
    &["www.youtube-nocookie.com", "www.youtube.com", "player.vimeo.com", "www.dailymotion.com", "media.un.org"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// Slug; the session's live room is `session:<id>`.
    pub id: String,
    /// The id in the system the session was imported from, for idempotent re-imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub kind: SessionKind,
    /// Start, RFC 3339 (UTC on output).
    pub starts_at: String,
    /// End, RFC 3339 (UTC on output).
    pub ends_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    /// ISO 639-1 codes of the languages spoken or interpreted, e.g. `en`, `fr`.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Tags such as WSIS action lines (`C1`..`C11`) and goals (`SDG1`..`SDG17`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Speaker ids.
    #[serde(default)]
    pub speakers: Vec<String>,
    #[serde(default = "no_stage")]
    pub stage: StageSource,
    /// How the session's Q&A runs.
    #[serde(default)]
    pub qa: QaSettings,
}

/// A session's Q&A settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QaSettings {
    /// Questions wait for a moderator's approval before the audience sees them.
    #[serde(default = "yes")]
    pub moderated: bool,
    /// Askers may hide their name from the audience.
    #[serde(default = "yes")]
    pub anonymous: bool,
}

impl Default for QaSettings {
    fn default() -> Self {
        QaSettings { moderated: true, anonymous: true }
    }
}

fn yes() -> bool {
    true
}

fn no_stage() -> StageSource {
    StageSource::None
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Speaker {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub name: String,
    /// Role and organisation, e.g. `Secretary-General, ITU`.
    #[serde(default)]
    pub affiliation: String,
    #[serde(default)]
    pub bio: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Booth {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub organisation: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// User ids (`sub`) of the booth's staff.
    #[serde(default)]
    pub staff: Vec<String>,
}

/// A whole programme, as imported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Programme {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    #[serde(default)]
    pub tracks: Vec<Track>,
    #[serde(default)]
    pub speakers: Vec<Speaker>,
    #[serde(default)]
    pub sessions: Vec<Session>,
    #[serde(default)]
    pub booths: Vec<Booth>,
}

/// A slug: 1 to 48 lowercase ASCII letters, digits and `-`, not starting with `-`.
pub fn is_slug(value: &str) -> bool {
    (1..=48).contains(&value.len())
        && !value.starts_with('-')
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Turns a title or name into a slug candidate (`"ICTs & Youth"` → `icts-youth`).
pub fn slugify(value: &str) -> String {
    let mut slug = String::new();
    for c in value.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Parses an RFC 3339 time into Unix milliseconds.
pub fn parse_time(value: &str) -> Result<i64, String> {
    let ts: jiff::Timestamp = value.parse().map_err(|e| format!("{value:?} is not an RFC 3339 time: {e}"))?;
    Ok(ts.as_millisecond())
}

/// Formats Unix milliseconds as RFC 3339 UTC.
pub fn format_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

fn check_text(errors: &mut Vec<FieldError>, at: &str, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        errors.push(FieldError::new(format!("{at}.{field}"), "must not be empty"));
    }
    if value.chars().count() > max {
        errors.push(FieldError::new(format!("{at}.{field}"), format!("longer than {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        errors.push(FieldError::new(format!("{at}.{field}"), "contains control characters"));
    }
}

/// Puts a single-line field through the text rules, unless it has a control character
/// that validation refuses: then it is left as it is, for the refusal to name it.
fn tidy_line(value: &mut String) {
    if !has_control(value) {
        *value = normalise_line(value);
    }
}

/// Puts a multi-line field (a description, a bio) through the text rules, as [`tidy_line`].
fn tidy_text(value: &mut String) {
    if !has_control(value) {
        *value = normalise_text(value);
    }
}

fn check_slug(errors: &mut Vec<FieldError>, at: &str, field: &str, value: &str) {
    if !is_slug(value) {
        errors.push(FieldError::new(
            format!("{at}.{field}"),
            format!("{value:?} is not a slug (1-48 of a-z, 0-9 and -)"),
        ));
    }
}

/// `http://127.0.0.1...`, `http://localhost...` or `http://[::1]...`.
fn is_loopback_http(url: &str) -> bool {
    url.strip_prefix("http://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host =
            host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
        host == "localhost" || host == "[::1]" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    })
}

fn check_https(errors: &mut Vec<FieldError>, at: &str, field: &str, url: &str) -> Option<String> {
    match url.strip_prefix("https://") {
        Some(rest) if !rest.is_empty() => Some(rest.split(['/', '?', '#']).next().unwrap_or("").to_owned()),
        _ => {
            errors.push(FieldError::new(format!("{at}.{field}"), format!("{url:?} is not an https:// URL")));
            None
        }
    }
}

impl Event {
    /// Puts the human-visible fields through the text rules (before [`Event::validate`]).
    pub fn normalise(&mut self) {
        tidy_line(&mut self.name);
    }

    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_text(&mut errors, at, "name", &self.name, 200, true);
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            errors.push(FieldError::new(
                format!("{at}.time_zone"),
                format!("{:?} is not an IANA time zone", self.time_zone),
            ));
        }
        let starts = self.starts_on.parse::<jiff::civil::Date>();
        let ends = self.ends_on.parse::<jiff::civil::Date>();
        if starts.is_err() {
            errors.push(FieldError::new(format!("{at}.starts_on"), "not a YYYY-MM-DD date"));
        }
        if ends.is_err() {
            errors.push(FieldError::new(format!("{at}.ends_on"), "not a YYYY-MM-DD date"));
        }
        if let (Ok(starts), Ok(ends)) = (starts, ends)
            && ends < starts
        {
            errors.push(FieldError::new(format!("{at}.ends_on"), "is before starts_on"));
        }
        errors
    }
}

impl Track {
    pub fn normalise(&mut self) {
        tidy_line(&mut self.name);
        tidy_text(&mut self.description);
    }

    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_slug(&mut errors, at, "id", &self.id);
        check_text(&mut errors, at, "name", &self.name, 120, true);
        check_text(&mut errors, at, "description", &self.description, 4000, false);
        errors
    }
}

impl Session {
    /// The session's live room.
    pub fn room(&self) -> Option<RoomId> {
        RoomId::session(&self.id).ok()
    }

    pub fn normalise(&mut self) {
        tidy_line(&mut self.title);
        tidy_text(&mut self.description);
        self.tags.iter_mut().for_each(tidy_line);
    }

    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_slug(&mut errors, at, "id", &self.id);
        check_text(&mut errors, at, "title", &self.title, 300, true);
        check_text(&mut errors, at, "description", &self.description, 20_000, false);
        let starts =
            parse_time(&self.starts_at).map_err(|e| errors.push(FieldError::new(format!("{at}.starts_at"), e)));
        let ends = parse_time(&self.ends_at).map_err(|e| errors.push(FieldError::new(format!("{at}.ends_at"), e)));
        if let (Ok(starts), Ok(ends)) = (starts, ends)
            && ends <= starts
        {
            errors.push(FieldError::new(format!("{at}.ends_at"), "must be after starts_at"));
        }
        if let Some(track) = &self.track {
            check_slug(&mut errors, at, "track", track);
        }
        for (i, language) in self.languages.iter().enumerate() {
            if language.len() != 2 || !language.bytes().all(|b| b.is_ascii_lowercase()) {
                errors.push(FieldError::new(
                    format!("{at}.languages[{i}]"),
                    format!("{language:?} is not an ISO 639-1 code such as \"en\""),
                ));
            }
        }
        for (i, tag) in self.tags.iter().enumerate() {
            if tag.trim().is_empty() || tag.chars().count() > 40 || tag.chars().any(char::is_control) {
                errors.push(FieldError::new(format!("{at}.tags[{i}]"), "a tag is 1-40 printable characters"));
            }
        }
        for (i, speaker) in self.speakers.iter().enumerate() {
            check_slug(&mut errors, at, &format!("speakers[{i}]"), speaker);
        }
        match &self.stage {
            // A stream on this machine (a local encoder, a test) may be plain http.
            StageSource::Hls { url } if is_loopback_http(url) => {}
            StageSource::Hls { url } => {
                check_https(&mut errors, at, "stage.url", url);
            }
            StageSource::Embed { url } => {
                if let Some(host) = check_https(&mut errors, at, "stage.url", url)
                    && !EMBED_HOSTS.contains(&host.as_str())
                {
                    errors.push(FieldError::new(
                        format!("{at}.stage.url"),
                        format!("{host} is not an allowed player host ({})", EMBED_HOSTS.join(", ")),
                    ));
                }
            }
            StageSource::None | StageSource::Webrtc => {}
        }
        errors
    }
}

impl Speaker {
    pub fn normalise(&mut self) {
        tidy_line(&mut self.name);
        tidy_line(&mut self.affiliation);
        tidy_text(&mut self.bio);
    }

    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_slug(&mut errors, at, "id", &self.id);
        check_text(&mut errors, at, "name", &self.name, 120, true);
        check_text(&mut errors, at, "affiliation", &self.affiliation, 300, false);
        check_text(&mut errors, at, "bio", &self.bio, 10_000, false);
        if let Some(country) = &self.country
            && crate::domain::people::validate_country(country).is_err()
        {
            errors.push(FieldError::new(format!("{at}.country"), "not a two-letter ISO 3166-1 code"));
        }
        errors
    }
}

impl Booth {
    pub fn normalise(&mut self) {
        tidy_line(&mut self.organisation);
        tidy_text(&mut self.description);
        self.tags.iter_mut().for_each(tidy_line);
    }

    pub fn validate(&self, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_slug(&mut errors, at, "id", &self.id);
        check_text(&mut errors, at, "organisation", &self.organisation, 200, true);
        check_text(&mut errors, at, "description", &self.description, 10_000, false);
        for (i, link) in self.links.iter().enumerate() {
            check_https(&mut errors, at, &format!("links[{i}]"), link);
        }
        if let Some(logo) = &self.logo_url {
            check_https(&mut errors, at, "logo_url", logo);
        }
        if let Some(track) = &self.track {
            check_slug(&mut errors, at, "track", track);
        }
        for (i, staff) in self.staff.iter().enumerate() {
            if UserId::parse(staff.as_str()).is_err() {
                errors.push(FieldError::new(format!("{at}.staff[{i}]"), "not a valid user id"));
            }
        }
        errors
    }
}

impl Programme {
    /// Puts every record's human-visible fields through the text rules; the API does this
    /// before validating anything it is about to store.
    pub fn normalise(&mut self) {
        self.event.iter_mut().for_each(Event::normalise);
        self.tracks.iter_mut().for_each(Track::normalise);
        self.speakers.iter_mut().for_each(Speaker::normalise);
        self.sessions.iter_mut().for_each(Session::normalise);
        self.booths.iter_mut().for_each(Booth::normalise);
    }

    /// Every problem in the programme, including references to tracks and speakers that it
    /// does not define and `known` (already stored) does not either.
    pub fn validate(&self, known_tracks: &[String], known_speakers: &[String]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(event) = &self.event {
            errors.extend(event.validate("event"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, track) in self.tracks.iter().enumerate() {
            errors.extend(track.validate(&format!("tracks[{i}]")));
            if !seen.insert(("track", track.id.as_str())) {
                errors.push(FieldError::new(format!("tracks[{i}].id"), format!("{:?} appears twice", track.id)));
            }
        }
        for (i, speaker) in self.speakers.iter().enumerate() {
            errors.extend(speaker.validate(&format!("speakers[{i}]")));
            if !seen.insert(("speaker", speaker.id.as_str())) {
                errors.push(FieldError::new(format!("speakers[{i}].id"), format!("{:?} appears twice", speaker.id)));
            }
        }
        let track_known = |t: &str| self.tracks.iter().any(|x| x.id == t) || known_tracks.iter().any(|x| x == t);
        let speaker_known = |s: &str| self.speakers.iter().any(|x| x.id == s) || known_speakers.iter().any(|x| x == s);
        for (i, session) in self.sessions.iter().enumerate() {
            let at = format!("sessions[{i}]");
            errors.extend(session.validate(&at));
            if !seen.insert(("session", session.id.as_str())) {
                errors.push(FieldError::new(format!("{at}.id"), format!("{:?} appears twice", session.id)));
            }
            if let Some(track) = &session.track
                && is_slug(track)
                && !track_known(track)
            {
                errors.push(FieldError::new(format!("{at}.track"), format!("no track {track:?}")));
            }
            for (j, speaker) in session.speakers.iter().enumerate() {
                if is_slug(speaker) && !speaker_known(speaker) {
                    errors.push(FieldError::new(format!("{at}.speakers[{j}]"), format!("no speaker {speaker:?}")));
                }
            }
        }
        for (i, booth) in self.booths.iter().enumerate() {
            let at = format!("booths[{i}]");
            errors.extend(booth.validate(&at));
            if !seen.insert(("booth", booth.id.as_str())) {
                errors.push(FieldError::new(format!("{at}.id"), format!("{:?} appears twice", booth.id)));
            }
            if let Some(track) = &booth.track
                && is_slug(track)
                && !track_known(track)
            {
                errors.push(FieldError::new(format!("{at}.track"), format!("no track {track:?}")));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            id: "opening".into(),
            external_id: None,
            title: "Opening ceremony".into(),
            description: String::new(),
            kind: SessionKind::HighLevelPolicySession,
            starts_at: "2025-07-07T08:00:00Z".into(),
            ends_at: "2025-07-07T10:00:00+01:00".into(),
            track: None,
            languages: vec!["en".into(), "fr".into()],
            tags: vec!["C1".into(), "SDG9".into()],
            speakers: vec![],
            stage: StageSource::Embed { url: "https://www.youtube-nocookie.com/embed/x".into() },
            qa: Default::default(),
        }
    }

    #[test]
    fn slugs() {
        assert!(is_slug("icts-and-youth"));
        assert!(!is_slug("ICTs"));
        assert!(!is_slug("-x"));
        assert_eq!(slugify("ICTs & Youth: the future"), "icts-youth-the-future");
        assert_eq!(slugify("  Well-being and Happiness "), "well-being-and-happiness");
    }

    #[test]
    fn session_validation_names_every_field() {
        assert_eq!(session().validate("s"), vec![]);
        let mut s = session();
        s.ends_at = "2025-07-07T09:00:00+01:00".into();
        assert_eq!(s.validate("s")[0].location, "s.ends_at", "09:00+01:00 is the start itself");
    }

    #[test]
    fn streams_are_https_except_on_loopback() {
        let mut s = session();
        let stream_errors = |s: &Session| s.validate("s").into_iter().filter(|e| e.location == "s.stage.url").count();
        for (url, errors) in [
            ("http://127.0.0.1:9000/live.m3u8", 0),
            ("http://localhost/live.m3u8", 0),
            ("https://cdn.example/live.m3u8", 0),
            ("http://cdn.example/live.m3u8", 1),
            ("http://127.0.0.1.evil.example/live.m3u8", 1),
            ("http://localhost.evil.example:80/live.m3u8", 1),
        ] {
            s.stage = StageSource::Hls { url: url.into() };
            assert_eq!(stream_errors(&s), errors, "{url}");
        }
    }

    #[test]
    fn invalid_sessions() {
        let mut s = session();
        s.id = "Bad Id".into();
        s.title = " ".into();
        s.starts_at = "tomorrow".into();
        s.languages = vec!["eng".into()];
        s.stage = StageSource::Embed { url: "https://evil.example/player".into() };
        let errors = s.validate("sessions[3]");
        let locations: Vec<&str> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(
            locations,
            [
                "sessions[3].id",
                "sessions[3].title",
                "sessions[3].starts_at",
                "sessions[3].languages[0]",
                "sessions[3].stage.url"
            ]
        );
    }

    #[test]
    fn human_visible_fields_follow_the_text_rules() {
        let mut s = session();
        s.title = "\u{202E}Opening\u{2028}ceremony\u{200B}".into();
        s.description = "Line one\r\n\u{2066}line two\u{2069}".into();
        s.tags = vec![" C1\u{FEFF} ".into()];
        s.normalise();
        assert_eq!((s.title.as_str(), s.description.as_str()), ("Opening ceremony", "Line one\nline two"));
        assert_eq!(s.tags, ["C1"]);
        s.title = "a\u{7}b".into();
        s.normalise();
        assert_eq!(s.validate("s")[0].message, "contains control characters", "still refused, not removed");
        let mut speaker = Speaker {
            id: "x".into(),
            external_id: None,
            name: "\u{200B}".into(),
            affiliation: String::new(),
            bio: String::new(),
            country: None,
        };
        speaker.normalise();
        assert_eq!(speaker.validate("p")[0].message, "must not be empty");
    }

    #[test]
    fn times_round_trip_as_utc() {
        let ms = parse_time("2025-07-07T10:00:00+02:00").unwrap();
        assert_eq!(format_time(ms), "2025-07-07T08:00:00Z");
    }
}
