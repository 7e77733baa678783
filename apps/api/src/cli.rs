//! The `usher` command line: `serve` (the default), `migrate`, `token`,
//! `users promote` and `config`.

use crate::auth::mint_local_token;
use crate::settings::Settings;
use crate::startup::{Application, connect_database, user_service};
use clap::{Parser, Subcommand};
use shared_kernel::EmailAddress;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Usher: users, verification and organization membership.
#[derive(Debug, Parser)]
#[command(name = "usher", version, about)]
pub struct Cli {
    /// Settings file (default: ./usher.toml when it exists).
    #[arg(long, global = true, env = "USHER_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a short-lived token for local use (HS256 only).
    Token {
        /// E-mail of the user to sign in as (created on first use).
        #[arg(long)]
        email: String,
        /// Display name for a new user.
        #[arg(long)]
        name: Option<String>,
        /// Lifetime in seconds (default: auth.local_token_ttl_seconds).
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Manage users.
    Users {
        /// The user command.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Print the effective settings, secrets redacted.
    Config,
}

/// `usher users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Make the user with this e-mail a superuser.
    Promote {
        /// The user's e-mail.
        email: String,
    },
}

/// Parses the command line, runs the command and returns the exit code.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("usher: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(settings.log_format);
    match run(cli.command.unwrap_or(Command::Serve), settings).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = ?e, "usher failed");
            eprintln!("usher: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => {
            Application::build(settings).await?.run_until_stopped().await?;
        }
        Command::Migrate => {
            connect_database(&settings).await?.close().await;
            println!("database is up to date");
        }
        Command::Token { email, name, ttl } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let ttl = Duration::from_secs(ttl.unwrap_or(settings.auth.local_token_ttl_seconds));
            let token = mint_local_token(&settings, &email, name.as_deref(), ttl)?;
            let base = settings.public_url(settings.server.addr);
            // The token alone on stdout, so `TOKEN=$(usher token --email …)` works.
            println!("{token}");
            eprintln!("\nSigned in as {email} for {} s. Try:", ttl.as_secs());
            eprintln!("  curl -X POST -H \"Authorization: Bearer $TOKEN\" {base}/user/get");
            eprintln!("Dashboard: {base}/dashboard/#token={token}");
        }
        Command::Users { command: UsersCommand::Promote { email } } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let db = connect_database(&settings).await?;
            let changed = user_service(&settings, &db)?.promote(&email).await;
            db.close().await;
            match changed? {
                0 => {
                    eprintln!(
                        "usher: no user has the e-mail {email} yet; they must sign in once first, \
                         or add it to auth.bootstrap_superusers"
                    );
                    return Ok(ExitCode::FAILURE);
                }
                n => println!("{email} is now a superuser ({n} account{})", if n == 1 { "" } else { "s" }),
            }
        }
        Command::Config => print!("{}", settings.to_redacted_toml()),
    }
    Ok(ExitCode::SUCCESS)
}
