//! `cluster`: Usher's scale-out proof (issue 16).
//!
//! `cluster suite` starts a throwaway PostgreSQL, the embedded S3 server, an
//! SMTP sink, three replicas of the release `usher` binary sharing one
//! settings file, and Debian's HAProxy in front of them; then it runs the
//! scenarios in [`scenarios`] and prints a summary. It exits non-zero on any
//! lost acknowledged write, any 500 and any invariant broken across replicas.
//!
//! `cluster up` starts the same cluster and keeps it running until Ctrl-C,
//! for trying it by hand.
//!
//! The binary under test is `$USHER_BIN` (default `target/release/usher`).

mod api;
mod cluster;
mod load;
mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "suite".to_owned());
    let result = match command.as_str() {
        "suite" => suite().await,
        "up" => up().await,
        _ => {
            eprintln!("usage: cluster [suite|up]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cluster: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The release binary under test.
fn usher_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("USHER_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/usher"), PathBuf::from);
    anyhow::ensure!(
        path.exists(),
        "{} does not exist: `cargo build --release --bin usher` first, or set USHER_BIN",
        path.display()
    );
    Ok(path)
}

async fn suite() -> anyhow::Result<ExitCode> {
    let mut cluster = cluster::Cluster::prepare(usher_binary()?).await?;
    println!("cluster: logs and settings in {}", cluster.dir().display());
    // Interrupted (Ctrl-C, or CI's timeout), return so that dropping the
    // cluster stops every process it started.
    let outcome = tokio::select! {
        outcome = scenarios::run(&mut cluster) => outcome,
        signal = interrupted() => Err(anyhow::anyhow!("{signal} received; stopping the cluster")),
    };
    let keep = std::env::var_os("CLUSTER_KEEP_LOGS").is_some();
    let report = match outcome {
        Ok(report) => report,
        Err(e) => {
            print_logs(&cluster, keep);
            return Err(e);
        }
    };
    report.print();
    if report.passed() {
        Ok(ExitCode::SUCCESS)
    } else {
        print_logs(&cluster, keep);
        Ok(ExitCode::FAILURE)
    }
}

/// On failure, the end of every replica's log (and HAProxy's), or where to find them.
fn print_logs(cluster: &cluster::Cluster, keep: bool) {
    for i in 0..cluster.replicas.len() {
        let log = std::fs::read_to_string(cluster.log(i)).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        eprintln!("--- last lines of {} ---", cluster.log(i).display());
        for line in tail.iter().rev() {
            eprintln!("{line}");
        }
    }
    if keep {
        let kept = cluster.dir().with_extension("kept");
        let _ = std::fs::remove_dir_all(&kept);
        let copied = std::process::Command::new("cp").arg("-r").arg(cluster.dir()).arg(&kept).status();
        if copied.is_ok_and(|s| s.success()) {
            eprintln!("logs kept in {}", kept.display());
        }
    }
}

async fn up() -> anyhow::Result<ExitCode> {
    let mut cluster = cluster::Cluster::prepare(usher_binary()?).await?;
    cluster.start_all().await?;
    cluster.wait_proxy(&[0, 1, 2], std::time::Duration::from_secs(30)).await?;
    println!("three replicas behind HAProxy at {}", cluster.proxy);
    for (i, replica) in cluster.replicas.iter().enumerate() {
        println!("  {} at {} (log {})", replica.name, replica.url(), cluster.log(i).display());
    }
    println!("database: {}", cluster.database_url());
    let token = api::token(cluster::ROOT);
    println!("a superuser ({}), for an hour:\n  export TOKEN={token}", cluster::ROOT);
    println!("  curl -s -X POST {}/user/get -H \"Authorization: Bearer $TOKEN\"", cluster.proxy);
    println!("  the dashboard: {}/dashboard/#token={token}", cluster.proxy);
    println!("Ctrl-C stops everything.");
    interrupted().await;
    Ok(ExitCode::SUCCESS)
}

/// Waits for SIGINT or SIGTERM and names it.
async fn interrupted() -> &'static str {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return "SIGINT";
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
