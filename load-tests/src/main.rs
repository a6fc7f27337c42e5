//! The `plenary-load` binary: parses the command line and runs one scenario.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use plenary_load::conn::Target;
use plenary_load::probe::Probe;
use plenary_load::scenarios::{churn, expo, fanout, idle, join_storm, qa_storm, stage};
use plenary_load::tokens::TokenSource;
use plenary_load::{Context, report::Report};

/// Load generator for Plenary nodes.
///
/// Opens many protocol-speaking WebSocket clients against one or more nodes (round-robin),
/// runs a scenario, and prints a summary table (or one JSON line with --json). Every run
/// stops by itself. Tokens are minted from the node's secret (--secret, PLENARY_JWT_SECRET,
/// or the development secret in .plenary/dev-secret) or read from --token-file.
///
/// For event rates above the default chat limits, start the node with raised limits, e.g.
/// PLENARY_CHAT_PER_MINUTE=1000000 PLENARY_CHAT_BURST=100000 PLENARY_COMMANDS_PER_SECOND=100000
/// PLENARY_COMMAND_BURST=100000.
#[derive(Debug, Parser)]
#[command(name = "plenary-load", version, max_term_width = 110)]
struct Cli {
    /// Node WebSocket URL; repeat (or separate with commas) to spread clients over nodes.
    #[arg(
        long = "url",
        env = "PLENARY_LOAD_URLS",
        value_delimiter = ',',
        default_value = "ws://127.0.0.1:8080/ws",
        global = true
    )]
    urls: Vec<String>,
    /// The node's HS256 secret, to mint tokens.
    #[arg(long, env = "PLENARY_JWT_SECRET", hide_env_values = true, global = true)]
    secret: Option<String>,
    /// A file of ready tokens, one per line (the first is used for moderators).
    #[arg(long, global = true, conflicts_with = "secret")]
    token_file: Option<PathBuf>,
    /// `aud` claim for minted tokens, when the node requires one.
    #[arg(long, env = "PLENARY_JWT_AUDIENCE", global = true)]
    audience: Option<String>,
    /// `iss` claim for minted tokens, when the node requires one.
    #[arg(long, env = "PLENARY_JWT_ISSUER", global = true)]
    issuer: Option<String>,
    /// New connections per second.
    #[arg(long, default_value_t = 2000.0, global = true)]
    connect_rate: f64,
    /// PID of the node, when it runs on this machine: its CPU and memory are reported.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// Print one JSON line instead of the table.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars.
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// N viewers in one session; a moderator and chatters produce stage and chat events at
    /// R events/s. Reports delivery latency (p50/p90/p99/max over every delivery), loss and
    /// deliveries per second.
    Keynote(fanout::KeynoteArgs),
    /// N clients join one session within T seconds. Reports join-to-snapshot latency and
    /// attendance messages per client.
    JoinStorm(join_storm::JoinStormArgs),
    /// K chatters in a room of N. Reports accepted vs rate-limited messages and fan-out
    /// latency.
    ChatStorm(fanout::ChatStormArgs),
    /// N idle joined connections. Reports the node's memory per connection (needs
    /// --server-pid) and the connect rate.
    Idle(idle::IdleArgs),
    /// Workers looping connect, hello, join, leave, close. Reports cycles per second and
    /// cycle latency.
    Churn(churn::ChurnArgs),
    /// A moderated Q&A: N viewers, askers, two moderators racing to approve, voters.
    /// Reports approval-to-viewer latency, vote latency and whether the counts are exact.
    QaStorm(qa_storm::QaStormArgs),
    /// The virtual exhibition: visitors moving between booths, staff toggling status and
    /// accepting requests, the hall's counts checked at rest.
    Expo(expo::ExpoArgs),
    /// The WebRTC stage: a bot speaker (three VP8 layers and Opus) and N bot viewers
    /// through the node's SFU. Reports frames per viewer, loss, latency, bytes out and CPU.
    Stage(stage::StageArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let tokens = match (&cli.token_file, &cli.secret) {
        (Some(path), _) => TokenSource::from_file(path)?,
        (None, Some(secret)) => TokenSource::from_secret(secret, cli.audience.clone(), cli.issuer.clone())?,
        (None, None) => {
            let secret = std::fs::read_to_string(".plenary/dev-secret")
                .context("no --secret, --token-file or .plenary/dev-secret (the development node's secret)")?;
            TokenSource::from_secret(secret.trim(), cli.audience.clone(), cli.issuer.clone())?
        }
    };
    let ctx = Context {
        target: Arc::new(Target::new(cli.urls.clone())?),
        tokens: Arc::new(tokens),
        connect_rate: cli.connect_rate,
        probe: cli.server_pid.map(Probe::new).transpose()?,
        progress: !cli.quiet && !cli.json,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report: Report = runtime.block_on(async {
        match &cli.scenario {
            Scenario::Keynote(args) => fanout::keynote(&ctx, args).await,
            Scenario::JoinStorm(args) => join_storm::run(&ctx, args).await,
            Scenario::ChatStorm(args) => fanout::chat_storm(&ctx, args).await,
            Scenario::Idle(args) => idle::run(&ctx, args).await,
            Scenario::Churn(args) => churn::run(&ctx, args).await,
            Scenario::QaStorm(args) => qa_storm::run(&ctx, args).await,
            Scenario::Expo(args) => expo::run(&ctx, args).await,
            Scenario::Stage(args) => stage::run(&ctx, args).await,
        }
    })?;
    if cli.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}
