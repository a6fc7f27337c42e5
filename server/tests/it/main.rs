//! Integration tests of the node over real WebSockets: one binary, each test on its own
//! server on port 0.

mod auth;
mod binary;
mod http;
mod limits;
mod multinode;
mod resume;
mod rooms;
mod session;
mod shutdown;
mod storm;
mod support;
