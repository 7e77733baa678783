"""Usher's webhooks, checked by an independent implementation.

Starts usher (the binary given, embedded SQLite, deliveries every second,
attempts of at most two seconds) and an HTTP receiver on loopback. Every
delivery the receiver gets is verified with the `standardwebhooks` package
from PyPI, not with Usher's own code. Then:

1. signatures: every post verifies with its endpoint's secret, and not with
   another endpoint's;
2. retries: an organization's endpoint answers 500, then stalls past the
   attempt's timeout; the event arrives again under the same `webhook-id`,
   until a 2xx;
3. order: that organization's renames arrive in the order they happened,
   the second never before the first was taken;
4. duplicates: a replay through the API arrives with the same `webhook-id`,
   so a receiver deduplicating by id sees each event once;
5. revocation: a deleted superuser endpoint receives nothing after its
   deletion, while the other endpoint keeps receiving.

Waits are on what happens (a condition the handler notifies, usher's
`serving` line), each with a deadline; nothing sleeps for time to pass.
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

DEADLINE = 60


class Receiver:
    """What the endpoints received, and how each path answers next."""

    def __init__(self):
        self.lock = threading.Condition()
        self.posts = []  # (path, headers, body bytes)
        self.script = {}  # path -> list of "500" / "stall"; afterwards 204
        self.release = threading.Event()  # ends every stall at teardown

    def wait_for(self, what, predicate):
        with self.lock:
            if not self.lock.wait_for(lambda: predicate(self.posts), timeout=DEADLINE):
                raise AssertionError(f"no {what} within {DEADLINE} s; received: {self.summary()}")

    def summary(self):
        return [(p, h.get("webhook-id"), json.loads(b).get("data", {}).get("organization", {}).get("name")) for p, h, b in self.posts]


RECEIVER = Receiver()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        with RECEIVER.lock:
            RECEIVER.posts.append((self.path, headers, body))
            queue = RECEIVER.script.get(self.path, [])
            action = queue.pop(0) if queue else "204"
            RECEIVER.lock.notify_all()
        if action == "stall":
            # Longer than usher's attempt may take (2 s): usher gives up on it.
            RECEIVER.release.wait(5)
            action = "204"
        try:
            self.send_response(int(action))
            self.send_header("content-length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as res:
        text = res.read()
        return json.loads(text) if text else None


def main(usher):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hooks = f"http://127.0.0.1:{server.server_address[1]}"

    data_dir = tempfile.mkdtemp(prefix="usher-webhooks-")
    port = free_port()
    env = {
        **os.environ,
        "USHER_DATA_DIR": data_dir,
        "USHER_SERVER__ADDR": f"127.0.0.1:{port}",
        "USHER_AUTH__BOOTSTRAP_SUPERUSERS": "root@example.com",
        "USHER_EVENTS__WEBHOOK_INTERVAL_SECONDS": "1",
        "USHER_EVENTS__WEBHOOK_TIMEOUT_SECONDS": "2",
    }
    log = open(os.path.join(data_dir, "usher.log"), "w")
    proc = subprocess.Popen([usher], cwd=data_dir, env=env, stderr=subprocess.PIPE, stdout=log, text=True)
    serving = threading.Event()

    def follow():
        for line in proc.stderr:
            log.write(line)
            log.flush()
            if " serving " in line:
                serving.set()

    threading.Thread(target=follow, daemon=True).start()
    try:
        if not serving.wait(DEADLINE):
            raise AssertionError("usher did not start")
        base = f"http://127.0.0.1:{port}"
        token = lambda name: subprocess.run(  # noqa: E731
            [usher, "token", "--email", f"{name}@example.com", "--ttl", "3600"],
            cwd=data_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=True,
            text=True,
        ).stdout.strip()
        root, ada = token("root"), token("ada")
        check(base, hooks, root, ada)
    except BaseException:
        log.flush()
        with open(os.path.join(data_dir, "usher.log")) as f:
            sys.stderr.write("--- usher log (last 100 lines) ---\n" + "".join(f.readlines()[-100:]))
        raise
    finally:
        RECEIVER.release.set()
        proc.terminate()
        proc.wait(timeout=30)
        server.shutdown()


def check(base, hooks, root, ada):
    org = call(base, ada, "POST", "/organization/create", {"name": "Acme"})["currentOrganizationId"]
    mine = call(base, ada, "POST", "/organization/webhooks/create", {"organizationId": org, "url": f"{hooks}/acme"})
    platform = call(base, root, "POST", "/admin/webhooks", {"url": f"{hooks}/all", "eventTypes": ["organization.updated"]})
    secrets = {"/acme": mine["secret"], "/all": platform["secret"]}
    RECEIVER.script["/acme"] = ["500", "stall"]

    names = ["Acme 1", "Acme 2", "Acme 3"]
    for name in names:
        call(base, ada, "POST", "/organization/update", {"organizationId": org, "name": name})

    def renamed(path):
        return lambda posts: [json.loads(b)["data"]["organization"]["name"] for p, _, b in posts if p == path and json.loads(b)["type"] == "organization.updated"]

    RECEIVER.wait_for("three renames at /acme after a 500 and a stall", lambda posts: len(renamed("/acme")(posts)) >= 5)
    RECEIVER.wait_for("three renames at /all", lambda posts: len(renamed("/all")(posts)) >= 3)

    # 1. Every post verifies with its endpoint's secret, and not with the other's.
    with RECEIVER.lock:
        posts = list(RECEIVER.posts)
    for path, headers, body in posts:
        event = Webhook(secrets[path]).verify(body, headers)
        assert headers["webhook-id"] == event["id"], "webhook-id is the event's id"
        other = "/all" if path == "/acme" else "/acme"
        try:
            Webhook(secrets[other]).verify(body, headers)
        except WebhookVerificationError:
            pass
        else:
            raise AssertionError("a post verified with another endpoint's secret")
    print(f"signatures: {len(posts)} posts verified by standardwebhooks, none with the other endpoint's secret")

    # 2 and 3. Retried under the same id; in order, the next one only after the first was taken.
    acme = renamed("/acme")(posts)
    assert acme[:5] == ["Acme 1", "Acme 1", "Acme 1", "Acme 2", "Acme 3"], acme
    ids = [h["webhook-id"] for p, h, b in posts if p == "/acme" and json.loads(b)["type"] == "organization.updated"]
    assert len(set(ids[:3])) == 1 and len(set(ids)) == 3, ids
    assert renamed("/all")(posts) == names
    print("retries: Acme 1 answered 500, then stalled past the timeout, then taken: three posts, one webhook-id")
    print("order: Acme 2 and Acme 3 arrived after Acme 1 was taken, in the order they happened")

    # 4. A replay is the same message.
    first = ids[0]
    deliveries = call(base, ada, "POST", "/organization/webhooks/deliveries", {"organizationId": org, "webhookId": mine["webhook"]["id"]})
    original = next(d for d in deliveries["deliveries"] if d["eventId"] == first)
    statuses = [a["status"] for a in original["attempts"]]
    assert statuses == [500, None, 204], statuses
    assert "timed out" in original["attempts"][1]["error"], original["attempts"][1]
    call(base, ada, "POST", "/organization/webhooks/replay", {"organizationId": org, "webhookId": mine["webhook"]["id"], "deliveryId": original["id"]})
    RECEIVER.wait_for("the replay", lambda posts: sum(1 for p, h, _ in posts if p == "/acme" and h["webhook-id"] == first) == 4)
    with RECEIVER.lock:
        unique = {h["webhook-id"] for p, h, _ in RECEIVER.posts if p == "/acme"}
    print(f"duplicates: the replay came as {first}, again; deduplicated by id, /acme saw {len(unique)} events")

    # 5. A deleted endpoint receives nothing more.
    req = urllib.request.Request(f"{base}/admin/webhooks/{platform['webhook']['id']}", method="DELETE")
    req.add_header("Authorization", f"Bearer {root}")
    urllib.request.urlopen(req, timeout=30).close()
    with RECEIVER.lock:
        before = sum(1 for p, _, _ in RECEIVER.posts if p == "/all")
    call(base, ada, "POST", "/organization/update", {"organizationId": org, "name": "Acme 4"})
    # Both endpoints' deliveries of a change are made in one fan-out: once
    # /acme has Acme 4, /all would have had it too.
    RECEIVER.wait_for("Acme 4 at /acme", lambda posts: "Acme 4" in renamed("/acme")(posts))
    with RECEIVER.lock:
        after = sum(1 for p, _, _ in RECEIVER.posts if p == "/all")
    assert after == before, f"the deleted endpoint received {after - before} posts"
    print("revocation: after its deletion, /all received nothing; /acme received Acme 4")
    print("webhooks: every check passed")


if __name__ == "__main__":
    main(sys.argv[1])
