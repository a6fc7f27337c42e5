//! The demo event: a week-long virtual forum modelled on the WSIS Forum (its special tracks,
//! WSIS action lines C1-C11 and SDG tags, high-level policy sessions, workshops, a prize
//! ceremony, an exhibition), laid out around the current time so that the run command shows
//! a living event: some sessions are live now, others later today and all week. People,
//! organisations and stream addresses are made up.

use super::model::{Booth, Event, Programme, Session, SessionKind, Speaker, StageSource, Track, format_time};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// The sessions [`programme`] starts live: their stage goes live when the demo is loaded.
pub const LIVE_NOW: &[&str] = &["opening-ceremony", "youth-skills-workshop"];

const TRACKS: &[(&str, &str, &str)] = &[
    ("youth", "ICTs and Youth", "Young people's perspectives on technology and the information society."),
    ("accessibility", "ICTs and Accessibility", "ICTs for persons with disabilities and specific needs."),
    ("older-persons", "ICTs and Older Persons", "Technology that improves the lives of older people."),
    ("gender", "ICTs and Gender Mainstreaming", "Gender equality through ICTs, and 50/50 participation."),
    ("sport", "ICTs and Sport", "Sport, gaming and e-sport as enablers of sustainable development."),
    ("extended-reality", "Extended Reality", "Extended reality applied to sustainable development."),
    ("well-being", "ICTs for Well-being and Happiness", "Healthy lives and well-being for everyone at all ages."),
    ("startups", "Emerging Technologies (Startups)", "Frontier technologies and the startups that build them."),
    ("cybersecurity", "Cybersecurity", "Building confidence and security in the use of ICTs (Action Line C5)."),
];

const SPEAKERS: &[(&str, &str, &str, &str)] = &[
    ("amara-okafor", "Amara Okafor", "Minister of Digital Economy (fictional)", "NG"),
    ("lucia-fernandez", "Lucía Fernández", "Director, Open Connectivity Lab", "AR"),
    ("kenji-watanabe", "Kenji Watanabe", "Accessibility researcher", "JP"),
    ("sofia-lindqvist", "Sofia Lindqvist", "Youth envoy, Nordic Digital Forum", "SE"),
    ("omar-haddad", "Omar Haddad", "Chief Information Security Officer, Levant Telecom", "JO"),
    ("mei-chen", "Mei Chen", "Founder, TeleCare Startups Network", "SG"),
    ("aylin-demir", "Aylin Demir", "Programme lead, Digital Skills for Older Persons", "TR"),
    ("jean-baptiste-kouame", "Jean-Baptiste Kouamé", "President, Francophone E-sport Federation", "CI"),
    ("priya-raman", "Priya Raman", "Professor of Extended Reality, Bangalore", "IN"),
    ("elena-petrova", "Elena Petrova", "Head of Gender Equality Programmes", "BG"),
];

/// (id, title, kind, track, day offset, start hour UTC, hours, tags, languages, speakers)
type SessionSpec = (
    &'static str,
    &'static str,
    SessionKind,
    Option<&'static str>,
    i64,
    i64,
    i64,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const SESSIONS: &[SessionSpec] = &[
    (
        "high-level-policy-inclusion",
        "High-Level Policy Session: Bridging the Digital Divide",
        SessionKind::HighLevelPolicySession,
        None,
        1,
        8,
        2,
        &["C1", "C2", "SDG9", "SDG10"],
        &["en", "fr", "es", "ar", "zh", "ru"],
        &["amara-okafor", "lucia-fernandez"],
    ),
    (
        "accessible-by-design",
        "Accessible by Design: Captions, Sign Language and Plain Language Online",
        SessionKind::Workshop,
        Some("accessibility"),
        1,
        13,
        1,
        &["C3", "C4", "SDG4", "SDG10"],
        &["en", "es"],
        &["kenji-watanabe"],
    ),
    (
        "cyber-confidence-round-table",
        "Ministerial Round Table: Confidence and Security in the Use of ICTs",
        SessionKind::MinisterialRoundTable,
        Some("cybersecurity"),
        1,
        15,
        2,
        &["C5", "SDG16"],
        &["en", "fr", "ar"],
        &["omar-haddad", "amara-okafor"],
    ),
    (
        "older-persons-digital-skills",
        "Never Too Late: Digital Skills for Older Persons",
        SessionKind::SpecialTrackSession,
        Some("older-persons"),
        2,
        9,
        1,
        &["C4", "SDG3", "SDG4"],
        &["en", "ru"],
        &["aylin-demir"],
    ),
    (
        "gender-50-50",
        "50/50: Women Leading the Information Society",
        SessionKind::SpecialTrackSession,
        Some("gender"),
        2,
        12,
        1,
        &["C4", "C10", "SDG5"],
        &["en", "fr"],
        &["elena-petrova", "lucia-fernandez"],
    ),
    (
        "esport-for-development",
        "E-sport and Gaming for Social Impact",
        SessionKind::SpecialTrackSession,
        Some("sport"),
        2,
        16,
        1,
        &["C7", "SDG3", "SDG17"],
        &["fr", "en"],
        &["jean-baptiste-kouame"],
    ),
    (
        "xr-for-learning",
        "Extended Reality Classrooms for Remote Regions",
        SessionKind::Workshop,
        Some("extended-reality"),
        3,
        5,
        1,
        &["C7", "SDG4"],
        &["en", "zh"],
        &["priya-raman"],
    ),
    (
        "telehealth-startups",
        "Startup Pitches: Telehealth for Well-being at All Ages",
        SessionKind::Workshop,
        Some("startups"),
        3,
        10,
        2,
        &["C7", "SDG3", "SDG8"],
        &["en"],
        &["mei-chen"],
    ),
    (
        "well-being-online",
        "Well-being and Happiness in a Connected Life",
        SessionKind::SpecialTrackSession,
        Some("well-being"),
        3,
        19,
        1,
        &["C10", "SDG3"],
        &["en", "es"],
        &["kenji-watanabe", "sofia-lindqvist"],
    ),
    (
        "youth-policy-hackathon",
        "Youth Policy Hackathon: Results and Recommendations",
        SessionKind::Workshop,
        Some("youth"),
        4,
        14,
        2,
        &["C11", "SDG4", "SDG16"],
        &["en", "ar"],
        &["sofia-lindqvist"],
    ),
    (
        "data-for-sdgs",
        "Interview: Open Data for the Sustainable Development Goals",
        SessionKind::Interview,
        None,
        4,
        7,
        1,
        &["C3", "C6", "SDG17"],
        &["en", "zh"],
        &["lucia-fernandez"],
    ),
    (
        "wsis-prizes-ceremony",
        "WSIS Prizes Ceremony",
        SessionKind::PrizeCeremony,
        None,
        5,
        14,
        2,
        &["C1", "C11", "SDG17"],
        &["en", "fr", "es", "ar", "zh", "ru"],
        &["amara-okafor"],
    ),
    (
        "closing-high-level-dialogue",
        "Closing High-Level Dialogue: The Decade of Action",
        SessionKind::HighLevelPolicySession,
        None,
        6,
        9,
        2,
        &["C1", "C11", "SDG16", "SDG17"],
        &["en", "fr", "es", "ar", "zh", "ru"],
        &["amara-okafor", "elena-petrova"],
    ),
];

/// (id, organisation, description, track, tags)
type BoothSpec = (&'static str, &'static str, &'static str, Option<&'static str>, &'static [&'static str]);

const BOOTHS: &[BoothSpec] = &[
    (
        "open-connectivity-lab",
        "Open Connectivity Lab",
        "Community networks that connect the last billion.",
        None,
        &["C2", "SDG9"],
    ),
    (
        "accessible-web-alliance",
        "Accessible Web Alliance",
        "Tools and training for accessible websites and apps.",
        Some("accessibility"),
        &["C3", "SDG10"],
    ),
    (
        "telecare-startups",
        "TeleCare Startups Network",
        "Twelve startups bringing health care to remote villages.",
        Some("startups"),
        &["C7", "SDG3"],
    ),
    (
        "cyber-resilience-hub",
        "Cyber Resilience Hub",
        "Incident response training for small administrations.",
        Some("cybersecurity"),
        &["C5", "SDG16"],
    ),
    (
        "silver-surfers",
        "Silver Surfers Association",
        "Peer tutoring in digital skills, by and for older persons.",
        Some("older-persons"),
        &["C4", "SDG4"],
    ),
];

/// The demo programme, laid out around `now` (Unix ms): day 1 is today in the event's
/// time zone (UTC), with the live sessions started 20 minutes ago.
pub fn programme(now: i64) -> Programme {
    let today = now - now.rem_euclid(DAY);
    let day_of = |offset: i64| {
        jiff::Timestamp::from_millisecond(today + (offset - 1) * DAY)
            .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string())
            .unwrap_or_default()
    };
    let mut sessions = vec![
        Session {
            id: LIVE_NOW[0].to_owned(),
            external_id: None,
            title: "Opening Ceremony: ICTs for Inclusive, Resilient and Sustainable Societies".to_owned(),
            description: "The forum opens: welcome by the co-organisers and a keynote on the WSIS Action Lines \
                          and the 2030 Agenda."
                .to_owned(),
            kind: SessionKind::Keynote,
            starts_at: format_time(now - HOUR / 3),
            ends_at: format_time(now - HOUR / 3 + 2 * HOUR),
            track: None,
            languages: ["en", "fr", "es", "ar", "zh", "ru"].map(String::from).to_vec(),
            tags: ["C1", "C11", "SDG9", "SDG17"].map(String::from).to_vec(),
            speakers: vec!["amara-okafor".to_owned(), "sofia-lindqvist".to_owned()],
            // Plenary's own stage, with the node's demo clip as its speaker: it plays offline.
            stage: StageSource::Webrtc,
            qa: Default::default(),
        },
        Session {
            id: LIVE_NOW[1].to_owned(),
            external_id: None,
            title: "Youth Skills Workshop: Coding the Future".to_owned(),
            description: "Young innovators from five regions share how they learned to build with technology."
                .to_owned(),
            kind: SessionKind::Workshop,
            starts_at: format_time(now - HOUR / 3),
            ends_at: format_time(now - HOUR / 3 + HOUR),
            track: Some("youth".to_owned()),
            languages: vec!["en".to_owned(), "es".to_owned()],
            tags: ["C4", "SDG4", "SDG8"].map(String::from).to_vec(),
            speakers: vec!["sofia-lindqvist".to_owned()],
            stage: StageSource::Webrtc,
            qa: Default::default(),
        },
    ];
    for &(id, title, kind, track, day, hour, hours, tags, languages, speakers) in SESSIONS {
        let starts = today + (day - 1) * DAY + hour * HOUR;
        sessions.push(Session {
            id: id.to_owned(),
            external_id: None,
            title: title.to_owned(),
            description: format!(
                "{title}. A session of the demo forum, tagged with the WSIS Action Lines and SDGs it serves."
            ),
            kind,
            starts_at: format_time(starts),
            ends_at: format_time(starts + hours * HOUR),
            track: track.map(str::to_owned),
            languages: languages.iter().map(|l| (*l).to_owned()).collect(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            speakers: speakers.iter().map(|s| (*s).to_owned()).collect(),
            stage: StageSource::None,
            qa: Default::default(),
        });
    }
    Programme {
        event: Some(Event {
            name: "Plenary Demo Forum: ICTs for Sustainable Development".to_owned(),
            time_zone: "Europe/Zurich".to_owned(),
            starts_on: day_of(1),
            ends_on: day_of(7),
        }),
        tracks: TRACKS
            .iter()
            .enumerate()
            .map(|(i, (id, name, description))| Track {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
                description: (*description).to_owned(),
                position: i32::try_from(i).unwrap_or(0),
            })
            .collect(),
        speakers: SPEAKERS
            .iter()
            .map(|(id, name, affiliation, country)| Speaker {
                id: (*id).to_owned(),
                external_id: None,
                name: (*name).to_owned(),
                affiliation: (*affiliation).to_owned(),
                bio: String::new(),
                country: Some((*country).to_owned()),
            })
            .collect(),
        sessions,
        booths: BOOTHS
            .iter()
            .map(|(id, organisation, description, track, tags)| Booth {
                id: (*id).to_owned(),
                external_id: None,
                organisation: (*organisation).to_owned(),
                description: (*description).to_owned(),
                links: vec![format!("https://{id}.example.org")],
                logo_url: None,
                track: track.map(str::to_owned),
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                staff: vec![format!("staff-{id}")],
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_is_valid_and_has_live_sessions() {
        let now = 1_767_261_600_000; // 2026-01-01T10:00:00Z
        let demo = programme(now);
        assert_eq!(demo.validate(&[], &[]), vec![]);
        assert_eq!(demo.tracks.len(), 9);
        assert!(demo.booths.len() >= 5);
        let live: Vec<_> = demo
            .sessions
            .iter()
            .filter(|s| {
                let (start, end) = (
                    super::super::model::parse_time(&s.starts_at).unwrap(),
                    super::super::model::parse_time(&s.ends_at).unwrap(),
                );
                start <= now && now < end
            })
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(live, LIVE_NOW);
        assert_eq!(demo.event.unwrap().starts_on, "2026-01-01");
    }
}
