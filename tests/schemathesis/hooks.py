"""Schemathesis hooks: point half of the well-formed generated ids at the
records seed.py created, so generated requests reach the code behind the
403/404 guards. Malformed values (the bad input this suite is about) and the
other half of the well-formed ones pass through untouched. The choice hashes
the generated value with CRC-32 (not Python's salted hash()), so a seed
reproduces a run.
"""

import json
import os
import re
import zlib

import schemathesis

with open(os.environ["FUZZ_SEED_FILE"]) as _f:
    SEED = json.load(_f)

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
USER_ID = re.compile(r"^[0-9]{1,19}$")

# body field -> (what a well-formed value looks like, the seeded values to pick from)
BODY = {
    "organizationId": (UUID, ["organizationId"]),
    "zoneId": (UUID, ["zoneId"]),
    "invitationId": (UUID, ["invitationId"]),
    "userId": (USER_ID, ["actorId", "peerId"]),
    "token": (re.compile(r"^.+$"), ["invitationToken"]),
}
# (path template, parameter) -> the seeded values to pick from
PATH = {
    ("/admin/profiles/{id}", "id"): (UUID, ["profileId"]),
    ("/admin/users/{userId}", "userId"): (USER_ID, ["actorId", "peerId"]),
    ("/admin/users/{userId}/labels", "userId"): (USER_ID, ["actorId", "peerId"]),
    ("/picture/{userId}", "userId"): (USER_ID, ["actorId", "peerId"]),
}


def _swap(value, shape, names):
    if not isinstance(value, str) or not shape.match(value):
        return value
    digest = zlib.crc32(value.encode())
    if digest % 2:
        return value
    return SEED[names[(digest // 2) % len(names)]]


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict):
        for field, (shape, names) in BODY.items():
            if field in body:
                body[field] = _swap(body[field], shape, names)
    return body


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    path = context.operation.path if context.operation is not None else ""
    for (template, name), (shape, names) in PATH.items():
        if path == template and name in path_parameters:
            path_parameters[name] = _swap(path_parameters[name], shape, names)
    return path_parameters
