//! The `plenary` binary: runs a node (the default) or mints a token.

use std::time::Duration;

use clap::{Parser, Subcommand};
use plenary_proto::Role;
use plenary_server::Application;
use plenary_server::auth::{Minter, TokenRequest};
use plenary_server::config::{Settings, SettingsArgs};

/// Plenary: a real-time virtual forum node (live sessions, chat, Q&A, polls, an exhibition).
///
/// With no configuration it serves a development event on http://127.0.0.1:8080 and prints
/// a moderator and organiser link. Its data lives in the data directory (--data-dir,
/// PLENARY_DATA_DIR, default `.plenary/`): the programme and the record in `plenary.db`
/// (SQLite) and the development secret in `dev-secret`. DATABASE_URL=postgres://... keeps
/// the programme and record in PostgreSQL instead, DATABASE_URL=memory nowhere (nothing
/// survives a restart); REDIS_URL=redis://... joins the other nodes on that Redis.
#[derive(Debug, Parser)]
#[command(name = "plenary", version, max_term_width = 110)]
struct Cli {
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node (what `plenary` with no command does).
    Serve,
    /// Mint a token signed with the configured secret (or the development secret).
    Token(TokenArgs),
    /// Load the demo event into the configured database (records with the same ids are
    /// updated).
    Demo,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The user id (`sub`).
    #[arg(long)]
    sub: String,
    /// The display name.
    #[arg(long)]
    name: String,
    /// A role: attendee, speaker, exhibitor, moderator or organiser; repeat for several.
    #[arg(long = "role", value_parser = parse_role, default_value = "attendee")]
    roles: Vec<Role>,
    /// ISO 3166-1 alpha-2 country code.
    #[arg(long)]
    country: Option<String>,
    /// A scope such as `moderate:session:opening`; repeat for several.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Lifetime, e.g. 30m, 8h, 2days.
    #[arg(long, default_value = "8h", value_parser = humantime::parse_duration)]
    ttl: Duration,
}

/// mimalloc instead of the system allocator: connection churn and fan-out allocate many
/// small, short-lived objects across threads, where glibc's malloc spent a seventh of the
/// node's CPU time (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).ok_or_else(|| format!("unknown role {value:?}"))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(&cli.settings)?;
    match cli.command {
        None | Some(Command::Serve) => serve(settings),
        Some(Command::Demo) => {
            let url =
                settings.database().ok_or_else(|| anyhow::anyhow!("database_url is memory: nothing to load into"))?;
            if settings.database_url.is_none() {
                std::fs::create_dir_all(&settings.data_dir)?;
            }
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let store = plenary_server::store::SqlStore::open(&url).await?;
                let summary = plenary_server::load_demo(&store).await?;
                store.close().await;
                println!(
                    "Loaded the demo event: {} tracks, {} speakers, {} sessions, {} booths.",
                    summary.tracks, summary.speakers, summary.sessions, summary.booths
                );
                Ok(())
            })
        }
        Some(Command::Token(args)) => {
            let minter = minter(&settings)?;
            let (token, _) = minter.mint(&TokenRequest {
                sub: args.sub,
                name: args.name,
                roles: args.roles,
                country: args.country,
                scopes: args.scopes,
                ttl: args.ttl,
            })?;
            println!("{token}");
            // On stderr, so `TOKEN=$(plenary token ...)` still captures the token alone.
            if let Some(jti) = plenary_server::auth::token_id(&token) {
                eprintln!("token id (revoke with POST /api/tokens/revoke {{\"jti\": \"{jti}\"}}): {jti}");
            }
            Ok(())
        }
    }
}

fn minter(settings: &Settings) -> anyhow::Result<Minter> {
    let secret = match &settings.jwt_secret {
        Some(secret) => secret.clone(),
        None if settings.is_development() => {
            plenary_server::auth::load_or_create_dev_secret(&settings.data_dir.join("dev-secret"))?
        }
        None => anyhow::bail!("no jwt_secret is configured: tokens for public keys are minted by their issuer"),
    };
    Minter::new(settings, &secret)
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    // Logs go to stderr (stdout carries the lines printed for the person who started the
    // node), coloured only on a terminal.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PLENARY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let development = settings.is_development();
        let app = Application::build(settings).await?;
        let state = app.state().clone();
        let url = state.settings.public_url();
        announce(format_args!("Plenary is serving on {url} (WebSocket: {}/ws)", url.replace("http", "ws")));
        if development && let Some(minter) = &state.minter {
            let (token, _) = minter.mint(&TokenRequest {
                sub: "dev-moderator".into(),
                name: "Development Moderator".into(),
                roles: vec![Role::Moderator, Role::Organiser],
                country: None,
                scopes: Vec::new(),
                ttl: Duration::from_secs(12 * 3600),
            })?;
            announce(format_args!(
                "Development mode: secret in {}",
                state.settings.data_dir.join("dev-secret").display()
            ));
            announce(format_args!("Open {url}/ to join the event as a guest."));
            announce(format_args!("Moderator and organiser link (12 h): {url}/?token={token}"));
        }
        app.run_until(shutdown_signal()).await
    })
}

/// Prints a line for the person who started the node. A closed stdout (a supervisor that
/// stopped reading) must not take the node down, as `println!` would.
fn announce(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
