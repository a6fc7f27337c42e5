//! The sessions of the programme, held in memory for the hot paths: a `join` checks the
//! session exists and a room takes its stage title from it without a database query.
//! Rebuilt from the store after every programme write.

use std::collections::HashMap;
use std::sync::RwLock;

use super::model::Session;

#[derive(Debug, Default)]
pub struct SessionIndex {
    titles: RwLock<HashMap<String, String>>,
}

impl SessionIndex {
    pub fn new(sessions: &[Session]) -> SessionIndex {
        let index = SessionIndex::default();
        index.replace(sessions);
        index
    }

    /// Replaces the index with `sessions`.
    pub fn replace(&self, sessions: &[Session]) {
        let titles = sessions.iter().map(|s| (s.id.clone(), s.title.clone())).collect();
        *self.titles.write().expect("index lock") = titles;
    }

    /// The title of session `id`, if the programme has it.
    pub fn title(&self, id: &str) -> Option<String> {
        self.titles.read().expect("index lock").get(id).cloned()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.titles.read().expect("index lock").contains_key(id)
    }
}
