//! Throwaway PostgreSQL for tests, run from the machine's server binaries.
//!
//! - [`PgCluster`] is a private cluster: `initdb` into a fresh temporary
//!   directory and `postgres` on a free loopback port with durability off
//!   (`fsync=off`). [`PgCluster::shared`] is the one cluster every test of a
//!   test binary shares; [`PgCluster::start`] makes a private one, for tests
//!   that stop and restart the server.
//! - [`TestDatabase`] is a fresh database for one test, cloned from a
//!   template database migrated once per cluster, and dropped with the value.
//!
//! # How the server is run
//! PostgreSQL refuses to run as root, so when the tests run as root, `initdb`
//! and `postgres` run as the `postgres` OS user and the temporary directory
//! belongs to that user.
//!
//! `postgres` runs under a small watchdog shell (`WATCHDOG` below) whose
//! standard input is a pipe held by the test process. Statics are never
//! dropped, so without it the shared cluster would outlive the test process;
//! with it, the pipe closes whenever the test process ends (normally, by a
//! panic or killed) and the watchdog gives `postgres` a fast shutdown and
//! deletes the temporary directory. The watchdog is in its own process group,
//! so a Ctrl-C in the terminal reaches the test process only and the shutdown
//! still goes through the pipe.
//!
//! Readiness is an event, not a poll: Debian's `postgres` is built with
//! systemd support, so with `NOTIFY_SOCKET` set it sends `READY=1` to that
//! datagram socket once it accepts connections. The harness binds an
//! abstract socket (no file, so no permissions to hand to the `postgres`
//! user) and waits on it, waking only to notice that the server exited.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::linux::net::SocketAddrExt as _;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use tempfile::TempDir;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The database every [`TestDatabase`] is cloned from.
const TEMPLATE: &str = "usher_template";

/// How long the server may take to accept connections after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a fast shutdown may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How many free ports are tried when another process takes the port first.
const PORT_ATTEMPTS: u32 = 5;

/// The log of the server (and of the watchdog), in the temporary directory.
const LOG_FILE: &str = "postgres.log";

/// Written by the watchdog when `postgres` has exited; holds its exit status.
const EXITED_FILE: &str = "postgres.exited";

/// What [`PgCluster::stop`] writes to the watchdog: stop but keep the data.
const KEEP_LINE: &[u8] = b"keep\n";

/// The watchdog shell, run as `sh -c WATCHDOG usher-pg-watchdog <dir> <postgres> <args>...`.
///
/// It starts `postgres` in the background, then a reader that waits for a
/// line or the end of its standard input (the pipe from the test process) and
/// then sends `postgres` SIGINT (fast shutdown). When `postgres` has exited,
/// for whatever reason, it writes [`EXITED_FILE`] so that the test process can
/// tell that a start failed. Once the reader is done, the shell deletes
/// `<dir>` unless the line was `keep` (from [`PgCluster::stop`]), and exits
/// with the exit status of `postgres`.
const WATCHDOG: &str = r#"
dir=$1
shift
exec 3<&0 </dev/null
"$@" 3<&- &
pg=$!
(
  if IFS= read -r line <&3 && [ "$line" = keep ]; then status=10; else status=0; fi
  [ -e "$dir/postgres.exited" ] || kill -INT "$pg" 2>/dev/null
  exit "$status"
) &
reader=$!
exec 3<&-
wait "$pg"
code=$?
echo "$code" > "$dir/postgres.exited"
wait "$reader"
[ "$?" = 10 ] || rm -rf "$dir"
exit "$code"
"#;

/// A throwaway PostgreSQL cluster on a loopback port.
///
/// Made by [`PgCluster::start`] (private, stopped and deleted when dropped) or
/// [`PgCluster::shared`] (one per test binary, stopped and deleted when the
/// test process exits).
#[derive(Debug)]
pub struct PgCluster {
    /// The temporary directory holding the data directory, the socket and the
    /// log. Deleted by the watchdog; a fallback for a stopped cluster.
    temp: TempDir,
    /// The server binaries in use.
    binaries: Binaries,
    /// The OS user the server runs as when the tests run as root.
    run_as: Option<OsUser>,
    /// The loopback TCP port, the same across restarts.
    port: u16,
    /// The running server, `None` after [`PgCluster::stop`].
    server: Mutex<Option<Watchdog>>,
    /// Set once the template database has been created and migrated.
    template: OnceCell<()>,
}

impl PgCluster {
    /// Starts a new private cluster: `initdb` into a fresh temporary
    /// directory, `postgres` on a free loopback port with `fsync=off`.
    ///
    /// Returns when the server accepts connections. The server is stopped and
    /// its directory deleted when the value is dropped (or, at the latest,
    /// when the test process exits).
    ///
    /// # Errors
    /// When the server binaries cannot be found (the message says how to
    /// install them), when `initdb` fails, or when the server does not start
    /// (the message includes the end of its log).
    pub fn start() -> anyhow::Result<PgCluster> {
        let binaries = Binaries::find()?;
        let run_as = if running_as_root()? {
            Some(OsUser::lookup("postgres").context(
                "running as root, so PostgreSQL must run as the `postgres` OS user, \
                 which was not found",
            )?)
        } else {
            None
        };
        let temp = make_temp_dir(run_as.as_ref())?;
        let mut cluster =
            PgCluster { temp, binaries, run_as, port: 0, server: Mutex::new(None), template: OnceCell::new() };
        cluster.initdb()?;

        let mut attempt = 1;
        loop {
            cluster.port = free_port()?;
            match cluster.spawn() {
                Ok(watchdog) => {
                    *cluster.server.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(watchdog);
                    return Ok(cluster);
                }
                Err(failure) if failure.port_taken && attempt < PORT_ATTEMPTS => attempt += 1,
                Err(failure) => return Err(failure.error),
            }
        }
    }

    /// The cluster shared by every test in this test binary.
    ///
    /// Started on first use; stopped and deleted by its watchdog when the
    /// test process exits, since statics are never dropped. Do not
    /// [`stop`](PgCluster::stop) it: use a private cluster for that.
    ///
    /// # Panics
    /// When the cluster cannot be started, with the reason.
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            PgCluster::start()
                .unwrap_or_else(|error| panic!("cannot start the shared PostgreSQL cluster for tests: {error:#}"))
        })
    }

    /// The loopback TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `database` in this cluster:
    /// `postgres://postgres@127.0.0.1:{port}/{database}`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server with a fast shutdown, keeping its data directory, so
    /// that connections fail until [`restart`](PgCluster::restart).
    ///
    /// Does nothing when the server is already stopped.
    ///
    /// # Errors
    /// When the server cannot be told to stop or does not stop in time.
    pub fn stop(&self) -> anyhow::Result<()> {
        match self.lock_server().take() {
            Some(watchdog) => watchdog.shut_down(Shutdown::KeepData),
            None => Ok(()),
        }
    }

    /// Starts the server again on the same port and data directory after
    /// [`stop`](PgCluster::stop); returns when it accepts connections.
    ///
    /// Does nothing when the server is running.
    ///
    /// # Errors
    /// When the server does not start, for example because another process
    /// took the port meanwhile (the message includes the end of its log).
    pub fn restart(&self) -> anyhow::Result<()> {
        let mut server = self.lock_server();
        if server.is_none() {
            *server = Some(self.spawn().map_err(|failure| failure.error)?);
        }
        Ok(())
    }

    /// The running server, also after a panic elsewhere.
    fn lock_server(&self) -> MutexGuard<'_, Option<Watchdog>> {
        self.server.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The temporary directory.
    fn dir(&self) -> &Path {
        self.temp.path()
    }

    /// The data directory.
    fn data_dir(&self) -> PathBuf {
        self.dir().join("data")
    }

    /// A command that runs `program` as the server's OS user, in the
    /// temporary directory (the server's user may not be able to enter the
    /// current one).
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command.current_dir(self.dir());
        if let Some(user) = &self.run_as {
            command.uid(user.uid).gid(user.gid);
        }
        command
    }

    /// Creates the data directory.
    fn initdb(&self) -> anyhow::Result<()> {
        let output = self
            .command(&self.binaries.initdb)
            .arg("-D")
            .arg(self.data_dir())
            .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {}", self.binaries.initdb.display()))?;
        if !output.status.success() {
            bail!(
                "{} failed ({}):\n{}{}",
                self.binaries.initdb.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
        }
        Ok(())
    }

    /// Starts `postgres` on [`Self::port`] under a watchdog and waits until it
    /// accepts connections.
    fn spawn(&self) -> Result<Watchdog, StartFailure> {
        let log_path = self.dir().join(LOG_FILE);
        let (log, log_start) = self.open_log(&log_path).map_err(StartFailure::other)?;
        let (notify, notify_name) = notify_socket().map_err(StartFailure::other)?;
        let mut watchdog = self.spawn_watchdog(log, &notify_name).map_err(StartFailure::other)?;

        match self.wait_until_ready(&mut watchdog, &notify) {
            Ok(()) => Ok(watchdog),
            Err(problem) => {
                // Keep the directory: it holds the log, and the data
                // directory for a retry on another port.
                let stopped = watchdog.shut_down(Shutdown::KeepData);
                let log = read_log(&log_path, log_start);
                let port_taken = ["could not bind", "Address already in use", "could not create any TCP/IP sockets"]
                    .iter()
                    .any(|needle| log.contains(needle));
                let mut error = anyhow!(
                    "PostgreSQL did not start on 127.0.0.1:{} ({problem}); end of its log {}:\n{}",
                    self.port,
                    log_path.display(),
                    log_tail(&log),
                );
                if let Err(stop_error) = stopped {
                    error = error.context(format!("and stopping it failed too: {stop_error:#}"));
                }
                Err(StartFailure { error, port_taken })
            }
        }
    }

    /// Opens the log for appending, after clearing the exit mark of the last
    /// run; returns it with its current length.
    fn open_log(&self, log_path: &Path) -> anyhow::Result<(File, u64)> {
        let exited_path = self.dir().join(EXITED_FILE);
        match fs::remove_file(&exited_path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error).with_context(|| format!("removing {}", exited_path.display()));
            }
            _ => {}
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        if let Some(user) = &self.run_as {
            chown(log_path, Some(user.uid), Some(user.gid))
                .with_context(|| format!("handing {} to the postgres user", log_path.display()))?;
        }
        let length = log.metadata().with_context(|| format!("reading {}", log_path.display()))?.len();
        Ok((log, length))
    }

    /// Starts `postgres` on [`Self::port`] under the [`WATCHDOG`] shell,
    /// both writing to `log`; `postgres` reports readiness to the abstract
    /// socket `notify_name`.
    fn spawn_watchdog(&self, log: File, notify_name: &str) -> anyhow::Result<Watchdog> {
        let mut child = self
            .command(Path::new("/bin/sh"))
            .env("NOTIFY_SOCKET", format!("@{notify_name}"))
            .arg("-c")
            .arg(WATCHDOG)
            .arg("usher-pg-watchdog")
            .arg(self.dir())
            .arg(&self.binaries.postgres)
            .arg("-D")
            .arg(self.data_dir())
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(self.dir())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .args(["-c", "max_connections=200"])
            .stdin(Stdio::piped())
            .stdout(log.try_clone().context("duplicating the log file handle")?)
            .stderr(log)
            // Away from the terminal's process group: a Ctrl-C must not kill
            // the watchdog before it has cleaned up.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {} under /bin/sh", self.binaries.postgres.display()))?;
        let stdin = child.stdin.take().context("the watchdog has no stdin pipe")?;
        Ok(Watchdog { child, stdin })
    }

    /// Waits for the server's `READY=1` on `notify`; fails when it exits
    /// first or on timeout. The receive times out every 100 ms only to look
    /// at the exit mark and the watchdog: readiness itself wakes it at once.
    fn wait_until_ready(&self, watchdog: &mut Watchdog, notify: &UnixDatagram) -> Result<(), String> {
        let exited_file = self.dir().join(EXITED_FILE);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut message = [0u8; 4096];
        loop {
            match notify.recv(&mut message) {
                Ok(n) => {
                    let text = String::from_utf8_lossy(&message[..n]);
                    // The port must accept too: READY=1 says the server
                    // listens, and a refusal here is a bug worth naming.
                    if text.lines().any(|line| line == "READY=1") {
                        return TcpStream::connect_timeout(&address, Duration::from_secs(1))
                            .map(drop)
                            .map_err(|error| format!("said it was ready but refused a connection: {error}"));
                    }
                }
                Err(error) if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                }
                Err(error) => return Err(format!("cannot read its readiness socket: {error}")),
            }
            if let Ok(status) = fs::read_to_string(&exited_file) {
                return Err(format!("postgres exited with status {}", status.trim()));
            }
            match watchdog.child.try_wait() {
                Ok(Some(status)) => return Err(format!("its watchdog shell exited ({status})")),
                Ok(None) => {}
                Err(error) => return Err(format!("cannot check its watchdog shell: {error}")),
            }
            if Instant::now() >= deadline {
                return Err(format!("not ready after {READY_TIMEOUT:?}"));
            }
        }
    }
}

/// A datagram socket in the abstract namespace for `postgres`'s `sd_notify`
/// messages, with its name (without the leading `@` of `NOTIFY_SOCKET`).
fn notify_socket() -> anyhow::Result<(UnixDatagram, String)> {
    let name = format!("usher-pg-ready-{}", Uuid::new_v4().simple());
    let address = UnixAddr::from_abstract_name(name.as_bytes()).context("naming the readiness socket")?;
    let socket = UnixDatagram::bind_addr(&address).context("binding the readiness socket")?;
    socket.set_read_timeout(Some(Duration::from_millis(100))).context("setting the readiness socket's timeout")?;
    Ok((socket, name))
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let server = self.server.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(watchdog) = server {
            // Errors cannot be reported from `drop`; the `TempDir` removes
            // what is left.
            let _ = watchdog.shut_down(Shutdown::DeleteData);
        }
    }
}

/// Why [`PgCluster::spawn`] failed.
struct StartFailure {
    /// What happened, with the end of the server's log.
    error: anyhow::Error,
    /// Whether another process took the port, so another port may work.
    port_taken: bool,
}

impl StartFailure {
    /// A failure before the server ran.
    fn other(error: anyhow::Error) -> StartFailure {
        StartFailure { error, port_taken: false }
    }
}

/// The watchdog shell running `postgres`; see [`WATCHDOG`].
#[derive(Debug)]
struct Watchdog {
    /// The shell.
    child: Child,
    /// Its standard input: closing it stops the server.
    stdin: ChildStdin,
}

/// What the watchdog does with the temporary directory after the shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shutdown {
    /// Keep it, for a restart.
    KeepData,
    /// Delete it.
    DeleteData,
}

impl Watchdog {
    /// Has the watchdog give `postgres` a fast shutdown and waits for both to
    /// exit.
    fn shut_down(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let Watchdog { mut child, mut stdin } = self;
        if shutdown == Shutdown::KeepData {
            // A write error means the watchdog is already gone.
            let _ = stdin.write_all(KEEP_LINE).and_then(|()| stdin.flush());
        }
        // End of input: the watchdog stops the server.
        drop(stdin);
        // Waited for on a thread, so the deadline needs no polling.
        let (exited, exit) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let _ = exited.send(child.wait());
        });
        match exit.recv_timeout(STOP_TIMEOUT) {
            Ok(waited) => {
                waited.context("waiting for the PostgreSQL watchdog")?;
                Ok(())
            }
            Err(_) => bail!("PostgreSQL did not stop within {STOP_TIMEOUT:?}"),
        }
    }
}

/// A fresh database for one test, cloned from the migrated template database
/// (`CREATE DATABASE … TEMPLATE usher_template`) and dropped when this value
/// is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// `test_` and a UUID in lowercase hex.
    name: String,
    /// The URL of this database.
    url: String,
    /// The URL of the cluster's `postgres` database, to drop this one from.
    admin_url: String,
    /// The cluster's port, to skip the drop quickly when it is down.
    port: u16,
}

impl TestDatabase {
    /// Creates a new uniquely named database in `cluster`, cloned from the
    /// template database.
    ///
    /// The first caller for a cluster creates the template and applies every
    /// migration of `migrations::Migrator` to it; concurrent callers (from
    /// any tokio runtime) wait for that and then clone it.
    ///
    /// # Errors
    /// When the server cannot be reached, the migrations fail or the database
    /// cannot be created.
    pub async fn create(cluster: &PgCluster) -> anyhow::Result<TestDatabase> {
        cluster
            .template
            .get_or_try_init(|| create_template(cluster))
            .await
            .context("preparing the template database")?;

        let name = format!("test_{}", Uuid::now_v7().simple());
        let admin_url = cluster.url("postgres");
        let admin = connect(&admin_url, Duration::from_secs(10)).await?;
        let created = admin
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}""#))
            .await
            .with_context(|| format!("creating database {name} from {TEMPLATE}"));
        close(admin).await;
        created?;
        Ok(TestDatabase { url: cluster.url(&name), name, admin_url, port: cluster.port() })
    }

    /// The URL of this database, for `sea_orm::Database::connect`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The name of this database.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        // `drop` cannot await, and may run inside a runtime, which cannot be
        // blocked on: a thread with its own runtime does the work. Errors are
        // ignored: the whole cluster is deleted at the end anyway.
        let _ = thread::spawn(move || {
            if TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err() {
                return; // The cluster is down or gone.
            }
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                if let Ok(admin) = connect(&admin_url, Duration::from_secs(5)).await {
                    let _ =
                        admin.execute_unprepared(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)).await;
                    close(admin).await;
                }
            });
        })
        .join();
    }
}

/// Creates the template database afresh and migrates it, closing every
/// connection to it (PostgreSQL refuses to clone a database in use).
async fn create_template(cluster: &PgCluster) -> anyhow::Result<()> {
    let admin = connect(&cluster.url("postgres"), Duration::from_secs(10)).await?;
    let created = async {
        // A failed earlier attempt may have left it half migrated.
        admin
            .execute_unprepared(&format!(r#"DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)"#))
            .await
            .with_context(|| format!("dropping an old {TEMPLATE}"))?;
        admin
            .execute_unprepared(&format!(r#"CREATE DATABASE "{TEMPLATE}""#))
            .await
            .with_context(|| format!("creating {TEMPLATE}"))?;
        anyhow::Ok(())
    }
    .await;
    close(admin).await;
    created?;

    let template = connect(&cluster.url(TEMPLATE), Duration::from_secs(10)).await?;
    let migrated = migrations::Migrator::up(&template, None)
        .await
        .with_context(|| format!("applying the migrations to {TEMPLATE}"));
    template.close().await.with_context(|| format!("closing the connections to {TEMPLATE}"))?;
    migrated
}

/// A short-lived connection (one at most) to `url`; `timeout` bounds the
/// attempts to connect.
async fn connect(url: &str, timeout: Duration) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).min_connections(0).connect_timeout(timeout).acquire_timeout(timeout).sqlx_logging(false);
    Database::connect(options).await.with_context(|| format!("connecting to {url}"))
}

/// Closes `connection`, ignoring errors: the server ends the session either way.
async fn close(connection: DatabaseConnection) {
    let _ = connection.close().await;
}

/// The PostgreSQL server programs.
#[derive(Clone, Debug)]
struct Binaries {
    /// `initdb`.
    initdb: PathBuf,
    /// `postgres`.
    postgres: PathBuf,
}

impl Binaries {
    /// Finds `initdb` and `postgres` on `PATH`, else in the highest version
    /// of `/usr/lib/postgresql/*/bin` (Debian and Ubuntu).
    fn find() -> anyhow::Result<Binaries> {
        if let (Some(initdb), Some(postgres)) = (on_path("initdb"), on_path("postgres")) {
            return Ok(Binaries { initdb, postgres });
        }
        let mut best: Option<(Vec<u32>, PathBuf)> = None;
        if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(version) = name.to_str().and_then(parse_version) else {
                    continue;
                };
                let bin = entry.path().join("bin");
                if is_executable(&bin.join("initdb"))
                    && is_executable(&bin.join("postgres"))
                    && best.as_ref().is_none_or(|(highest, _)| version > *highest)
                {
                    best = Some((version, bin));
                }
            }
        }
        match best {
            Some((_, bin)) => Ok(Binaries { initdb: bin.join("initdb"), postgres: bin.join("postgres") }),
            None => bail!(
                "PostgreSQL server binaries (initdb, postgres) not found on PATH or in \
                 /usr/lib/postgresql/*/bin: install them with `apt-get install postgresql`"
            ),
        }
    }
}

/// `15` → `[15]`, `9.6` → `[9, 6]`; `None` for anything else.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// The first executable file called `program` in a directory of `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| is_executable(candidate))
}

/// Whether `path` is a file with an execute bit set.
fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Whether the effective user is root, from `/proc/self/status` (else `id -u`).
fn running_as_root() -> anyhow::Result<bool> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        // `Uid:	real	effective	saved	filesystem`
        if let Some(euid) =
            status.lines().find_map(|line| line.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().nth(1))
        {
            return Ok(euid == "0");
        }
    }
    Ok(run_id(&["-u"])? == 0)
}

/// An OS user to run the server as.
#[derive(Clone, Copy, Debug)]
struct OsUser {
    /// User id.
    uid: u32,
    /// Primary group id.
    gid: u32,
}

impl OsUser {
    /// Looks `name` up in `/etc/passwd`, else with `id`.
    fn lookup(name: &str) -> anyhow::Result<OsUser> {
        if let Ok(passwd) = fs::read_to_string("/etc/passwd") {
            for line in passwd.lines() {
                let fields: Vec<&str> = line.split(':').collect();
                if let [user, _, uid, gid, ..] = fields[..]
                    && user == name
                    && let (Ok(uid), Ok(gid)) = (uid.parse(), gid.parse())
                {
                    return Ok(OsUser { uid, gid });
                }
            }
        }
        Ok(OsUser { uid: run_id(&["-u", name])?, gid: run_id(&["-g", name])? })
    }
}

/// Runs `id <args>` and parses the number it prints.
fn run_id(args: &[&str]) -> anyhow::Result<u32> {
    let output = Command::new("id")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running `id {}`", args.join(" ")))?;
    if !output.status.success() {
        bail!("`id {}` failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().with_context(|| format!("parsing the output of `id {}`: {text:?}", args.join(" ")))
}

/// A fresh temporary directory, handed to `run_as` when given.
///
/// The server's user must be able to reach it, so when the usual temporary
/// directory (`TMPDIR`) sits below a directory others cannot enter (such as
/// `/root`), `/tmp` is used instead.
fn make_temp_dir(run_as: Option<&OsUser>) -> anyhow::Result<TempDir> {
    let mut base = std::env::temp_dir();
    if run_as.is_some() && !base.ancestors().all(others_can_enter) {
        base = PathBuf::from("/tmp");
    }
    let temp = tempfile::Builder::new()
        .prefix("usher-pg-")
        .tempdir_in(&base)
        .with_context(|| format!("creating a temporary directory in {}", base.display()))?;
    if let Some(user) = run_as {
        chown(temp.path(), Some(user.uid), Some(user.gid))
            .with_context(|| format!("handing {} to the postgres user", temp.path().display()))?;
    }
    fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", temp.path().display()))?;
    Ok(temp)
}

/// Whether users other than the owner may enter `dir`.
fn others_can_enter(dir: &Path) -> bool {
    fs::metadata(dir).is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
}

/// A free loopback port: bound, read and released. Another process may take
/// it before the server binds it; [`PgCluster::start`] then retries.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding 127.0.0.1:0 to find a free port")?;
    Ok(listener.local_addr().context("reading the bound address")?.port())
}

/// The log from byte `start` on (lossily decoded), or why it cannot be read.
fn read_log(path: &Path, start: u64) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|error| format!("(cannot read the log: {error})"))
}

/// The last lines of `log`.
fn log_tail(log: &str) -> String {
    const LINES: usize = 30;
    let lines: Vec<&str> = log.lines().collect();
    let mut tail = String::new();
    for line in &lines[lines.len().saturating_sub(LINES)..] {
        let _ = writeln!(tail, "    {line}");
    }
    if tail.is_empty() { "    (empty)".to_owned() } else { tail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(parse_version("15"), Some(vec![15]));
        assert_eq!(parse_version("9.6"), Some(vec![9, 6]));
        assert_eq!(parse_version("15-old"), None);
        assert!(parse_version("15") > parse_version("9.6"));
    }

    #[test]
    fn the_log_tail_keeps_the_last_lines() {
        let log: String = (1..=40).map(|n| format!("line {n}\n")).collect();
        let tail = log_tail(&log);
        assert!(tail.starts_with("    line 11\n"), "{tail}");
        assert!(tail.ends_with("    line 40\n"), "{tail}");
        assert_eq!(log_tail(""), "    (empty)");
    }

    #[test]
    fn urls_name_the_database_on_the_loopback_port() {
        let cluster = PgCluster::start().expect("cluster starts");
        let port = cluster.port();
        assert_eq!(cluster.url("x"), format!("postgres://postgres@127.0.0.1:{port}/x"));
    }
}
