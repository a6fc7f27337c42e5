//! Domain rules with no IO: each module takes a command or an observation and returns a
//! decision, and is tested as plain functions. The room actor (`hub::room`) calls them.

pub mod analytics;
pub mod attendance;
pub mod booth;
pub mod booth_views;
pub mod chat;
pub mod identity;
pub mod page;
pub mod people;
pub mod permissions;
pub mod poll;
pub mod qa;
pub mod qa_views;
pub mod rate;
pub mod replay;
pub mod stage;
pub mod text;
