//! The sessions of the programme, held in memory for the hot paths: a `join` checks the
//! session exists and a room takes its stage title from it without a database query.
//! Rebuilt from the store after every programme write.

use std::collections::HashMap;
use std::sync::RwLock;

use super::model::{QaSettings, Session};

#[derive(Debug, Default)]
pub struct SessionIndex {
    sessions: RwLock<HashMap<String, (String, QaSettings)>>,
}

impl SessionIndex {
    pub fn new(sessions: &[Session]) -> SessionIndex {
        let index = SessionIndex::default();
        index.replace(sessions);
        index
    }

    /// Replaces the index with `sessions`.
    pub fn replace(&self, sessions: &[Session]) {
        let index = sessions.iter().map(|s| (s.id.clone(), (s.title.clone(), s.qa))).collect();
        *self.sessions.write().expect("index lock") = index;
    }

    /// The title of session `id`, if the programme has it.
    pub fn title(&self, id: &str) -> Option<String> {
        self.sessions.read().expect("index lock").get(id).map(|(title, _)| title.clone())
    }

    /// The Q&A settings of session `id`, if the programme has it.
    pub fn qa(&self, id: &str) -> Option<QaSettings> {
        self.sessions.read().expect("index lock").get(id).map(|(_, qa)| *qa)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.sessions.read().expect("index lock").contains_key(id)
    }
}
