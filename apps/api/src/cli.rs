//! The `usher` command line: `serve` (the default), `migrate`, `token`,
//! `users promote`, `import memberships` and `config`.

use crate::auth::mint_local_token;
use crate::settings::Settings;
use crate::startup::{Application, connect_database, organization_services, user_service};
use clap::{Parser, Subcommand};
use organizations::{ImportOutcome, Pending};
use shared_kernel::{EmailAddress, SystemClock, UserId};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use users::Promotion;

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
    /// Print the OpenAPI document (what `/openapi.json` serves) and exit.
    Openapi,
}

/// `usher import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Memberships from JSON lines `{"organization", "email", "role", "joinedAt"}`
    /// (FiO "Case 1"): the one account that has the e-mail verified becomes
    /// an active member; otherwise the line waits as an invitation, applied
    /// when exactly one account has the e-mail verified. Prints what each
    /// line did. Re-running changes nothing; a bad line imports nothing.
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
pub fn parse_import(text: &str) -> Result<Vec<organizations::ImportLine>, Vec<String>> {
    numbered_import(text).map(|lines| lines.into_iter().map(|(_, line)| line).collect())
}

/// [`parse_import`] with each line's number in the file (blank lines skipped).
pub fn numbered_import(text: &str) -> Result<Vec<(usize, organizations::ImportLine)>, Vec<String>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (n, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let parsed = serde_json::from_str::<ImportRecord>(raw).map_err(|e| e.to_string()).and_then(|r| {
            let email = EmailAddress::parse(&r.email).map_err(|e| format!("email: {e}"))?;
            if r.organization.trim().is_empty() {
                return Err("organization: empty".to_owned());
            }
            Ok(organizations::ImportLine {
                organization: r.organization.trim().to_owned(),
                email,
                role: r.role,
                joined_at: shared_kernel::truncate_to_micros(r.joined_at),
            })
        });
        match parsed {
            Ok(line) => lines.push((n + 1, line)),
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
            let done = user_service(&settings, &db, Arc::new(SystemClock))?.promote(&email).await;
            db.close().await;
            let done = done?;
            if done.is_empty() {
                eprintln!(
                    "usher: no user has the e-mail {email} yet; they must sign in once first, \
                     or add it to auth.bootstrap_superusers"
                );
                return Ok(ExitCode::FAILURE);
            }
            // One line per account: e-mails are not unique, and only a verified one is trusted.
            for (user, promotion) in &done {
                let what = match promotion {
                    Promotion::Promoted => "is now a superuser",
                    Promotion::AlreadySuperuser => "was already a superuser",
                    Promotion::Unverified => "not promoted: its e-mail is not verified",
                };
                println!("user {} ({}, subject {}): {what}", user.id, user.username, user.subject);
            }
            if !done.iter().any(|(_, p)| matches!(p, Promotion::Promoted | Promotion::AlreadySuperuser)) {
                eprintln!("usher: no account with the e-mail {email} has it verified; nobody was promoted");
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Import { command: ImportCommand::Memberships { file } } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let (numbers, lines): (Vec<usize>, Vec<_>) = match numbered_import(&text) {
                Ok(lines) => lines.into_iter().unzip(),
                Err(errors) => {
                    // Nothing is imported from a file with a bad line.
                    for e in errors {
                        eprintln!("usher: {}: {e}", file.display());
                    }
                    return Ok(ExitCode::from(2));
                }
            };
            let db = connect_database(&settings).await?;
            let public_url = settings.public_url(settings.server.addr);
            let (_, invitations) = organization_services(&settings, &db, Arc::new(SystemClock), &public_url)?;
            let reports = invitations.import(&lines, &organizations::OsTokenGenerator).await;
            db.close().await;
            let reports = reports?;
            let mut unknown = 0;
            for ((n, line), report) in numbers.iter().zip(&lines).zip(&reports) {
                let org = report.organization.as_ref().map_or(line.organization.as_str(), |o| o.name.as_str());
                let what = match &report.outcome {
                    ImportOutcome::Joined(user) => format!("joined {org} as {} (user {user})", line.role),
                    ImportOutcome::Invited(Pending::NoAccount) => {
                        format!("invited to {org}: no account yet; joins at its first sign-in with the e-mail verified")
                    }
                    ImportOutcome::Invited(Pending::Unverified(users)) => format!(
                        "invited to {org}: account{} {} ha{} not verified the e-mail; joins once one has",
                        if users.len() == 1 { "" } else { "s" },
                        list(users),
                        if users.len() == 1 { "s" } else { "ve" },
                    ),
                    ImportOutcome::Invited(Pending::Ambiguous(users)) => format!(
                        "invited to {org}: accounts {} all have the e-mail verified; the first to accept the invitation joins",
                        list(users)
                    ),
                    ImportOutcome::Unchanged => format!("unchanged in {org} (imported before, or already a member)"),
                    ImportOutcome::Refused(refusal) => format!("not imported into {org}: {refusal}"),
                    ImportOutcome::UnknownOrganization => {
                        unknown += 1;
                        format!("no organization {:?}", line.organization)
                    }
                };
                println!("line {n}: {}: {what}", line.email);
            }
            let count = |f: fn(&ImportOutcome) -> bool| reports.iter().filter(|r| f(&r.outcome)).count();
            println!(
                "{} joined, {} invited (applied at first verified sign-in), {} unchanged, {} refused, {} unknown organization",
                count(|o| matches!(o, ImportOutcome::Joined(_))),
                count(|o| matches!(o, ImportOutcome::Invited(_))),
                count(|o| matches!(o, ImportOutcome::Unchanged)),
                count(|o| matches!(o, ImportOutcome::Refused(_))),
                unknown,
            );
            if unknown > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Config => print!("{}", settings.to_redacted_toml()),
        Command::Openapi => println!("{}", crate::openapi::document().to_pretty_json()?),
    }
    Ok(ExitCode::SUCCESS)
}

/// `1, 2, 3` for a list of users.
fn list(users: &[UserId]) -> String {
    users.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
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
