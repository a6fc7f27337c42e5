//! The programme: the event, tracks, sessions, speakers, booths and role grants
//! ([`model`]), their importers ([`import`]) and the demo event ([`demo`]).

pub mod access;
pub mod demo;
pub mod grants;
pub mod import;
pub mod index;
pub mod model;
