"""Seeds the fresh service with one of everything the fuzzer cannot create
on its own, and writes their ids as JSON for hooks.py.

The superuser creates an organization with a zone and a multi-use
invitation, a second user joins through it, and the superuser files a KYC
profile. Without these, nearly every generated id names no record and the
run stops at 403/404 before the interesting code.

Usage: seed.py BASE_URL SUPERUSER_TOKEN MEMBER_TOKEN OUT_JSON
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
    base, root, member, out = sys.argv[1:5]
    user = call(base, root, "POST", "/organization/create", {"name": "Fuzz Org"})
    org = user["currentOrganizationId"]
    zone = call(base, root, "POST", "/organization/zones/create", {"organizationId": org, "name": "Fuzz Zone"})
    created = call(base, root, "POST", "/invitation/create", {"organizationId": org, "maxUses": 1000})
    joined = call(base, member, "POST", "/invitation/accept", {"token": created["token"]})
    profile = call(
        base,
        root,
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
        "superuserId": user["id"],
        "memberId": joined["id"],
        "profileId": profile["id"],
    }
    with open(out, "w") as f:
        json.dump(seed, f)
    print("schemathesis: seeded " + ", ".join(f"{k}={v}" for k, v in seed.items() if k != "invitationToken"))


if __name__ == "__main__":
    main()
