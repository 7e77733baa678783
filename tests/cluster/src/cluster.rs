//! The cluster on loopback: a throwaway PostgreSQL, the embedded S3 server,
//! an SMTP sink, a fake of Discord's API, three `usher` processes sharing one settings file (database,
//! secrets, keys) and HAProxy in front of them. Everything it starts it stops:
//! the children are killed when the [`Cluster`] is dropped.

use anyhow::{Context as _, bail};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_support::postgres::PgCluster;
use test_support::s3::S3Server;

/// How many replicas the cluster runs.
pub const REPLICAS: usize = 3;
/// Seconds a replica keeps serving after SIGTERM with `/readyz` at 503:
/// well above HAProxy's detection time (two checks 250 ms apart).
pub const DRAIN_SECONDS: u64 = 2;
/// The pool's acquire timeout: no request may hang longer than this (plus
/// the time to answer) while the database is down.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// Avatar tries per window, as configured: the shared-limit check counts on
/// it, and the photo race uploads 20 images as one user.
pub const AVATAR_TRIES: usize = 25;
/// Discord ids the fake Discord knows (each with an avatar).
pub const DISCORD_IDS: [&str; 3] = ["80351110224678912", "80351110224678913", "80351110224678914"];
/// Invitation previews per client address and minute, as configured.
pub const PREVIEWS_PER_MINUTE: usize = 20;
/// Invitation e-mails one address may receive a day, as configured.
pub const EMAILS_PER_RECIPIENT: usize = 3;
/// The superusers every replica bootstraps.
pub const ROOT: &str = "root@cluster.example";
/// The second superuser (for four eyes and the reviewers' race).
pub const SECOND: &str = "second@cluster.example";
/// The profile encryption key every replica shares (32 bytes, base64).
const PROFILE_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// One `usher` process.
pub struct Replica {
    /// `r1`, `r2`, `r3`: the HAProxy server name too.
    pub name: String,
    /// Its loopback port, the same across restarts.
    pub port: u16,
    child: Option<tokio::process::Child>,
    /// Answered once the process logs that it is serving (migrated and
    /// connected); dropped unanswered when it exits first.
    serving: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Replica {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The running cluster.
pub struct Cluster {
    /// The database server (stopped and restarted by the fault scenarios).
    pub pg: PgCluster,
    /// The mail every replica's outbox sends.
    pub smtp: adapter_smtp::sink::SmtpSink,
    /// The replicas, in HAProxy's order.
    pub replicas: Vec<Replica>,
    /// `http://127.0.0.1:<port>`: HAProxy's frontend.
    pub proxy: String,
    /// Whether HAProxy has each replica in rotation, as its log announces.
    proxied: tokio::sync::watch::Receiver<Vec<ServerState>>,
    /// What the replicas' background jobs logged they did, summed.
    jobs: Arc<tokio::sync::watch::Sender<JobsDone>>,
    haproxy: Option<Child>,
    bin: PathBuf,
    dir: tempfile::TempDir,
    _s3: S3Server,
    _discord: wiremock::MockServer,
}

impl Cluster {
    /// Starts PostgreSQL (with an empty `usher` database), S3, SMTP and
    /// HAProxy, and writes the replicas' shared settings; the replicas
    /// themselves are started by [`Cluster::start_all`].
    pub async fn prepare(bin: PathBuf) -> anyhow::Result<Cluster> {
        let dir = tempfile::Builder::new().prefix("usher-cluster-").tempdir()?;
        let pg = tokio::task::spawn_blocking(PgCluster::start).await??;
        let admin = sea_orm::Database::connect(pg.url("postgres")).await?;
        sea_orm::ConnectionTrait::execute_unprepared(&admin, "CREATE DATABASE usher").await?;
        admin.close().await?;
        let s3 = S3Server::start().await?;
        let smtp = adapter_smtp::sink::SmtpSink::start().await?;
        let discord = fake_discord().await;
        let replicas: Vec<Replica> = (1..=REPLICAS)
            .map(|n| Ok(Replica { name: format!("r{n}"), port: free_port()?, child: None, serving: None }))
            .collect::<anyhow::Result<_>>()?;
        let proxy_port = free_port()?;
        let proxy = format!("http://127.0.0.1:{proxy_port}");
        std::fs::write(
            dir.path().join("usher.toml"),
            settings(&pg.url("usher"), &s3, &smtp.url(), &discord.uri(), &proxy),
        )?;
        std::fs::write(dir.path().join("503.http"), PROXY_503)?;
        std::fs::write(dir.path().join("haproxy.cfg"), haproxy_config(dir.path(), proxy_port, &replicas))?;
        let proxied = listen_to_haproxy(dir.path(), &replicas)?;
        let mut cluster = Cluster {
            pg,
            smtp,
            replicas,
            proxy,
            proxied,
            jobs: Arc::default(),
            haproxy: None,
            bin,
            dir,
            _s3: s3,
            _discord: discord,
        };
        cluster.start_haproxy()?;
        Ok(cluster)
    }

    /// The directory holding the settings, HAProxy's configuration and every log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The database URL the replicas share.
    pub fn database_url(&self) -> String {
        self.pg.url("usher")
    }

    fn start_haproxy(&mut self) -> anyhow::Result<()> {
        let log = File::create(self.dir().join("haproxy.log"))?;
        let child = Command::new(haproxy_binary()?)
            .arg("-db")
            .arg("-f")
            .arg(self.dir().join("haproxy.cfg"))
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting haproxy")?;
        self.haproxy = Some(child);
        Ok(())
    }

    /// Starts every replica at once (on an empty database they race for the
    /// migration lock) and waits until each answers `/readyz` with 200.
    pub async fn start_all(&mut self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        for i in 0..self.replicas.len() {
            self.spawn(i)?;
        }
        for i in 0..self.replicas.len() {
            self.wait_ready(i, Duration::from_secs(120)).await?;
        }
        Ok(started.elapsed())
    }

    /// Starts replica `i`; its log is appended to `r<i>.log` as it comes,
    /// and the line saying it serves answers [`Cluster::wait_ready`].
    pub fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let replica = &self.replicas[i];
        let mut log =
            File::options().create(true).append(true).open(self.dir().join(format!("{}.log", replica.name)))?;
        let mut cmd = tokio::process::Command::new(&self.bin);
        for (key, _) in std::env::vars() {
            if key.starts_with("USHER_") {
                cmd.env_remove(key);
            }
        }
        let mut child = cmd
            .arg("--config")
            .arg(self.dir().join("usher.toml"))
            .env("USHER_SERVER__ADDR", format!("127.0.0.1:{}", replica.port))
            .env("USHER_DATA_DIR", self.dir().join(&replica.name))
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn,usher_api::startup=info,usher_api::background=info")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let stderr = child.stderr.take().context("stderr is piped")?;
        let (serving, ready) = tokio::sync::oneshot::channel();
        let jobs = self.jobs.clone();
        tokio::spawn(async move {
            use std::io::Write as _;
            use tokio::io::AsyncBufReadExt as _;
            let mut serving = Some(serving);
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = writeln!(log, "{line}");
                jobs.send_if_modified(|done| done.add(&line));
                if line.contains(" serving ")
                    && let Some(serving) = serving.take()
                {
                    let _ = serving.send(());
                }
            }
        });
        self.replicas[i].child = Some(child);
        self.replicas[i].serving = Some(ready);
        Ok(())
    }

    /// Waits, at most `limit`, until replica `i` says it is serving (from
    /// then on `/readyz` answers 200: one look confirms it); fails when the
    /// process exits first.
    pub async fn wait_ready(&mut self, i: usize, limit: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let name = self.replicas[i].name.clone();
        let ready = self.replicas[i].serving.take().context("the replica was not started")?;
        match tokio::time::timeout(limit, ready).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => bail!("{name} exited before it was ready; see {}", self.log(i).display()),
            Err(_) => bail!("{name} was not ready within {limit:?}"),
        }
        let res = reqwest::get(format!("{}/readyz", self.replicas[i].url())).await?;
        anyhow::ensure!(res.status() == 200, "{name} said it is serving, but /readyz answered {}", res.status());
        Ok(started.elapsed())
    }

    /// Replica `i`'s log file.
    pub fn log(&self, i: usize) -> PathBuf {
        self.dir().join(format!("{}.log", self.replicas[i].name))
    }

    /// Sends `signal` (`TERM` or `KILL`) to replica `i`.
    pub fn signal(&self, i: usize, signal: &str) -> anyhow::Result<()> {
        let pid = self.replicas[i]
            .child
            .as_ref()
            .and_then(tokio::process::Child::id)
            .context("the replica is not running")?;
        let sent = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status()?;
        anyhow::ensure!(sent.success(), "kill -{signal} failed");
        Ok(())
    }

    /// Waits for replica `i` to exit (at most `limit`) and says how it ended.
    pub async fn wait_exit(&mut self, i: usize, limit: Duration) -> anyhow::Result<std::process::ExitStatus> {
        let name = self.replicas[i].name.clone();
        let child = self.replicas[i].child.as_mut().context("the replica is not running")?;
        let status = tokio::time::timeout(limit, child.wait())
            .await
            .map_err(|_| anyhow::anyhow!("{name} did not exit within {limit:?}"))??;
        self.replicas[i].child = None;
        Ok(status)
    }

    /// Waits until HAProxy's health checks hold exactly the replicas in
    /// `up` as UP (by index), at most `limit`; how long that took and why
    /// HAProxy last changed each replica's state.
    pub async fn wait_proxy(&self, up: &[usize], limit: Duration) -> anyhow::Result<(Duration, Vec<String>)> {
        let started = Instant::now();
        let mut proxied = self.proxied.clone();
        let wanted = |states: &Vec<ServerState>| states.iter().enumerate().all(|(i, s)| s.up == up.contains(&i));
        let outcome = match tokio::time::timeout(limit, proxied.wait_for(wanted)).await {
            Ok(Ok(states)) => Ok(states.iter().map(|s| s.reason.clone()).collect()),
            Ok(Err(_)) => Err("HAProxy's log socket closed"),
            Err(_) => Err("timed out"),
        };
        match outcome {
            Ok(reasons) => Ok((started.elapsed(), reasons)),
            Err(why) => bail!(
                "HAProxy did not see replicas {up:?} (and only those) up within {limit:?} ({why}): {:?}",
                *proxied.borrow()
            ),
        }
    }

    /// What the replicas' background jobs logged they did, summed; it
    /// changes with each of their log lines that says so.
    pub fn jobs(&self) -> tokio::sync::watch::Receiver<JobsDone> {
        self.jobs.subscribe()
    }
}

/// What the replicas' background jobs say they did, summed over their logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobsDone {
    /// Invitation e-mails the outbox marked sent (`sent=`).
    pub sent: usize,
    /// Memberships the expiry sweeps ended (`ended=`).
    pub ended: usize,
}

impl JobsDone {
    /// Counts `line` of a replica's log; whether it said anything.
    fn add(&mut self, line: &str) -> bool {
        let figure = |key: &str| -> Option<usize> { line.split(key).nth(1)?.split_whitespace().next()?.parse().ok() };
        if line.contains("sent invitation e-mails")
            && let Some(n) = figure("sent=")
        {
            self.sent += n;
            return true;
        }
        if line.contains("ended expired memberships")
            && let Some(n) = figure("ended=")
        {
            self.ended += n;
            return true;
        }
        false
    }
}

/// One replica as HAProxy's checks see it.
#[derive(Clone, Debug)]
pub struct ServerState {
    /// In rotation.
    pub up: bool,
    /// HAProxy's reason for the last change (`Layer7 wrong status, code: 503, …`).
    pub reason: String,
}

/// Binds the socket HAProxy logs to and follows its server state changes.
// HAProxy announces each change of a server's state in its log (`Server
// usher/r1 is DOWN, reason: …`), so the suite waits on those announcements
// instead of polling its statistics. Before its first check HAProxy holds
// every server UP.
fn listen_to_haproxy(
    dir: &Path,
    replicas: &[Replica],
) -> anyhow::Result<tokio::sync::watch::Receiver<Vec<ServerState>>> {
    let socket =
        tokio::net::UnixDatagram::bind(dir.join("haproxy-log.sock")).context("binding HAProxy's log socket")?;
    let names: Vec<String> = replicas.iter().map(|r| r.name.clone()).collect();
    let initial = names.iter().map(|_| ServerState { up: true, reason: "not checked yet".to_owned() }).collect();
    let (states, proxied) = tokio::sync::watch::channel::<Vec<ServerState>>(initial);
    let mut log = File::create(dir.join("haproxy-states.log"))?;
    tokio::spawn(async move {
        use std::io::Write as _;
        let mut buf = vec![0; 8192];
        while let Ok(n) = socket.recv(&mut buf).await {
            let line = String::from_utf8_lossy(&buf[..n]).trim_end().to_owned();
            let _ = writeln!(log, "{line}");
            if let Some((name, state)) = server_change(&line)
                && let Some(i) = names.iter().position(|n| *n == name)
            {
                states.send_modify(|states| states[i] = state);
            }
        }
    });
    Ok(proxied)
}

/// The server and its new state in one of HAProxy's log lines, if it
/// announces a change.
fn server_change(line: &str) -> Option<(String, ServerState)> {
    let rest = line.split("Server usher/").nth(1)?;
    let (name, rest) = rest.split_once(" is ")?;
    let (state, reason) = rest.split_once(", reason: ").unwrap_or((rest, ""));
    let up = match state {
        "UP" => true,
        "DOWN" => false,
        _ => return None,
    };
    let reason = reason.split(". ").next().unwrap_or_default().to_owned();
    Some((name.to_owned(), ServerState { up, reason }))
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for replica in &mut self.replicas {
            if let Some(mut child) = replica.child.take() {
                let _ = child.start_kill();
            }
        }
        if let Some(mut haproxy) = self.haproxy.take() {
            let _ = haproxy.kill();
            let _ = haproxy.wait();
        }
    }
}

/// Discord's API as photo verification reads it: each of [`DISCORD_IDS`]
/// has an avatar.
async fn fake_discord() -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    let server = wiremock::MockServer::start().await;
    for id in DISCORD_IDS {
        wiremock::Mock::given(method("GET"))
            .and(path(format!("/users/{id}")))
            .respond_with(
                wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": id, "avatar": "hash1"})),
            )
            .mount(&server)
            .await;
    }
    server
}

/// A free loopback port (the replicas' ports must be known to HAProxy's
/// configuration before they start and stay the same across restarts).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Debian's HAProxy (`apt-get install haproxy`), or `$HAPROXY`.
fn haproxy_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("HAPROXY") {
        return Ok(path.into());
    }
    ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .context("HAProxy is not installed: `sudo apt-get install haproxy` (Debian's 2.6), or set HAPROXY")
}

/// The settings every replica shares: one database, one token secret, one
/// profile key, one object store, one SMTP server, one Discord, photo
/// verification on, small limits the suite
/// counts on, and a drain longer than HAProxy's detection.
fn settings(database: &str, s3: &S3Server, smtp: &str, discord: &str, proxy: &str) -> String {
    let s3 = s3.config();
    format!(
        r#"env = "production"
[server]
public_url = "{proxy}"
workers = 1
drain_seconds = {DRAIN_SECONDS}
shutdown_timeout_seconds = 10
trusted_proxies = ["127.0.0.1"]

[database]
url = "{database}"
max_connections = 8
acquire_timeout_seconds = {acquire}

[auth]
hs256_secret = "{secret}"
bootstrap_superusers = ["{ROOT}", "{SECOND}"]

[storage]
kind = "s3"
endpoint = "{endpoint}"
bucket = "{bucket}"
region = "{region}"
access_key_id = "{access}"
secret_access_key = "{secret_key}"
public_base_url = "{public}"
sweep_interval_seconds = 1

[smtp]
url = "{smtp}"

[features]
photo_verification = true

[discord]
api_base = "{discord}"
bot_token = "cluster-bot-token"

[avatar]
tries_per_window = {AVATAR_TRIES}

[profiles]
encryption_keys = [{{ id = "k1", key = "{PROFILE_KEY}" }}]
active_key_id = "k1"

[invitations]
preview_per_minute = {PREVIEWS_PER_MINUTE}
accept_per_minute = 1000
sweep_interval_seconds = 1
outbox_interval_seconds = 1

[quotas]
organizations_per_user_per_day = 1000000
emails_per_recipient_per_day = {EMAILS_PER_RECIPIENT}
"#,
        acquire = ACQUIRE_TIMEOUT.as_secs(),
        secret = test_support::tokens::HS256_SECRET,
        endpoint = s3.endpoint,
        bucket = s3.bucket,
        region = s3.region,
        access = s3.access_key_id,
        secret_key = s3.secret_access_key,
        public = s3.public_base_url,
    )
}

/// HAProxy in front of the replicas: round robin, `/readyz` checked every
/// 250 ms (down after 2 failures, up after 2 successes), a connection
/// refused retried on another replica, and its own 503 (no replica up) a
/// problem+json with `Retry-After` like the replicas' own.
fn haproxy_config(dir: &Path, port: u16, replicas: &[Replica]) -> String {
    let servers: String =
        replicas.iter().map(|r| format!("    server {} 127.0.0.1:{} check\n", r.name, r.port)).collect();
    format!(
        r#"global
    maxconn 2000
    log {log} local0

defaults
    mode http
    log global
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout queue 5s
    retries 3
    option redispatch 1
    option forwardfor
    errorfile 503 {errorfile}

frontend api
    bind 127.0.0.1:{port}
    default_backend usher

backend usher
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    retry-on conn-failure
    default-server inter 250ms fastinter 250ms downinter 250ms fall 2 rise 2
    http-response set-header X-Served-By %s
{servers}"#,
        errorfile = dir.join("503.http").display(),
        log = dir.join("haproxy-log.sock").display(),
    )
}

/// HAProxy's answer when no replica is up: the same problem+json the
/// replicas give when the database is down.
const PROXY_503: &str = "HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: application/problem+json\r\n\
Cache-Control: no-store\r\n\
Retry-After: 5\r\n\
Connection: close\r\n\
\r\n\
{\"type\":\"about:blank\",\"title\":\"Service unavailable\",\"status\":503,\"detail\":\"no replica is ready; retry shortly\",\"code\":\"service.unavailable\"}\n";

#[cfg(test)]
mod tests {
    use super::{JobsDone, server_change};

    /// HAProxy 2.6's announcements, as its log socket receives them.
    #[test]
    fn haproxys_log_gives_each_servers_new_state() {
        let down = "<129>Dec  4 11:18:53 haproxy[19756]: Server usher/r2 is DOWN, reason: Layer7 wrong status, \
                    code: 503, info: \"Service Unavailable\", check duration: 1ms. 1 active and 0 backup servers left.";
        let (name, state) = server_change(down).expect("a change");
        assert_eq!((name.as_str(), state.up), ("r2", false));
        assert!(state.reason.contains("code: 503"), "{}", state.reason);
        let up = "<133>Dec  4 11:19:02 haproxy[20233]: Server usher/r1 is UP, reason: Layer7 check passed, code: 200, \
                  check duration: 1ms. 1 active and 0 backup servers online.";
        assert!(server_change(up).is_some_and(|(n, s)| n == "r1" && s.up));
        assert!(server_change("<128>Dec  4 11:19:00 haproxy[1]: backend usher has no server available!").is_none());
    }

    #[test]
    fn the_jobs_figures_are_summed_from_the_replicas_logs() {
        let mut done = JobsDone::default();
        assert!(done.add("2026-12-04T11:00:00Z  INFO usher_api::background: sent invitation e-mails sent=3"));
        assert!(done.add("2026-12-04T11:00:01Z  INFO usher_api::background: ended expired memberships ended=2"));
        assert!(done.add("2026-12-04T11:00:02Z  INFO usher_api::background: sent invitation e-mails sent=4"));
        assert!(!done.add("2026-12-04T11:00:03Z  INFO usher_api::startup: serving addr=127.0.0.1:1"));
        assert_eq!(done, JobsDone { sent: 7, ended: 2 });
    }
}
