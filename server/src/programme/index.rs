//! The programme's sessions and booths, held in memory for the hot paths: a `join` checks
//! the session or booth exists, a room takes its stage title, Q&A settings or booth staff
//! from it, and the exhibition hall lists the booths, all without a database query.
//! Rebuilt from the store after every programme write.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use super::model::{Booth, QaSettings, Session, SessionKind, StageSource};

/// What the hot paths need of a booth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoothEntry {
    pub organisation: String,
    /// User ids (`sub`) of the staff the programme names.
    pub staff: Vec<String>,
}

/// What the hot paths need of a session.
#[derive(Debug, Clone)]
struct SessionEntry {
    title: String,
    qa: QaSettings,
    /// Its stage is carried by the node's own SFU.
    webrtc: bool,
    /// Its members may raise a hand to be brought on the stage (an interactive session).
    hands: bool,
}

#[derive(Debug, Default)]
pub struct ProgrammeIndex {
    sessions: RwLock<HashMap<String, SessionEntry>>,
    /// Sorted by id, so the hall's summary lists booths in a stable order.
    booths: RwLock<BTreeMap<String, BoothEntry>>,
}

impl ProgrammeIndex {
    pub fn new(sessions: &[Session], booths: &[Booth]) -> ProgrammeIndex {
        let index = ProgrammeIndex::default();
        index.replace(sessions, booths);
        index
    }

    /// Replaces the index with `sessions` and `booths`.
    pub fn replace(&self, sessions: &[Session], booths: &[Booth]) {
        let index = sessions
            .iter()
            .map(|s| {
                let entry = SessionEntry {
                    title: s.title.clone(),
                    qa: s.qa,
                    webrtc: matches!(s.stage, StageSource::Webrtc),
                    hands: matches!(
                        s.kind,
                        SessionKind::Workshop | SessionKind::SpecialTrackSession | SessionKind::Other
                    ),
                };
                (s.id.clone(), entry)
            })
            .collect();
        *self.sessions.write().expect("index lock") = index;
        let booths = booths
            .iter()
            .map(|b| (b.id.clone(), BoothEntry { organisation: b.organisation.clone(), staff: b.staff.clone() }))
            .collect();
        *self.booths.write().expect("index lock") = booths;
    }

    /// The title of session `id`, if the programme has it.
    pub fn title(&self, id: &str) -> Option<String> {
        self.sessions.read().expect("index lock").get(id).map(|s| s.title.clone())
    }

    /// The Q&A settings of session `id`, if the programme has it.
    pub fn qa(&self, id: &str) -> Option<QaSettings> {
        self.sessions.read().expect("index lock").get(id).map(|s| s.qa)
    }

    /// Whether session `id`'s members may raise a hand to be brought on its stage.
    pub fn takes_hands(&self, id: &str) -> bool {
        self.sessions.read().expect("index lock").get(id).is_some_and(|s| s.hands)
    }

    /// Whether session `id`'s stage is Plenary's own WebRTC stage.
    pub fn webrtc_stage(&self, id: &str) -> bool {
        self.sessions.read().expect("index lock").get(id).is_some_and(|s| s.webrtc)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.sessions.read().expect("index lock").contains_key(id)
    }

    pub fn booth(&self, id: &str) -> Option<BoothEntry> {
        self.booths.read().expect("index lock").get(id).cloned()
    }

    /// Every booth's id, in order.
    pub fn booth_ids(&self) -> Vec<String> {
        self.booths.read().expect("index lock").keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booths_are_listed_in_order_and_replaced() {
        let booth = |id: &str, staff: &[&str]| Booth {
            id: id.into(),
            external_id: None,
            organisation: id.to_uppercase(),
            description: String::new(),
            links: Vec::new(),
            logo_url: None,
            track: None,
            tags: Vec::new(),
            staff: staff.iter().map(|s| s.to_string()).collect(),
        };
        let index = ProgrammeIndex::new(&[], &[booth("wsis", &[]), booth("itu", &["ana"])]);
        assert_eq!(index.booth_ids(), ["itu", "wsis"]);
        assert_eq!(index.booth("itu").unwrap().staff, ["ana"]);
        index.replace(&[], &[booth("undp", &[])]);
        assert_eq!(index.booth_ids(), ["undp"]);
        assert!(index.booth("itu").is_none());
    }
}
