#!/usr/bin/env python3
"""Usher's load benchmark (`just bench`): see tests/load/README.md.

One run starts a throwaway PostgreSQL from the machine's binaries, the
release `usher` binary and its peers (fastapi-users, a minimal actix-web +
sqlx handler, a bare actix-web handler, pgbench), seeds data with SQL, runs
`wrk` (and `pgbench`) against every target in interleaved rounds
(A B C … A B C …), and prints one table plus the ratios of
/work/shared/spec/quality.md. It reports; it never asserts a time. Every
process it starts and every temporary directory is removed on exit.

Only the standard library is used here; the fastapi-users peer runs in a
virtualenv made in the setup phase (the only step that needs PyPI).

Environment (all optional):
  BENCH_ROUNDS=3            interleaved rounds
  BENCH_SECONDS=10          seconds per target per round
  BENCH_CONNECTIONS=32      wrk connections for the request workloads
  BENCH_PAGE_CONNECTIONS=4  wrk connections for the paging workloads
  BENCH_SMALL_ROWS=10000    rows of the small paging data set
  BENCH_LARGE_ROWS=1000000  rows of the large paging data set
  BENCH_ACCEPTS_PER_ROUND=20000  distinct users (and link uses) per accept round
  BENCH_PGBENCH_SCALE=32    pgbench scale factor (≥ clients: no branch hot spot)
  BENCH_NO_BUILD=1          use the binaries already in target/release
  BENCH_ONLY=a,b            run only targets whose name contains one of these
  BENCH_REPORT=FILE         also write the table as Markdown to FILE
  BENCH_POOL=N              pool size of usher and the actix+sqlx peer (default: each
                            one's own, four per core within 4..=32)
"""

import atexit
import base64
import glob
import hashlib
import hmac
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.join(ROOT, "tests", "load")
TARGET = os.path.join(ROOT, "target")
VENV = os.path.join(TARGET, "load-venv")

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
PAGE_CONNECTIONS = int(os.environ.get("BENCH_PAGE_CONNECTIONS", "4"))
SMALL_ROWS = int(os.environ.get("BENCH_SMALL_ROWS", "10000"))
LARGE_ROWS = int(os.environ.get("BENCH_LARGE_ROWS", "1000000"))
ACCEPTS_PER_ROUND = int(os.environ.get("BENCH_ACCEPTS_PER_ROUND", "20000")) // 1000 * 1000 or 1000
PGBENCH_SCALE = int(os.environ.get("BENCH_PGBENCH_SCALE", "32"))
ONLY = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
POOL = os.environ.get("BENCH_POOL", "")
WRK_THREADS = 2

LINK_USES = 1000  # the most an invitation allows (1..1000)
OVERFLOW_USES = 50  # the link that is over-subscribed to check "exactly maxUses"
READ_USERS = 1000  # users behind the /user/get and /user/update tokens
SECRET = "bench-" + "x" * 40  # HS256 secret shared by usher, the actix peer and fastapi-users
ROOT_EMAIL = "root@bench.example"

children = []  # (name, Popen) of every process started, newest last
temp_root = None
pg = None  # dict: bin, port, proc


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def die(msg):
    log("ERROR: " + msg)
    sys.exit(2)


# --------------------------------------------------------------------------- cleanup


def cleanup():
    """Stops every process this run started (newest first) and deletes the temp dir."""
    for name, proc in reversed(children):
        if proc.poll() is not None:
            continue
        try:
            # Each child leads its own process group (uvicorn's workers are in it).
            os.killpg(proc.pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, PermissionError):
            pass
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    children.clear()
    if temp_root and os.path.isdir(temp_root):
        shutil.rmtree(temp_root, ignore_errors=True)


def on_signal(signum, _frame):
    log(f"signal {signum}: cleaning up")
    sys.exit(130)


atexit.register(cleanup)
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGHUP, on_signal)


def spawn(name, argv, env=None, user=None, logfile=None):
    out = open(logfile or os.path.join(temp_root, f"{name}.log"), "ab")
    proc = subprocess.Popen(
        argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True, user=user, cwd=temp_root,
    )
    children.append((name, proc))
    return proc


def stop(proc):
    for i, (_, p) in enumerate(children):
        if p is proc:
            del children[i]
            break
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --------------------------------------------------------------------------- small helpers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jwt_hs256(claims):
    """An HS256 JWT, as `usher token` and fastapi-users' JWTStrategy make them."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64url(hmac.new(SECRET.encode(), head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + sig).decode()


def usher_token(email):
    """The claims `usher token --email` signs (sub `local:<email>`, verified e-mail)."""
    now = int(time.time())
    return jwt_hs256({"sub": f"local:{email}", "email": email, "email_verified": True,
                      "iat": now, "nbf": now, "exp": now + 4 * 3600})


def fastapi_token(user_id):
    """The claims fastapi-users' JWTStrategy writes (`sub` = id, its audience)."""
    return jwt_hs256({"sub": user_id, "aud": ["fastapi-users:auth"], "exp": int(time.time()) + 4 * 3600})


def write_lines(name, lines):
    path = os.path.join(temp_root, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def call(port, method, path, token=None, body=None, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, data


def http_json(port, method, path, token=None, body=None, expect=200):
    status, data = call(port, method, path, token, body)
    if status != expect:
        die(f"{method} {path} on :{port} answered {status}, expected {expect}: {data[:300]!r}")
    return json.loads(data) if data else None


def wait_http(port, path, proc, name, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            die(f"{name} exited with {proc.returncode}; see its log:\n" + tail_log(name))
        try:
            status, _ = call(port, "GET", path, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    die(f"{name} did not answer {path} within {timeout}s:\n" + tail_log(name))


def tail_log(name):
    try:
        with open(os.path.join(temp_root, f"{name}.log"), "rb") as f:
            return f.read()[-3000:].decode(errors="replace")
    except OSError:
        return "(no log)"


def rss_kib(pid):
    """VmRSS and VmHWM (KiB) of a process and all its descendants, summed."""
    rss = hwm = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    pids.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return rss, hwm


# --------------------------------------------------------------------------- preflight and setup


def find_pg_bin():
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    for d in candidates:
        if os.path.exists(os.path.join(d, "postgres")) and os.path.exists(os.path.join(d, "initdb")):
            return d
    for name in ("postgres", "initdb"):
        if not shutil.which(name):
            die("PostgreSQL's server binaries were not found: apt-get install -y postgresql")
    return os.path.dirname(os.path.realpath(shutil.which("postgres")))


def preflight():
    if not shutil.which("wrk"):
        die("wrk is missing: apt-get install -y wrk (Debian's package; nothing is downloaded at run time)")
    pg_bin = find_pg_bin()
    for tool in ("pgbench", "psql"):
        if not os.path.exists(os.path.join(pg_bin, tool)):
            die(f"{tool} is missing from {pg_bin}: apt-get install -y postgresql-contrib postgresql-client")
    return pg_bin


def setup_venv():
    """The fastapi-users virtualenv, (re)made when requirements.txt changes. Needs PyPI once."""
    req = os.path.join(HERE, "requirements.txt")
    with open(req, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(VENV, ".requirements.sha256")
    if os.path.exists(stamp) and open(stamp).read() == digest:
        return
    log(f"setup: installing fastapi-users into {VENV} from PyPI (once; the runs themselves are offline)")
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check", "-r", req],
                   check=True)
    with open(stamp, "w") as f:
        f.write(digest)


def build():
    if os.environ.get("BENCH_NO_BUILD"):
        return
    log("setup: cargo build --release (usher and the actix peers)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "usher-api", "-p", "load-peer", "--bins"],
                   cwd=ROOT, check=True)


# --------------------------------------------------------------------------- PostgreSQL


def start_postgres(pg_bin):
    global pg
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else None
    data = os.path.join(temp_root, "pg")
    os.makedirs(data)
    if as_root:
        pw = pwd.getpwnam("postgres")
        os.chmod(temp_root, 0o711)
        os.chown(data, pw.pw_uid, pw.pw_gid)
    subprocess.run([os.path.join(pg_bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync",
                    "-E", "UTF8", "--locale=C"], check=True, user=user, stdout=subprocess.DEVNULL, cwd=temp_root)
    port = free_port()
    proc = spawn("postgres", [
        os.path.join(pg_bin, "postgres"), "-D", data, "-p", str(port), "-k", data,
        "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "shared_buffers=256MB",
        "-c", "logging_collector=off",
    ], user=user)
    pg = {"bin": pg_bin, "port": port, "proc": proc}
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            die("postgres did not start:\n" + tail_log("postgres"))
        r = subprocess.run([os.path.join(pg_bin, "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"])
        if r.returncode == 0:
            return
        time.sleep(0.2)
    die("postgres did not accept connections within 60 s")


def pg_url(db, driver="postgres"):
    return f"{driver}://postgres@127.0.0.1:{pg['port']}/{db}"


def psql(db, sql):
    r = subprocess.run([os.path.join(pg["bin"], "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-h", "127.0.0.1", "-p", str(pg["port"]), "-U", "postgres", "-d", db],
                       input=sql, capture_output=True, text=True)
    if r.returncode != 0:
        die(f"psql on {db} failed: {r.stderr.strip()}\n{sql[:500]}")
    return r.stdout.strip()


# --------------------------------------------------------------------------- the services


def usher_bin(name):
    return os.path.join(TARGET, "release", name)


def start_usher(name, db, extra_env=None):
    port = free_port()
    data_dir = os.path.join(temp_root, f"{name}-data")
    os.makedirs(data_dir, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
    env.update({
        "USHER_DATA_DIR": data_dir,
        "USHER_SERVER__ADDR": f"127.0.0.1:{port}",
        "USHER_AUTH__HS256_SECRET": SECRET,
        "USHER_AUTH__BOOTSTRAP_SUPERUSERS": ROOT_EMAIL,
        "USHER_LOG_FORMAT": "json",
        "RUST_LOG": "warn",
    })
    if db:
        env["USHER_DATABASE__URL"] = pg_url(db)
        if POOL:
            env["USHER_DATABASE__MAX_CONNECTIONS"] = POOL
    env.update(extra_env or {})
    proc = spawn(name, [usher_bin("usher"), "serve"], env=env)
    wait_http(port, "/readyz", proc, name)
    return {"name": name, "port": port, "proc": proc}


def start_actix_peer():
    port = free_port()
    env = dict(os.environ, PEER_ADDR=f"127.0.0.1:{port}", PEER_DATABASE_URL=pg_url("usher"),
               PEER_HS256_SECRET=SECRET)
    if POOL:
        env["PEER_POOL"] = POOL
    proc = spawn("actix-peer", [usher_bin("load-peer")], env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if call(port, "POST", "/bare", timeout=2)[0] == 200:
                return {"port": port, "proc": proc}
        except OSError:
            time.sleep(0.05)
    die("the actix peer did not start:\n" + tail_log("actix-peer"))


def start_fastapi():
    port = free_port()
    env = dict(os.environ, FASTAPI_DATABASE_URL=pg_url("fastapi", "postgresql+asyncpg"), FASTAPI_JWT_SECRET=SECRET)
    py = os.path.join(VENV, "bin", "python")
    subprocess.run([py, os.path.join(HERE, "fastapi_users_app.py"), "create-tables"], env=env, check=True, cwd=HERE)
    proc = spawn("fastapi-users", [
        py, "-m", "uvicorn", "fastapi_users_app:app", "--app-dir", HERE, "--host", "127.0.0.1", "--port", str(port),
        "--workers", "2", "--no-access-log", "--log-level", "warning",
    ], env=env)
    wait_http(port, "/healthz", proc, "fastapi-users")
    return {"port": port, "proc": proc}


# --------------------------------------------------------------------------- seeding


def seed_users(db, prefix, count, start=1):
    """`count` users `<prefix><n>@bench.example`, as `usher token` would provision them."""
    psql(db, f"""
INSERT INTO users (subject, email, email_verified, display_name, username, created_at, updated_at)
SELECT 'local:{prefix}' || g || '@bench.example', '{prefix}' || g || '@bench.example', TRUE,
       'Bench {prefix} ' || g, '{prefix}' || g,
       now() - make_interval(secs => g), now() - make_interval(secs => g)
FROM generate_series({start}, {start + count - 1}) AS g;
ANALYZE users;
""")


def tokens_for(prefix, count, start=1):
    return [usher_token(f"{prefix}{n}@bench.example") for n in range(start, start + count)]


def create_org(port, token, name):
    return http_json(port, "POST", "/organization/create", token, {"name": name})


def org_id_of(user):
    """`/organization/create` answers the caller's User DTO, the new organization current."""
    return user["currentOrganizationId"]


def seed_main(usher):
    """Users, an organization, memberships for the readers, accept links."""
    port = usher["port"]
    root = usher_token(ROOT_EMAIL)
    http_json(port, "POST", "/user/get", root)
    org = org_id_of(create_org(port, root, "Bench organization"))
    seed_users("usher", "read", READ_USERS)
    psql("usher", f"""
INSERT INTO memberships (id, organization_id, user_id, role, status, joined_at, version)
SELECT gen_random_uuid(), '{org}', id, 'member', 'active', now(), 1 FROM users WHERE email LIKE 'read%@bench.example';
""")
    accepts = ROUNDS * ACCEPTS_PER_ROUND
    seed_users("usher", "acc", accepts)
    seed_users("usher", "over", 4000)
    links = []
    for _ in range(accepts // LINK_USES):
        created = http_json(port, "POST", "/invitation/create", root,
                            {"organizationId": org, "maxUses": LINK_USES, "expiresInSeconds": 86400})
        links.append(created["token"])
    over = http_json(port, "POST", "/invitation/create", root,
                     {"organizationId": org, "maxUses": OVERFLOW_USES, "expiresInSeconds": 86400})
    files = {
        "read": write_lines("read.tokens", tokens_for("read", READ_USERS)),
        "acc": write_lines("acc.tokens", tokens_for("acc", accepts)),
        "links": write_lines("links.txt", links),
        "over": write_lines("over.tokens", tokens_for("over", 4000)),
        "over_link": write_lines("over-link.txt", [over["token"]]),
    }
    # Sanity: a seeded reader signs in as the seeded row (no provisioning), the peer reads it too.
    body = http_json(port, "POST", "/user/get", usher_token("read1@bench.example"))
    if body.get("email") != "read1@bench.example":
        die(f"a seeded user did not sign in as seeded: {body}")
    return {"org": org, "over_invitation": over["invitation"]["id"], "files": files, "root": root}


def seed_fastapi():
    psql("fastapi", f"""
INSERT INTO "user" (id, email, hashed_password, is_active, is_superuser, is_verified, display_name)
SELECT gen_random_uuid(), 'read' || g || '@bench.example', 'not-a-hash', TRUE, FALSE, TRUE, 'Bench read ' || g
FROM generate_series(1, {READ_USERS}) AS g;
ANALYZE "user";
""")
    ids = psql("fastapi", "SELECT id FROM \"user\" ORDER BY email").split()
    return write_lines("fastapi.tokens", [fastapi_token(i) for i in ids])


def seed_paging(db, usher, rows):
    """`rows` users, each with one PENDING picture, one submitted profile and one membership."""
    port = usher["port"]
    root = usher_token(ROOT_EMAIL)
    http_json(port, "POST", "/user/get", root)
    org = org_id_of(create_org(port, root, "Paging organization"))
    t0 = time.time()
    seed_users(db, "page", rows)
    psql(db, f"""
INSERT INTO photo_verifications (id, user_id, profile_url, profile_key, profile_sha256, status, created_at, updated_at,
                                 version)
SELECT gen_random_uuid(), id, 'http://127.0.0.1/files/avatars/' || id || '.png', 'avatars/' || id || '.png',
       repeat('0', 64), 'PENDING', created_at, created_at, 1
FROM users WHERE email LIKE 'page%@bench.example';
INSERT INTO profiles (id, user_id, state, created_at, updated_at, version)
SELECT gen_random_uuid(), id, 'submitted', created_at, created_at, 1
FROM users WHERE email LIKE 'page%@bench.example';
INSERT INTO memberships (id, organization_id, user_id, role, status, joined_at, version)
SELECT gen_random_uuid(), '{org}', id, 'member', 'active', created_at, 1
FROM users WHERE email LIKE 'page%@bench.example';
VACUUM ANALYZE;
""")
    log(f"seeded {rows} rows × (users, pictures, profiles, memberships) in {db} in {time.time() - t0:.0f} s")
    cursors = {}
    for path in ("/picture/all", "/admin/profiles"):
        cursor = None
        for _ in range(499):
            q = "?limit=20" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            page = http_json(port, "GET", path + q, root)
            cursor = page.get("nextCursor")
            if not cursor:
                break
        cursors[path] = cursor
    cursor = None
    for _ in range(499):
        body = {"organizationId": org, "limit": 20}
        if cursor:
            body["cursor"] = cursor
        page = http_json(port, "POST", "/organization/members/list", root, body)
        cursor = page.get("nextCursor")
        if not cursor:
            break
    cursors["members"] = cursor
    return {"org": org, "root": root, "cursors": cursors}


# --------------------------------------------------------------------------- running a target


def parse_duration(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]
    return float(m.group(1)) * scale


def run_wrk(target, offset):
    env = dict(os.environ, BENCH_METHOD=target["method"], BENCH_PATH=target["path"],
               BENCH_TOKENS=target.get("tokens", ""), BENCH_BODY=target.get("body", ""),
               BENCH_LINKS=target.get("links", ""), BENCH_USES=str(target.get("uses", 1)),
               BENCH_OFFSET=str(offset), BENCH_THREADS=str(WRK_THREADS))
    conns = target.get("connections", CONNECTIONS)
    argv = ["wrk", "-t", str(min(WRK_THREADS, conns)), "-c", str(conns), "-d", f"{target.get('seconds', SECONDS)}s",
            "--timeout", "30s", "--latency", "-s", os.path.join(HERE, "request.lua"),
            f"http://127.0.0.1:{target['port']}{target['path']}"]
    env["BENCH_THREADS"] = str(min(WRK_THREADS, conns))
    samples = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            if target.get("pid"):
                samples.append(rss_kib(target["pid"])[0])
            done.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    done.set()
    sampler.join()
    out = r.stdout
    if r.returncode != 0:
        die(f"wrk failed on {target['name']}: {r.stderr.strip()}\n{out}")
    res = {"rps": 0.0, "p50": None, "p99": None, "errors": 0, "requests": 0, "rss": max(samples) if samples else None}
    if m := re.search(r"^statuses (\{.*\})$", out, re.M):
        res["statuses"] = {int(k): v for k, v in json.loads(m.group(1)).items()}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        res["rps"] = float(m.group(1))
    if m := re.search(r"^\s+50%\s+(\S+)", out, re.M):
        res["p50"] = parse_duration(m.group(1))
    if m := re.search(r"^\s+99%\s+(\S+)", out, re.M):
        res["p99"] = parse_duration(m.group(1))
    if m := re.search(r"(\d+) requests in", out):
        res["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        res["errors"] += int(m.group(1))
        res["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        res["errors"] += sum(int(x) for x in m.groups())
    return res


def run_pgbench(target):
    argv = [os.path.join(pg["bin"], "pgbench"), "-h", "127.0.0.1", "-p", str(pg["port"]), "-U", "postgres", "-n",
            "-M", "prepared", "-c", str(CONNECTIONS), "-j", str(WRK_THREADS), "-T", str(SECONDS), "-r"]
    if target["script"] == "select-only":
        argv.append("-S")
    argv.append("pgbench")
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        die(f"pgbench failed: {r.stderr.strip()}")
    out = r.stdout
    res = {"rps": 0.0, "p50": None, "p99": None, "errors": 0, "requests": 0, "rss": None, "statuses": {}}
    if m := re.search(r"tps = ([\d.]+) \(without initial connection time\)", out):
        res["rps"] = float(m.group(1))
    if m := re.search(r"latency average = ([\d.]+) ms", out):
        res["avg"] = float(m.group(1))
    if m := re.search(r"number of failed transactions: (\d+)", out):
        res["errors"] = int(m.group(1))
    if m := re.search(r"number of transactions actually processed: (\d+)", out):
        res["requests"] = int(m.group(1))
    return res


# --------------------------------------------------------------------------- start-up on SQLite


def measure_startup(runs=5):
    """Milliseconds from exec to the first /readyz 200, SQLite, data dir already migrated."""
    data_dir = os.path.join(temp_root, "startup-data")
    os.makedirs(data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
    env.update({"USHER_DATA_DIR": data_dir, "USHER_LOG_FORMAT": "json", "RUST_LOG": "warn"})
    subprocess.run([usher_bin("usher"), "migrate"], env=env, check=True, capture_output=True, cwd=temp_root)
    times = []
    for i in range(runs):
        port = free_port()
        env["USHER_SERVER__ADDR"] = f"127.0.0.1:{port}"
        t0 = time.perf_counter()
        proc = spawn(f"startup-{i}", [usher_bin("usher"), "serve"], env=env)
        while True:
            if proc.poll() is not None:
                die("usher exited during the start-up measurement:\n" + tail_log(f"startup-{i}"))
            try:
                if call(port, "GET", "/readyz", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.002)
            if time.perf_counter() - t0 > 30:
                die("usher did not become ready within 30 s on SQLite")
        times.append((time.perf_counter() - t0) * 1000)
        stop(proc)
    return times


# --------------------------------------------------------------------------- report


def fmt_ms(v):
    if v is None:
        return "—"
    return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"


def fmt_mib(kib):
    return "—" if kib is None else f"{kib / 1024:.1f} MiB"


def sum_statuses(rounds):
    """The non-2xx statuses over all rounds, e.g. `409×3, 503×1`."""
    total = {}
    for r in rounds:
        for status, n in r.get("statuses", {}).items():
            if not 200 <= status < 300:
                total[status] = total.get(status, 0) + n
    return ", ".join(f"{status}×{n}" for status, n in sorted(total.items()))


def summarize(results):
    """Median req/s, p50, p99 over rounds; errors summed; RSS the highest sample."""
    out = {}
    for name, rounds in results.items():
        med = lambda key: statistics.median([r[key] for r in rounds if r.get(key) is not None]) \
            if any(r.get(key) is not None for r in rounds) else None
        rss = [r["rss"] for r in rounds if r.get("rss") is not None]
        out[name] = {
            "rps": med("rps"), "p50": med("p50"), "p99": med("p99"), "avg": med("avg"),
            "errors": sum(r["errors"] for r in rounds), "requests": sum(r["requests"] for r in rounds),
            "rss": max(rss) if rss else None, "rounds": [r["rps"] for r in rounds],
            "bad": sum_statuses(rounds),
        }
    return out


def ratio(a, b):
    return None if not a or not b else a / b


def verdict(value, target, higher_is_better=True):
    if value is None:
        return "not measured"
    ok = value >= target if higher_is_better else value <= target
    return "meets" if ok else "MISSES"


def main():
    global temp_root
    pg_bin = preflight()
    setup_venv()
    build()
    for b in ("usher", "load-peer"):
        if not os.path.exists(usher_bin(b)):
            die(f"{usher_bin(b)} is missing: run without BENCH_NO_BUILD")
    temp_root = tempfile.mkdtemp(prefix="usher-bench-")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    log(f"temp dir {temp_root}; PostgreSQL from {pg_bin}")
    start_postgres(pg_bin)
    for db in ("usher", "fastapi", "pgbench", "usher_small", "usher_large"):
        psql("postgres", f"CREATE DATABASE {db}")

    log("starting usher (main), the actix peer and fastapi-users")
    usher = start_usher("usher", "usher")
    main_seed = seed_main(usher)
    peer = start_actix_peer()
    status, body = call(peer["port"], "POST", "/user/get", usher_token("read1@bench.example"))
    if status != 200 or b"read1@bench.example" not in body:
        die(f"the actix peer did not read the seeded user: {status} {body[:200]!r}")
    fastapi = start_fastapi()
    fastapi_tokens = seed_fastapi()
    status, body = call(fastapi["port"], "GET", "/users/me", open(fastapi_tokens).readline().strip())
    if status != 200:
        die(f"fastapi-users did not accept its token: {status} {body[:200]!r}")

    log(f"pgbench -i -s {PGBENCH_SCALE}")
    subprocess.run([os.path.join(pg_bin, "pgbench"), "-h", "127.0.0.1", "-p", str(pg["port"]), "-U", "postgres",
                    "-i", "-q", "-s", str(PGBENCH_SCALE), "pgbench"], check=True, capture_output=True)

    log(f"starting usher on the paging data sets ({SMALL_ROWS} and {LARGE_ROWS} rows)")
    small = start_usher("usher-small", "usher_small")
    small_seed = seed_paging("usher_small", small, SMALL_ROWS)
    large = start_usher("usher-large", "usher_large")
    large_seed = seed_paging("usher_large", large, LARGE_ROWS)

    f = main_seed["files"]
    targets = [
        {"name": "usher POST /user/get", "port": usher["port"], "pid": usher["proc"].pid, "method": "POST",
         "path": "/user/get", "tokens": f["read"]},
        {"name": "fastapi-users GET /users/me", "port": fastapi["port"], "pid": fastapi["proc"].pid, "method": "GET",
         "path": "/users/me", "tokens": fastapi_tokens},
        {"name": "actix+sqlx POST /user/get", "port": peer["port"], "pid": peer["proc"].pid, "method": "POST",
         "path": "/user/get", "tokens": f["read"]},
        {"name": "bare actix POST /bare", "port": peer["port"], "pid": peer["proc"].pid, "method": "POST",
         "path": "/bare", "tokens": f["read"]},
        {"name": "usher GET /healthz", "port": usher["port"], "pid": usher["proc"].pid, "method": "GET",
         "path": "/healthz", "tokens": f["read"]},
        {"name": "pgbench -S", "pgbench": True, "script": "select-only"},
        {"name": "usher POST /user/update", "port": usher["port"], "pid": usher["proc"].pid, "method": "POST",
         "path": "/user/update", "tokens": f["read"], "body": '{"displayName":"Bench name {n}"}'},
        {"name": "fastapi-users PATCH /users/me", "port": fastapi["port"], "pid": fastapi["proc"].pid,
         "method": "PATCH", "path": "/users/me", "tokens": fastapi_tokens, "body": '{"display_name":"Bench name {n}"}'},
        {"name": "usher POST /invitation/accept", "port": usher["port"], "pid": usher["proc"].pid, "method": "POST",
         "path": "/invitation/accept", "tokens": f["acc"], "links": f["links"], "uses": LINK_USES,
         "per_round": ACCEPTS_PER_ROUND},
        {"name": "pgbench TPC-B", "pgbench": True, "script": "tpcb"},
    ]
    for inst, seed in ((small, small_seed), (large, large_seed)):
        label = f"{SMALL_ROWS // 1000}k" if inst is small else (
            f"{LARGE_ROWS // 1000000}M" if LARGE_ROWS % 1000000 == 0 else f"{LARGE_ROWS // 1000}k")
        base = {"port": inst["port"], "pid": inst["proc"].pid, "tokens": write_lines(f"root-{inst['name']}.tokens",
                [seed["root"]]), "connections": PAGE_CONNECTIONS}
        for path, short in (("/picture/all", "pictures"), ("/admin/profiles", "profiles")):
            targets.append(dict(base, name=f"usher GET {path} first page @{label}", method="GET", path=path,
                                group=(short, "first"), size=inst["name"]))
            cursor = seed["cursors"].get(path)
            if cursor:
                targets.append(dict(base, name=f"usher GET {path} page 500 @{label}", method="GET",
                                    path=f"{path}?cursor={urllib.parse.quote(cursor)}", group=(short, "p500"),
                                    size=inst["name"]))
        members = {"organizationId": seed["org"], "limit": 20}
        targets.append(dict(base, name=f"usher members list first page @{label}", method="POST",
                            path="/organization/members/list", body=json.dumps(members),
                            group=("members", "first"), size=inst["name"]))
        if cursor := seed["cursors"].get("members"):
            targets.append(dict(base, name=f"usher members list page 500 @{label}", method="POST",
                                path="/organization/members/list", body=json.dumps(dict(members, cursor=cursor)),
                                group=("members", "p500"), size=inst["name"]))
        # A selective prefix (one member of the organization, at either size): the index path.
        targets.append(dict(base, name=f"usher members search @{label}", method="POST",
                            path="/organization/members/list", body=json.dumps(dict(members, search="PAGE4242@")),
                            group=("search", "first"), size=inst["name"]))
    if ONLY:
        targets = [t for t in targets if any(o in t["name"] for o in ONLY)]

    log(f"{len(targets)} targets × {ROUNDS} rounds × {SECONDS} s, interleaved")
    results = {t["name"]: [] for t in targets}
    for rnd in range(ROUNDS):
        for t in targets:
            res = run_pgbench(t) if t.get("pgbench") else run_wrk(t, rnd * t.get("per_round", 0))
            results[t["name"]].append(res)
            log(f"round {rnd + 1}/{ROUNDS} {t['name']}: {res['rps']:.0f}/s p50 {fmt_ms(res['p50'])} "
                f"p99 {fmt_ms(res['p99'])} errors {res['errors']}")

    # Invitation accept: every link used at most maxUses, memberships = use_count, and an
    # over-subscribed link (4000 distinct users at once on a 50-use link) ends with exactly 50.
    over_target = {"name": "overflow", "port": usher["port"], "method": "POST", "path": "/invitation/accept",
                   "tokens": f["over"], "links": f["over_link"], "uses": 10 ** 9, "seconds": 2}
    over_res = run_wrk(over_target, 0)
    check = psql("usher", f"""
SELECT count(*) FILTER (WHERE n > max_uses), count(*) FILTER (WHERE n <> use_count), coalesce(sum(n), 0)
FROM (SELECT i.max_uses, i.use_count, (SELECT count(*) FROM memberships m WHERE m.invitation_id = i.id) AS n
      FROM invitations i WHERE i.organization_id = '{main_seed['org']}' AND i.id <> '{main_seed['over_invitation']}') x;
SELECT count(*) FROM memberships WHERE invitation_id = '{main_seed['over_invitation']}';
""").split("\n")
    over_links, mismatched, accepted = (int(x) for x in check[0].split("|"))
    failed = psql("usher", f"""
SELECT string_agg(coalesce(reason, '?') || '×' || n, ', ') FROM (
  SELECT a.reason, count(*) AS n FROM invitation_acceptances a JOIN invitations i ON i.id = a.invitation_id
  WHERE a.outcome = 'failed' AND i.organization_id = '{main_seed['org']}' AND i.id <> '{main_seed['over_invitation']}'
  GROUP BY a.reason) x;
""") or "none"
    over_members = int(check[1])

    startup = measure_startup()
    s = summarize(results)
    usher_rss_hwm = rss_kib(usher["proc"].pid)[1]

    lines = []
    lines.append(f"Run: {started}; {ROUNDS} interleaved rounds × {SECONDS} s per target; wrk {WRK_THREADS} threads, "
                 f"{CONNECTIONS} connections ({PAGE_CONNECTIONS} for paging); "
                 f"{os.cpu_count()} cores shared by everything (PostgreSQL, servers, wrk).")
    lines.append("")
    lines.append("| target | req/s (median) | rounds | p50 | p99 | errors | server RSS under load |")
    lines.append("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for t in targets:
        r = s[t["name"]]
        p50 = fmt_ms(r["p50"]) if not t.get("pgbench") else f"avg {fmt_ms(r['avg'])}"
        rounds = " / ".join(f"{x:.0f}" for x in r["rounds"])
        bad = f" ({r['bad']})" if r["bad"] else ""
        lines.append(f"| {t['name']} | {r['rps']:.0f} | {rounds} | {p50} | {fmt_ms(r['p99'])} | {r['errors']} "
                     f"of {r['requests']}{bad} | {fmt_mib(r['rss'])} |")
    lines.append("")
    lines.append("| spec target | measured | target | verdict |")
    lines.append("| --- | ---: | ---: | --- |")

    def row(label, value, target, fmt, higher=True):
        shown = "—" if value is None else fmt(value)
        lines.append(f"| {label} | {shown} | {target} | {verdict(value, float(re.sub(r'[^0-9.]', '', target)), higher)} |")

    get = lambda n, k="rps": s.get(n, {}).get(k)
    x = lambda v: f"{v:.2f}×"
    row("usher /user/get ÷ fastapi-users GET /users/me", ratio(get("usher POST /user/get"),
        get("fastapi-users GET /users/me")), "≥ 20×", x)
    row("usher /user/get ÷ actix+sqlx handler", ratio(get("usher POST /user/get"),
        get("actix+sqlx POST /user/get")), "≥ 1.0×", x)
    row("usher /user/get p99 ÷ actix+sqlx p99", ratio(get("usher POST /user/get", "p99"),
        get("actix+sqlx POST /user/get", "p99")), "≤ 1.0×", x, higher=False)
    row("usher /user/update ÷ fastapi-users PATCH /users/me", ratio(get("usher POST /user/update"),
        get("fastapi-users PATCH /users/me")), "≥ 10×", x)
    row("usher /invitation/accept ÷ pgbench TPC-B tps", ratio(get("usher POST /invitation/accept"),
        get("pgbench TPC-B")), "≥ 0.5×", x)
    for short in ("pictures", "profiles", "members", "search"):
        for page in ("first", "p500"):
            lat = {}
            for t in targets:
                if t.get("group") == (short, page):
                    lat[t["size"]] = s[t["name"]]["p50"]
            if len(lat) == 2:
                label = {"pictures": "GET /picture/all", "profiles": "GET /admin/profiles",
                         "members": "POST /organization/members/list",
                         "search": "POST /organization/members/list search (a name or e-mail prefix)"}[short]
                row(f"{label} {'first page' if page == 'first' else 'page 500'}: p50 @{LARGE_ROWS} ÷ p50 "
                    f"@{SMALL_ROWS}", ratio(lat.get("usher-large"), lat.get("usher-small")), "≤ 1.5×", x, higher=False)
    rss = get("usher POST /user/get", "rss")
    row("usher RSS under POST /user/get (max VmRSS sampled)", None if rss is None else rss / 1024, "≤ 32 MiB",
        lambda v: f"{v:.1f} MiB", higher=False)
    row("start-up to /readyz 200 (SQLite, migrated), median of 5", statistics.median(startup), "≤ 500 ms",
        lambda v: f"{v:.0f} ms", higher=False)
    lines.append("")
    stack = ratio(get("usher GET /healthz"), get("bare actix POST /bare"))
    if stack is not None:
        lines.append(f"The service's own stack (middleware, routing, no database): usher GET /healthz at "
                     f"{stack:.2f}× the bare actix handler's rate.")
    lines.append(f"Start-up runs: {', '.join(f'{t:.0f}' for t in startup)} ms. Usher (main) VmHWM at the end: "
                 f"{fmt_mib(usher_rss_hwm)}.")
    acc_rounds = results.get("usher POST /invitation/accept", [])
    answered_2xx = sum(r["requests"] - r.get("non2xx", 0) for r in acc_rounds)
    lines.append(f"Invitation accept: {answered_2xx} accepts answered 2xx while wrk measured (requests in "
                 f"flight when it stopped finish afterwards), {accepted} memberships through {len(open(f['links']).read().split())} "
                 f"links of maxUses {LINK_USES}; links over maxUses: {over_links}; links whose use_count differs "
                 f"from their memberships: {mismatched}; failed attempts logged: {failed}. Over-subscribed link (maxUses {OVERFLOW_USES}, "
                 f"{over_res['requests']} accepts by distinct users in 2 s): {over_members} memberships — "
                 f"{'exactly maxUses' if over_members == OVERFLOW_USES else 'NOT exactly maxUses'}.")
    lines.append(f"Data: /user/get and /user/update rotate over {READ_USERS} users (one membership each); "
                 f"paging data sets of {SMALL_ROWS} and {LARGE_ROWS} users, each with one pending picture, one "
                 f"submitted profile and one membership; pgbench scale {PGBENCH_SCALE}.")
    report = "\n".join(lines)
    print(report)
    if path := os.environ.get("BENCH_REPORT"):
        with open(path, "w") as fh:
            fh.write(report + "\n")


if __name__ == "__main__":
    main()
