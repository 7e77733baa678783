//! The `usher` command line: `serve` (the default), `migrate`, `token`,
//! `users promote`, `import memberships` and `config`.

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
    /// Import legacy data.
    Import {
        /// What to import.
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Print the effective settings, secrets redacted.
    Config,
}

/// `usher import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Memberships from JSON lines `{"organization", "email", "role", "joinedAt"}`
    /// (FiO "Case 1"): known users become active members, unknown e-mails get
    /// invitations applied at their first sign-in. Re-running changes nothing.
    Memberships {
        /// The JSON-lines file.
        file: PathBuf,
    },
}

/// One line of a membership import file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ImportRecord {
    organization: String,
    email: String,
    role: shared_kernel::OrgRole,
    #[serde(with = "time::serde::rfc3339")]
    joined_at: time::OffsetDateTime,
}

/// Parses a JSON-lines import file; every bad line is reported with its number.
pub fn parse_import(text: &str) -> Result<Vec<invitations::ImportLine>, Vec<String>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (n, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let parsed = serde_json::from_str::<ImportRecord>(raw).map_err(|e| e.to_string()).and_then(|r| {
            let email = EmailAddress::parse(&r.email).map_err(|e| format!("email: {e}"))?;
            if r.organization.trim().is_empty() {
                return Err("organization: empty".to_owned());
            }
            Ok(invitations::ImportLine {
                organization: r.organization.trim().to_owned(),
                email,
                role: r.role,
                joined_at: shared_kernel::truncate_to_micros(r.joined_at),
            })
        });
        match parsed {
            Ok(line) => lines.push(line),
            Err(e) => errors.push(format!("line {}: {e}", n + 1)),
        }
    }
    if errors.is_empty() { Ok(lines) } else { Err(errors) }
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
        Command::Import { command: ImportCommand::Memberships { file } } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let lines = match parse_import(&text) {
                Ok(lines) => lines,
                Err(errors) => {
                    // Nothing is imported from a file with a bad line.
                    for e in errors {
                        eprintln!("usher: {}: {e}", file.display());
                    }
                    return Ok(ExitCode::from(2));
                }
            };
            let db = connect_database(&settings).await?;
            let orgs = invitations::OrganizationService::new(
                std::sync::Arc::new(adapter_sql::SqlOrganizationRepository::new(db.clone())),
                std::sync::Arc::new(shared_kernel::SystemClock),
            );
            let outcomes = orgs.import(&lines, &invitations::OsTokenGenerator).await;
            db.close().await;
            let outcomes = outcomes?;
            let count = |o: invitations::ImportOutcome| outcomes.iter().filter(|x| **x == o).count();
            for (line, outcome) in lines.iter().zip(&outcomes) {
                if *outcome == invitations::ImportOutcome::UnknownOrganization {
                    eprintln!("usher: no organization {:?} (for {})", line.organization, line.email);
                }
            }
            println!(
                "{} joined, {} invited (applied at first sign-in), {} unchanged, {} unknown organization",
                count(invitations::ImportOutcome::Joined),
                count(invitations::ImportOutcome::Invited),
                count(invitations::ImportOutcome::Unchanged),
                count(invitations::ImportOutcome::UnknownOrganization),
            );
            if count(invitations::ImportOutcome::UnknownOrganization) > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Config => print!("{}", settings.to_redacted_toml()),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_lines_parse_and_bad_lines_are_reported_by_number() {
        let ok = "{\"organization\": \"Fio\", \"email\": \" Bob@X.io \", \"role\": \"moderator\", \"joinedAt\": \"2024-01-02T03:04:05Z\"}\n\n";
        let lines = parse_import(ok).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].email.as_str(), "bob@x.io");
        assert_eq!(lines[0].role, shared_kernel::OrgRole::Moderator);
        let bad = format!(
            "{ok}{{\"organization\": \"Fio\", \"email\": \"nope\", \"role\": \"member\", \"joinedAt\": \"2024-01-02T03:04:05Z\"}}\n{{\"organization\": \"Fio\"}}"
        );
        let errors = parse_import(&bad).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].starts_with("line 3: email"), "{errors:?}");
        assert!(errors[1].starts_with("line 4:"), "{errors:?}");
    }
}
