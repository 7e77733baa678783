"""Seeds the fresh service with one of everything the fuzzer cannot create
on its own, and writes their ids as JSON for hooks.py (seed.json), and the
two identities schemathesis sends as a Web Fuzzing Commons auth document for
schemathesis.toml (auth.json).

The actor is whoever the run fuzzes as: the bootstrap superuser `root`, or
the plain user `owner`. It creates an organization (so it is its owner) with
a zone and a multi-use invitation; the peer, always a plain user, joins
through it. Both file a KYC profile: the actor's stays a draft, the peer's is
submitted. Photo verification is on: the actor uploads two profile photos,
the first approved by another superuser (so the actor has a published avatar
under /files/), the second left PENDING; the peer, whose Discord id is linked
(the run's fake Discord API knows it), leaves one PENDING too. So the
/picture/* and /discord-actions/* operations have verifications to read,
decide and refresh. A spare plain user takes the platform-role changes and
erasures that hooks.py keeps away from the actor and the peer. Without all
this, nearly every generated id names no record and the run stops at 403/404
before the interesting code.

Approving the actor's own photo takes a second superuser: for a superuser run
that is `reviewer` (also a bootstrap superuser), demoted again afterwards so
that `root` stays the only superuser and "the last superuser cannot be
demoted" still guards the actor.

Every user signs in with a token from `usher token` (`<name>@example.com`),
valid long enough for the slowest run, and is created by its first request.

Usage: seed.py BASE_URL USHER_BIN DATA_DIR ROLE   (ROLE: user or superuser)
  writes DATA_DIR/seed.json and DATA_DIR/auth.json
"""

import json
import os
import struct
import subprocess
import sys
import urllib.request
import zlib


# The document's own example of a Discord id, so generated cases use it too.
DISCORD_ID = "80351110224678912"


def call(base, token, method, path, body=None, raw=None, headers=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(path if path.startswith("http") else base + path, data=data, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=10) as res:
        text = res.read()
        return json.loads(text) if text else None


def png():
    """A 1×1 PNG: what finalize checks is the magic bytes and the header."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


def upload_photo(base, token):
    """Ticket, PUT to the presigned URL, finalize; the id of the PENDING verification."""
    ticket = call(base, token, "POST", "/user/avatar/upload-ticket", {"contentType": "image/png"})
    call(base, None, "PUT", ticket["uploadUrl"], raw=png(), headers=ticket["requiredHeaders"])
    done = call(base, token, "POST", "/user/avatar/finalize", {"tmpKey": ticket["tmpKey"]})
    return done["pendingVerification"]["id"]


def profile(first, last, submit):
    return {
        "firstName": first,
        "lastName": last,
        "dob": "1990-12-10",
        "address": "12 St James's Square",
        "postcode": "SW1Y 4JH",
        "city": "London",
        "country": "GB",
        "confirm": submit,
    }


def token(usher, data_dir, name):
    """`usher token` reads only the HS256 secret in the data dir."""
    return subprocess.run(
        [usher, "token", "--email", f"{name}@example.com", "--ttl", "86400"],
        cwd=data_dir,
        env={**os.environ, "USHER_DATA_DIR": data_dir},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=True,
        text=True,
    ).stdout.strip()


def main():
    base, usher, out_dir, role = sys.argv[1:5]
    tokens = {name: token(usher, out_dir, name) for name in ("root", "reviewer", "owner", "peer", "spare")}
    actor = tokens["root"] if role == "superuser" else tokens["owner"]
    peer = tokens["peer"]

    user = call(base, actor, "POST", "/organization/create", {"name": "Fuzz Org"})
    org = user["currentOrganizationId"]
    zone = call(base, actor, "POST", "/organization/zones/create", {"organizationId": org, "name": "Fuzz Zone"})
    created = call(base, actor, "POST", "/invitation/create", {"organizationId": org, "maxUses": 1000})
    joined = call(base, peer, "POST", "/invitation/accept", {"token": created["token"]})
    spare = call(base, tokens["spare"], "POST", "/user/get")
    # The actor's stays a draft (PUT /resource/profiles edits only a draft);
    # the peer's is submitted, for a superuser to decide.
    actor_profile = call(base, actor, "POST", "/resource/profiles", profile("Ada", "Lovelace", False))
    peer_profile = call(base, peer, "POST", "/resource/profiles", profile("Charles", "Babbage", True))

    # Nobody approves their own photo, so a superuser run needs a second one.
    approver = tokens["reviewer"] if role == "superuser" else tokens["root"]
    first = upload_photo(base, actor)
    call(base, approver, "PATCH", f"/picture/verify/{first}?type=both")
    if role == "superuser":
        reviewer = call(base, tokens["reviewer"], "POST", "/user/get")
        call(base, tokens["root"], "PATCH", f"/admin/users/{reviewer['id']}", {"platformRole": "user"})
    avatar = call(base, actor, "POST", "/user/get")["avatarUrl"]
    actor_pending = upload_photo(base, actor)
    # The peer's Discord id is linked first, so its verification has a
    # Discord side for the refresh (the fake Discord API knows every id).
    call(base, tokens["root"], "PATCH", f"/admin/users/{joined['id']}", {"discordId": DISCORD_ID})
    peer_pending = upload_photo(base, peer)

    seed = {
        "organizationId": org,
        "zoneId": zone["id"],
        "invitationId": created["invitation"]["id"],
        "invitationToken": created["token"],
        "actorId": user["id"],
        "peerId": joined["id"],
        "spareId": spare["id"],
        "actorProfileId": actor_profile["id"],
        "peerProfileId": peer_profile["id"],
        "actorVerificationId": actor_pending,
        "peerVerificationId": peer_pending,
        "avatarKey": avatar.split("/files/", 1)[1],
        "peerDiscordId": DISCORD_ID,
    }
    with open(f"{out_dir}/seed.json", "w") as f:
        json.dump(seed, f)
    # The actor first: schemathesis.toml pins every operation to it; the peer
    # is only who object_level_authorization replays the actor's reads as.
    auth = {
        "auth": [
            {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
            for name, token in (("actor", actor), ("peer", peer))
        ]
    }
    with open(f"{out_dir}/auth.json", "w") as f:
        json.dump(auth, f)
    print("schemathesis: seeded " + ", ".join(f"{k}={v}" for k, v in seed.items() if k != "invitationToken"))


if __name__ == "__main__":
    main()
