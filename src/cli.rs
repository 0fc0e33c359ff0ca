//! Command line: `gitomatic migrate | web | worker | scheduler | dev | backfill | token create NAME`.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::Config;
use crate::context::AppContext;
use tokio::sync::watch;

use crate::domain::FullName;
use crate::jobs::{BackgroundJob, Registry, RepositoryActivitySync, Schedule};
use crate::{api, db, jobs, scheduler, telemetry, tokens, worker};

/// GitHub developer and repository discovery service.
///
/// Configuration comes from the environment (DATABASE_URL, AMQP_URL, QUEUE_PREFIX, BIND,
/// PORT, PUBLIC_URL, GITHUB_API_URL, GITHUB_TOKEN, GITHUB_TOKENS, GITHUB_QUOTA_RESERVE,
/// GITHUB_GRAPHQL_RESERVE, GITHUB_GRAPHQL, GITHUB_GRAPHQL_BATCH, GITHUB_MAX_RPS,
/// DISCOVERY_BATCH, RECONCILE_DAYS, API_READ_AUTH, WORKER_CONCURRENCY, TASK_LEASE_SECS,
/// TASK_RETRY_SECS, WEB_STATEMENT_TIMEOUT_MS, GITHUB_WEBHOOK_SECRET, RUST_LOG, and the
/// schedules below); see the README.
#[derive(Debug, Parser)]
#[command(name = "gitomatic", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations (idempotent).
    Migrate,
    /// Serve the REST API on BIND (or 0.0.0.0:$PORT).
    Web,
    /// Consume jobs from RabbitMQ and run them (WORKER_CONCURRENCY at a time).
    Worker,
    /// Enqueue the jobs of each cron entry (DISCOVERY_CRON, ...) and republish stranded tasks.
    Scheduler,
    /// Run web, worker and scheduler in one process, for local use.
    Dev,
    /// Track a repository (if needed) and enqueue its history as monthly
    /// repository_activity_sync tasks; prints each task's URL.
    Backfill {
        /// The repository, `owner/name`.
        #[arg(long)]
        repo: String,
        /// First day of the history, `YYYY-MM-DD`.
        #[arg(long)]
        since: chrono::NaiveDate,
        /// Day after the last one, `YYYY-MM-DD` (default: tomorrow, so today is included).
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
    },
    /// Manage API tokens (needed for writes such as POST /github/tasks/).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; prints it alone on the last line of stdout (only its hash is stored).
    Create {
        /// A label saying who or what uses the token.
        name: String,
    },
}

/// Parses the command line, validates the environment and runs the subcommand.
pub async fn run() -> anyhow::Result<()> {
    let schedules = Registry::builtin().schedules();
    let command = Cli::command();
    let about = command.get_long_about().map(ToString::to_string);
    let command = command.long_about(with_schedules(about.unwrap_or_default(), &schedules));
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|error| error.exit());
    let config = Config::from_env(&schedules)?;
    telemetry::init();
    match cli.command {
        Command::Migrate => migrate(&config).await,
        Command::Web => run_roles(config, &[Role::Web]).await,
        Command::Worker => run_roles(config, &[Role::Worker]).await,
        Command::Scheduler => run_roles(config, &[Role::Scheduler]).await,
        Command::Dev => run_roles(config, &[Role::Web, Role::Worker, Role::Scheduler]).await,
        Command::Backfill { repo, since, until } => backfill(config, &repo, since, until).await,
        Command::Token {
            command: TokenCommand::Create { name },
        } => create_token(config, &name).await,
    }
}

/// The help text followed by the job kinds' schedules: variable, default and what it
/// schedules.
fn with_schedules(about: String, schedules: &[Schedule]) -> String {
    let mut text = about;
    text.push_str("\n\nSchedules (6-field cron expressions, seconds first, or `off`):");
    for schedule in schedules {
        text.push_str(&format!(
            "\n  {} (default `{}`): {}",
            schedule.variable, schedule.default, schedule.description
        ));
    }
    text
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let applied = db::run_pending_migrations(&config.database_url).await?;
    if applied.is_empty() {
        println!("database is up to date");
    } else {
        for version in &applied {
            println!("applied migration {version}");
        }
    }
    Ok(())
}

/// A long-running part of gitomatic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Web,
    Worker,
    Scheduler,
}

/// Runs the given roles in this process until SIGTERM / Ctrl-C, then stops them gracefully.
async fn run_roles(config: Config, roles: &[Role]) -> anyhow::Result<()> {
    db::ensure_migrated(&config.database_url).await?;
    let listener = if roles.contains(&Role::Web) {
        let bind = config.bind;
        Some(
            TcpListener::bind(bind)
                .with_context(|| format!("cannot listen on {bind} (BIND/PORT)"))?,
        )
    } else {
        None
    };
    let ctx = AppContext::new(config)?;
    let registry = Arc::new(Registry::builtin());
    let (stop, stopped) = watch::channel(false);
    let mut running = tokio::task::JoinSet::new();
    if let Some(listener) = listener {
        let address = listener.local_addr()?;
        let server = api::serve(ctx.clone(), registry.clone(), listener)?;
        let handle = server.handle();
        let mut stopped = stopped.clone();
        tracing::info!(address = %address, "web: serving the API");
        running.spawn(async move {
            tokio::select! {
                result = server => result.context("web server failed"),
                _ = stopped.changed() => {
                    handle.stop(true).await;
                    Ok(())
                }
            }
        });
    }
    if roles.contains(&Role::Worker) {
        let (ctx, registry, stopped) = (ctx.clone(), registry.clone(), stopped.clone());
        running.spawn(async move {
            worker::run(ctx, registry, stopped).await;
            Ok(())
        });
    }
    if roles.contains(&Role::Scheduler) {
        let (ctx, registry, stopped) = (ctx.clone(), registry.clone(), stopped.clone());
        running.spawn(scheduler::run(ctx, registry, stopped));
    }
    let mut outcome = Ok(());
    tokio::select! {
        () = shutdown_signal() => tracing::info!("shutting down"),
        Some(result) = running.join_next() => {
            outcome = result.context("a role panicked").and_then(|r| r);
        }
    }
    let _ = stop.send(true);
    while let Some(result) = running.join_next().await {
        if let Err(error) = result.context("a role panicked").and_then(|r| r) {
            tracing::error!(error = %format!("{error:#}"), "role failed while stopping");
        }
    }
    outcome
}

async fn backfill(
    config: Config,
    repo: &str,
    since: chrono::NaiveDate,
    until: Option<chrono::NaiveDate>,
) -> anyhow::Result<()> {
    let full_name = FullName::parse(repo).map_err(|error| anyhow::anyhow!("--repo: {error}"))?;
    let until = until.unwrap_or_else(|| chrono::Utc::now().date_naive() + chrono::Days::new(1));
    anyhow::ensure!(
        since < until,
        "--since ({since}) must be before --until ({until})"
    );
    db::ensure_migrated(&config.database_url).await?;
    let links = api::links::Links::without_request(&config);
    let ctx = AppContext::new(config)?;
    let (tracked, new) =
        db::queries::tracked::track_repository(&mut *ctx.conn().await?, full_name.as_str(), None)
            .await?;
    if new {
        println!("tracking {}", tracked.full_name);
    }
    let windows = RepositoryActivitySync::backfill(&full_name, since, until);
    for job in &windows {
        let (task, _) = jobs::enqueue(&ctx, &job.to_task()?).await?;
        println!("{}", links.task(task.id));
    }
    eprintln!(
        "{} monthly repository_activity_sync tasks for {full_name} from {since} to {until}",
        windows.len()
    );
    Ok(())
}

async fn create_token(config: Config, name: &str) -> anyhow::Result<()> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 100,
        "the token NAME must be 1-100 characters"
    );
    db::ensure_migrated(&config.database_url).await?;
    let ctx = AppContext::new(config)?;
    let token = tokens::generate();
    db::queries::tokens::insert(&mut *ctx.conn().await?, name, &token.hash).await?;
    println!("created API token {name:?}; it is shown once, store it now:");
    println!("{}", token.secret);
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
