"""Seeds the fresh service with one of everything the fuzzer cannot create
on its own, and writes their ids as JSON for hooks.py, and the two identities
as a Web Fuzzing Commons auth document for schemathesis.toml.

The actor (the superuser, or a plain user: whoever the run fuzzes as) creates
an organization, so it is the organization's owner, with a zone and a
multi-use invitation; the peer (always a plain user) joins through it; the
actor files a KYC profile of its own. Without these, nearly every generated id
names no record and the run stops at 403/404 before the interesting code.

Usage: seed.py BASE_URL ACTOR_TOKEN PEER_TOKEN OUT_JSON OUT_AUTH_JSON
"""

import json
import sys
import urllib.request


def call(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.load(res)


def main():
    base, actor, peer, out, auth_out = sys.argv[1:6]
    user = call(base, actor, "POST", "/organization/create", {"name": "Fuzz Org"})
    org = user["currentOrganizationId"]
    zone = call(base, actor, "POST", "/organization/zones/create", {"organizationId": org, "name": "Fuzz Zone"})
    created = call(base, actor, "POST", "/invitation/create", {"organizationId": org, "maxUses": 1000})
    joined = call(base, peer, "POST", "/invitation/accept", {"token": created["token"]})
    profile = call(
        base,
        actor,
        "POST",
        "/resource/profiles",
        {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "dob": "1990-12-10",
            "address": "12 St James's Square",
            "postcode": "SW1Y 4JH",
            "city": "London",
            "country": "GB",
            "confirm": True,
        },
    )
    seed = {
        "organizationId": org,
        "zoneId": zone["id"],
        "invitationId": created["invitation"]["id"],
        "invitationToken": created["token"],
        "actorId": user["id"],
        "peerId": joined["id"],
        "profileId": profile["id"],
    }
    with open(out, "w") as f:
        json.dump(seed, f)
    # The actor first: schemathesis.toml pins every operation to it; the peer
    # is only who object_level_authorization replays the actor's reads as.
    auth = {
        "auth": [
            {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
            for name, token in (("actor", actor), ("peer", peer))
        ]
    }
    with open(auth_out, "w") as f:
        json.dump(auth, f)
    print("schemathesis: seeded " + ", ".join(f"{k}={v}" for k, v in seed.items() if k != "invitationToken"))


if __name__ == "__main__":
    main()
