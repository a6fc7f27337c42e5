//! Integration tests of the node over real WebSockets: one binary, each test on its own
//! server on port 0.

mod api;
mod auth;
mod binary;
mod booths;
mod bounded;
mod bus;
mod calls;
mod databases;
mod durability;
mod green;
mod http;
mod limits;
mod multinode;
mod polls;
mod qa;
mod redis;
mod redis_support;
mod refusals;
mod resume;
mod revocation;
mod rooms;
mod session;
mod shutdown;
mod stage_media;
mod store;
mod storm;
mod support;
mod text_rules;
mod tidy;
mod turn;
mod webrtc;
