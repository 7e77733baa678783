"""Schemathesis hooks for tests/schemathesis/run. Four jobs, each narrow:

1. Aim ids. Half of the well-formed generated ids are pointed at the records
   seed.py created, so generated requests reach the code behind the 403/404
   guards. Malformed values (the bad input this suite is about) and the other
   half of the well-formed ones pass through untouched. The choice hashes the
   generated value with CRC-32 (not Python's salted hash()), so a seed
   reproduces a run.

2. Keep the run's identities what they are. Demoting the actor or promoting
   the peer is dropped from the request, and erasing either is aimed at the
   spare user instead: a demoted actor would turn the rest of a superuser run
   into a plain user's, an erased one's token is refused from then on, and a
   promoted peer would make object_level_authorization replay the actor's
   reads as a superuser.

3. Excuse refusals of schema-valid data that the document cannot express
   (filter_failure). positive_data_acceptance holds the API to its document:
   a request the document allows must not be refused as invalid. A few rules
   of this API have no JSON Schema keyword, and the document states them in
   its descriptions; a refusal is excused only when the server's 422 names
   nothing but such rules, and each named value really breaks one (checked
   here, not taken on the server's word). Anything else, including every rule
   a keyword could carry (lengths, enums, patterns, minimums, required
   fields), stays a failure: that is the document's or the server's to fix.
   The excused rules, in EXCUSES below:
   - the clock: a date of birth from 1900-01-01 up to today; an `expiresAt`
     in the future;
   - the server's state: a cursor is one the service issued;
   - a time range's `from` before its `to` (a rule between two fields);
   - a required query parameter that is not there (400
     `request.malformed_query`, "missing field"): a stateful link filled it
     from a null in an earlier answer (a platform webhook's
     `organizationId`), so the request was not schema-valid after all;
   - a webhook URL's network: `http://` only to loopback, and no address of
     a private, link-local or shared network (the document's pattern gives
     the URL's shape; which addresses are inside is the description's);
   - the wire form of integers: 71.0 is a JSON Schema integer, serde reads
     only 71;
   - NUL, refused in every string of every request at the door (PostgreSQL
     cannot store one), which no single field's schema is the place for;
   - rules by Unicode category (letters, marks, control, format, private-use
     and unassigned characters, "something visible"): the regexes that
     generate cases (Python's `re`) have no \\p{..}, and the unassigned set
     moves with every Unicode version. Excused only when the value's ASCII
     characters and its length are within the rule, so the refusal can only
     be about a non-ASCII character.

4. Excuse object_level_authorization when the "actor's object" is the peer's
   own record (filter_failure): the check takes whatever the actor's writes
   answered for the actor's, but a superuser deciding the peer's photo is
   answered with the peer's verification, which the peer may read.
"""

import datetime
import json
import os
import re
import zlib

import schemathesis

with open(os.environ["FUZZ_SEED_FILE"]) as _f:
    SEED = json.load(_f)

# --- 1. Aim ids --------------------------------------------------------------

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Well-formed as the document says, or a subset of it: a value outside the
# document's shape (a negative case) must reach the server as generated.
USER_ID = re.compile(r"^[1-9][0-9]{0,17}$")
DISCORD_ID = re.compile(r"^[1-9][0-9]{16,18}$")
TOKEN = re.compile(r"^[^\x00]{1,128}$", re.DOTALL)
# For values the document gives no shape (an object key): any non-empty
# string counts as well-formed.
ANY = re.compile(r"^.+$")

# body field -> (what a well-formed value looks like, the seeded values to pick from)
BODY = {
    "organizationId": (UUID, ["organizationId"]),
    "zoneId": (UUID, ["zoneId"]),
    "invitationId": (UUID, ["invitationId"]),
    "userId": (USER_ID, ["actorId", "peerId"]),
    "createdBy": (USER_ID, ["actorId"]),
    "token": (TOKEN, ["invitationToken"]),
}
# (path template, parameter) -> the seeded values to pick from
PATH = {
    ("/admin/organizations/{organizationId}/admins", "organizationId"): (UUID, ["organizationId"]),
    ("/admin/profiles/{id}", "id"): (UUID, ["actorProfileId", "peerProfileId"]),
    ("/admin/users/{userId}", "userId"): (USER_ID, ["actorId", "peerId", "spareId"]),
    ("/admin/users/{userId}/labels", "userId"): (USER_ID, ["actorId", "peerId"]),
    ("/picture/{userId}", "userId"): (USER_ID, ["actorId", "peerId"]),
    ("/picture/verification/{id}", "id"): (UUID, ["actorVerificationId", "peerVerificationId"]),
    ("/picture/verify/{id}", "id"): (UUID, ["actorVerificationId", "peerVerificationId"]),
    ("/picture/reject/{id}", "id"): (UUID, ["actorVerificationId", "peerVerificationId"]),
    ("/files/{key}", "key"): (ANY, ["avatarKey"]),
    ("/discord-actions/avatar/update/{discordId}", "discordId"): (DISCORD_ID, ["peerDiscordId"]),
}


def _swap(value, shape, names):
    if not isinstance(value, str) or not shape.fullmatch(value):
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


# --- 2. Keep the identities ---------------------------------------------------

# The platform role that would demote the actor or promote the peer. Other
# values are left alone: the server refuses them, and removing a wrong-typed
# one would make a negative case valid.
GUARDED_ROLES = {"actorId": "user", "peerId": "superuser"}


@schemathesis.hook
def map_case(context, case):
    path = case.operation.path
    user_id = str((case.path_parameters or {}).get("userId"))
    if path == "/admin/users/{userId}" and isinstance(case.body, dict):
        for who, role in GUARDED_ROLES.items():
            if user_id == SEED[who] and case.body.get("platformRole") == role:
                del case.body["platformRole"]
    # An erased account's tokens are refused from then on: the spare user is
    # the one erased.
    if path == "/admin/users/{userId}/erase" and user_id in (SEED["actorId"], SEED["peerId"]):
        case.path_parameters["userId"] = SEED["spareId"]
    return case


# --- 3. Refusals the document cannot express ---------------------------------


def _ascii_within(value, allowed):
    """The value's ASCII characters are all `allowed`, and it has a non-ASCII one."""
    return any(ord(c) > 0x7F for c in value) and all(ord(c) > 0x7F or c in allowed for c in value)


ASCII_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
ASCII_SPACE = set(" \t\n\r\x0b\x0c")
ASCII_PRINTABLE = {chr(c) for c in range(0x20, 0x7F)}
# Unicode White_Space, what Rust's trim removes (Python's str.strip() would
# also remove U+001C..U+001F).
WHITE_SPACE = " \t\n\x0b\x0c\r\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def _one_line(value, match):
    # shared-kernel text::one_line: trimmed of Unicode White_Space (as Rust's
    # trim), then no Cc/Cf/Zl/Zp/Co/Cs/Cn, 2..100 characters (a members
    # search 1..100), something visible. The document's pattern carries the
    # trimming, so only the trimmed value is judged.
    if not isinstance(value, str):
        return False
    inner = value.strip(WHITE_SPACE)
    low = 1 if match.group("what") == "a search " else 2
    return low <= len(inner) <= 100 and _ascii_within(inner, ASCII_PRINTABLE)


def _squished(allowed):
    # profile-verification fields: at most max characters as sent, whitespace
    # runs squished, then at least min characters that are letters, marks,
    # digits (Unicode) or `allowed`.
    def check(value, match):
        if not isinstance(value, str):
            return False
        low, high = int(match.group("min")), int(match.group("max"))
        squished = " ".join(value.split())
        return low <= len(squished) and len(value) <= high and _ascii_within(value, allowed | ASCII_SPACE)

    return check


def _date_out_of_range(value, _match):
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return day < datetime.date(1900, 1, 1) or day > datetime.datetime.now(datetime.timezone.utc).date()


def _not_in_future(value, _match):
    if not isinstance(value, str):
        return False
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    if moment.tzinfo is None:
        return False
    return moment <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)


def _url_host(value):
    """The host of a webhook URL of the document's shape, without its port."""
    rest = value.split("://", 1)[1]
    authority = re.split(r"[/?]", rest, maxsplit=1)[0]
    if authority.startswith("["):
        return authority.split("]", 1)[0] + "]"
    return authority.split(":", 1)[0]


def _loopback(host):
    return host in ("localhost", "[::1]") or host.startswith("127.") and host.count(".") == 3


def _http_elsewhere(value, _match):
    # webhooks::EndpointUrl: http only to loopback (the suite's service runs on loopback).
    return isinstance(value, str) and value.startswith("http://") and not _loopback(_url_host(value))


def _inside_address(value, _match):
    # webhooks::endpoint::private, on the IPv4 literals the shape allows (loopback is allowed here).
    if not isinstance(value, str) or "://" not in value:
        return False
    host = _url_host(value)
    if not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", host):
        return False
    a, b, c, d = (int(x) for x in host.split("."))
    return (
        a == 10
        or (a == 172 and 16 <= b < 32)
        or (a == 192 and b == 168)
        or (a == 169 and b == 254)
        or (a == 100 and 64 <= b < 128)
        or (a, b, c, d) in ((0, 0, 0, 0), (255, 255, 255, 255))
    )


def _integral_float(value, _match):
    return isinstance(value, float) and value.is_integer()


def _is_string(value, _match):
    return isinstance(value, str)


# The server's message -> whether the value it names breaks that rule.
EXCUSES = [
    (
        re.compile(r"^(?P<what>a name |a search )?must not contain control, format or bidirectional-override characters"),
        _one_line,
    ),
    (re.compile(r"^(?P<what>a name |a search )?must contain visible characters$"), _one_line),
    (
        re.compile(r"^must be (?P<min>\d+) to (?P<max>\d+) letters, digits, spaces, `_`, `-` or `'`$"),
        _squished(ASCII_WORD | set("-'")),
    ),
    (
        re.compile(r"^must be (?P<min>\d+) to (?P<max>\d+) letters, digits, spaces, `_`, `'`, `.`, `~` or dashes$"),
        _squished(ASCII_WORD | set("-'.~")),
    ),
    (
        re.compile(r"^must be (?P<min>\d+) to (?P<max>\d+) letters, digits, spaces or `-`$"),
        _squished(ASCII_WORD - {"_"} | {"-"}),
    ),
    (re.compile(r"^must be an ISO date \(YYYY-MM-DD\) from 1900-01-01 up to today$"), _date_out_of_range),
    (re.compile(r"^expiresAt must be in the future$"), _not_in_future),
    (re.compile(r"^the cursor is not one this service issued$"), _is_string),
    (re.compile(r"^url must be https \(http only to this machine"), _http_elsewhere),
    (re.compile(r"^url must not be an address of a private, link-local or loopback network$"), _inside_address),
    (re.compile(r"^invalid type: floating point `[^`]+`, expected [iu]\d+$"), _integral_float),
]
NUL_MESSAGE = "must not contain NUL characters"
RANGE_MESSAGE = "`from` must be before `to`"
# Profile errors carry their code (`city.invalid`) beside the message.
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def _backwards(case):
    """Whether the query's `from` is not before its `to`, both RFC 3339."""
    query = case.query or {}
    try:
        since = datetime.datetime.fromisoformat(str(query["from"]).replace("Z", "+00:00"))
        until = datetime.datetime.fromisoformat(str(query["to"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return False
    if since.tzinfo is None or until.tzinfo is None:
        return False
    return since >= until


def _at(case, pointer):
    """The value a 422's JSON pointer names: in the body, else in the query."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    for container in (case.body, case.query):
        value = container
        for part in parts:
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                break
        else:
            if parts:
                return True, value
    return False, None


MISSING_QUERY = re.compile(r"^Query deserialize error: missing field `(?P<name>[A-Za-z]+)`$")


def _missing_query(case, response):
    """A 400 for a required query parameter the request really lacks."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    match = MISSING_QUERY.match(str(body.get("detail", "")))
    # A link that found a null leaves the parameter as None, which is not sent.
    return (
        body.get("code") == "request.malformed_query"
        and match is not None
        and (case.query or {}).get(match.group("name")) is None
    )


def _excused(case, response):
    if response.status_code == 400:
        return _missing_query(case, response)
    if response.status_code != 422:
        return False
    try:
        errors = json.loads(response.content).get("errors")
    except (ValueError, AttributeError):
        return False
    if not isinstance(errors, dict) or not errors:
        return False
    for pointer, messages in errors.items():
        for message in messages:
            if CODE.match(message):
                continue
            if message == RANGE_MESSAGE and pointer == "/to" and _backwards(case):
                continue
            if message == NUL_MESSAGE:
                if _has_nul(case.body) or _has_nul(case.query) or _has_nul(case.path_parameters):
                    continue
                return False
            found, value = _at(case, pointer)
            if not found:
                return False
            for pattern, breaks in EXCUSES:
                match = pattern.match(message)
                if match and breaks(value, match):
                    break
            else:
                return False
    return True


# --- 4. The peer's own record -------------------------------------------------


def _peers_own(case, response):
    """Whether the actor read the peer's own record: the peer's user id in the
    path, or as the `userId` of the body or of an object in it
    (`{"verification": {"userId": …}, "events": […]}`)."""
    if str((case.path_parameters or {}).get("userId")) == SEED["peerId"]:
        return True
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    records = [body, *(value for value in body.values() if isinstance(value, dict))]
    return any(str(record.get("userId")) == SEED["peerId"] for record in records)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    # "Schema-valid request rejected" for a rule the document cannot express (job 3).
    if failure.code == "ST202" and _excused(case, response):
        return False
    # The peer reading its own record (job 4 above).
    if failure.code == "ST402" and _peers_own(case, response):
        return False
    return True
