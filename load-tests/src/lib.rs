//! `plenary-load`: drives Plenary nodes with thousands of protocol-speaking clients and
//! measures what they see.
//!
//! - [`conn`]: one client connection speaking the real protocol (`plenary-proto` types),
//!   the round-robin [`conn::Target`] over node URLs and the connect [`conn::Pacer`].
//! - [`tokens`]: tokens minted from a shared secret or read from a file.
//! - [`stats`]: latency histograms (HdrHistogram) shared by many client tasks.
//! - [`probe`]: the server's CPU and memory, read from `/proc/<pid>`.
//! - [`report`]: the summary table and the `--json` line.
//! - [`scenarios`]: one module per scenario; each builds a [`report::Report`].
//!
//! Every loop is bounded in count and time; the tool only connects to the URLs it is
//! given (loopback by default).

pub mod conn;
pub mod probe;
pub mod report;
pub mod scenarios;
pub mod stats;
pub mod tokens;

use std::sync::Arc;

/// What every scenario needs: where to connect, how to get tokens, how fast to connect.
#[derive(Debug, Clone)]
pub struct Context {
    pub target: Arc<conn::Target>,
    pub tokens: Arc<tokens::TokenSource>,
    /// New connections per second, across all clients of a run.
    pub connect_rate: f64,
    pub probe: Option<probe::Probe>,
    /// Show progress bars on stderr.
    pub progress: bool,
}
