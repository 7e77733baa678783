//! The authorisation matrix (quality.md): every operation of the live
//! `GET /openapi.json` × {anonymous, user, another user, guest, member,
//! moderator, admin, superuser}, with the status each must get, on SQLite and
//! PostgreSQL, and the problem `code` of every refusal. Then a removed and an
//! expired former admin of Acme must get what an outsider gets on every
//! organization row, and the public routes outside the document answer
//! everyone. Two focused tests cover what the matrix led to: invitations stop
//! granting when their creator's membership runs out or is demoted.
//!
//! One world per backend: an organization "Acme" where four principals hold
//! guest/member/moderator/admin memberships (created, invited and accepted
//! over HTTP), a bootstrapped superuser, an ordinary user with no membership,
//! and "another user" who owns things the others must not touch (a submitted
//! KYC profile, an avatar upload ticket, a photo verification, invitations
//! addressed to them). Spare users provide fresh targets for the rows whose
//! success changes state (remove, revoke, decide), so a row never spoils a
//! later one.
//!
//! Adding a route: add a [`Row`] to [`rows`] with its method, its path
//! template exactly as in the OpenAPI document, a request built from the
//! [`World`] (a valid body, so the cell is about authorisation and not
//! validation), the eight expected statuses and the codes a refusal may carry.
//! The completeness check fails until the row exists.

use crate::organizations::{create_org, invite, join, user_id};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use test_support::images::png;
use test_support::{Backend, TestApp, json};
use usher_api::settings::Secret;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ROOT: &str = "root@example.com";
const CAROL_DISCORD: &str = "80351110224678912";

/// A column of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum P {
    /// No `Authorization` header.
    Anon,
    /// A signed-in user with no membership and nothing of their own.
    User,
    /// Another signed-in user with no membership, who owns the targeted resources.
    Other,
    /// `guest` of Acme.
    Guest,
    /// `member` of Acme.
    Member,
    /// `moderator` of Acme.
    Moderator,
    /// `admin` of Acme.
    Admin,
    /// A platform superuser with no membership in Acme.
    Su,
}

const PRINCIPALS: [P; 8] = [P::Anon, P::User, P::Other, P::Guest, P::Member, P::Moderator, P::Admin, P::Su];

impl P {
    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        ["anonymous", "user", "another user", "guest", "member", "moderator", "admin", "superuser"][self.index()]
    }

    fn email(self) -> Option<&'static str> {
        match self {
            P::Anon => None,
            P::User => Some("user@x.io"),
            P::Other => Some("other@x.io"),
            P::Guest => Some("guest@x.io"),
            P::Member => Some("member@x.io"),
            P::Moderator => Some("moderator@x.io"),
            P::Admin => Some("admin@x.io"),
            P::Su => Some(ROOT),
        }
    }
}

/// Ids of the world, filled over HTTP.
struct World {
    app: TestApp,
    /// Bearer tokens by principal (none for anonymous).
    tokens: Vec<Option<String>>,
    /// User ids by principal (empty for anonymous).
    ids: Vec<String>,
    /// Acme, where the principals hold their roles.
    org: String,
    /// An organization where guest..admin hold the same roles besides its
    /// owner, so that each may leave it without changing Acme.
    leave_org: String,
    /// A finalized logo (of `leave_org`), served by `GET /files/{key}`.
    file_path: String,
    /// An admin's logo ticket of Acme with its bytes uploaded.
    logo_tmp_key: String,
    /// One Acme guest per principal, for `members/remove`.
    removable: Vec<String>,
    /// An Acme guest whose role the admin changes.
    promotable: String,
    /// A former Acme guest, removed and blocked, whom the admin unblocks.
    blocked: String,
    /// A user with no membership whom the superuser appoints admin of Acme.
    appointable: String,
    /// A pending open link to Acme and its token.
    preview_invitation: String,
    preview_token: String,
    /// A pending Acme invitation to resend.
    resend_invitation: String,
    /// One pending Acme invitation per principal, for `revoke`.
    revocable: Vec<String>,
    /// Invitations to another organization bound to "another user".
    accept_invitation: String,
    reject_invitation: String,
    /// A pending Acme invitation bound to an e-mail address.
    email_invitation: String,
    /// Another user's uploaded avatar ticket (not finalized).
    other_tmp_key: String,
    /// A presigned upload URL of another user's ticket.
    other_upload_url: String,
    /// Another user's submitted KYC profile.
    other_profile: String,
    /// Another user's PENDING photo verification.
    other_photo: String,
    /// Carol's PENDING verification (Discord linked) and Dave's.
    verify_target: String,
    reject_target: String,
    /// Erin's submitted profile, decided by the superuser.
    decide_profile: String,
    /// Frank: no profile; the superuser files one and renames him.
    frank: String,
    /// Gina, whom the superuser erases.
    erasable: String,
    /// Tokens of former Acme admins: one removed, one whose time-bound
    /// membership ran out (the sweeper need not have run).
    former_admins: Vec<(&'static str, String)>,
    /// Acme's webhook endpoint and a superuser's, each with a delivered event to replay.
    org_webhook: String,
    org_delivery: String,
    platform_webhook: String,
    platform_delivery: String,
}

impl World {
    fn id(&self, p: P) -> &str {
        &self.ids[p.index()]
    }
}

/// One request of a cell.
struct Req {
    method: Method,
    /// A path on the app, or an absolute URL (presigned uploads).
    path: String,
    body: Option<Value>,
    /// A raw body with its content type instead of JSON.
    raw: Option<(&'static str, Vec<u8>)>,
}

fn req(method: Method, path: impl Into<String>, body: Option<Value>) -> Req {
    Req { method, path: path.into(), body, raw: None }
}

fn get(path: impl Into<String>) -> Req {
    req(Method::GET, path, None)
}

fn post(path: impl Into<String>, body: Value) -> Req {
    req(Method::POST, path, Some(body))
}

/// One operation of the OpenAPI document.
struct Row {
    method: &'static str,
    /// The path template as in the OpenAPI document.
    template: &'static str,
    /// The request a principal sends (the same for all, unless the row needs
    /// a fresh target per principal).
    request: fn(&World, P) -> Req,
    /// Expected statuses in [`PRINCIPALS`] order:
    /// anonymous, user, another user, guest, member, moderator, admin, superuser.
    expect: [u16; 8],
    /// The problem codes a refusal (a 4xx other than 401) of this row may
    /// carry, so that a cell is refused for the right reason.
    codes: &'static [&'static str],
}

/// No refusal expected besides 401.
const NONE: &[&str] = &[];
/// Superuser routes.
const SUPER: &[&str] = &["auth.superuser_required"];
/// `org:R` routes: outsiders are not members, members below R are forbidden.
const ORG: &[&str] = &["organization.not_member", "organization.forbidden"];
/// Managing an invitation: outsiders learn nothing (404), members below the
/// role are refused (403).
const INVITATION: &[&str] = &["invitation.not_found", "organization.forbidden"];

/// Any signed-in user; anonymous 401.
const fn auth(ok: u16) -> [u16; 8] {
    [401, ok, ok, ok, ok, ok, ok, ok]
}
/// Public: everyone, with or without a token.
const PUBLIC: [u16; 8] = [200; 8];
/// `su`: superusers only; other signed-in users 403 `auth.superuser_required`.
const fn su(ok: u16) -> [u16; 8] {
    [401, 403, 403, 403, 403, 403, 403, ok]
}

/// The table, in execution order. Within a row, refusals run first and
/// successes last, so a success cannot change what a refusal sees.
fn rows() -> Vec<Row> {
    use Method as M;
    vec![
        // ---- Service: public.
        Row { method: "GET", template: "/healthz", request: |_, _| get("/healthz"), expect: PUBLIC, codes: NONE },
        Row { method: "GET", template: "/readyz", request: |_, _| get("/readyz"), expect: PUBLIC, codes: NONE },
        Row { method: "GET", template: "/metrics", request: |_, _| get("/metrics"), expect: PUBLIC, codes: NONE },
        // ---- User: every signed-in user acts on themselves.
        Row {
            method: "POST",
            template: "/user/get",
            request: |_, _| post("/user/get", json!({})),
            expect: auth(200),
            codes: NONE,
        },
        Row {
            method: "POST",
            template: "/user/session",
            request: |_, _| post("/user/session", json!({})),
            expect: auth(200),
            codes: NONE,
        },
        Row {
            method: "POST",
            template: "/user/update",
            request: |_, _| post("/user/update", json!({"displayName": "Renamed Person"})),
            expect: auth(200),
            codes: NONE,
        },
        Row {
            method: "POST",
            template: "/user/status",
            request: |_, _| post("/user/status", json!({"manualStatus": "busy"})),
            expect: auth(200),
            codes: NONE,
        },
        Row {
            method: "POST",
            template: "/user/avatar/upload-ticket",
            request: |_, _| post("/user/avatar/upload-ticket", json!({"contentType": "image/png"})),
            expect: auth(200),
            codes: NONE,
        },
        // Another user's ticket: its owner finalizes it (a PENDING verification
        // opens); for everyone else it does not exist (404 `upload.ticket_invalid`).
        Row {
            method: "POST",
            template: "/user/avatar/finalize",
            request: |w, _| post("/user/avatar/finalize", json!({"tmpKey": w.other_tmp_key})),
            expect: [401, 404, 200, 404, 404, 404, 404, 404],
            codes: &["upload.ticket_invalid"],
        },
        Row {
            method: "POST",
            template: "/user/avatar/remove",
            request: |_, _| post("/user/avatar/remove", json!({})),
            expect: auth(204),
            codes: NONE,
        },
        // The signature of the presigned URL authorises the upload; a bearer
        // token neither helps nor hurts (api.md: "authorised by its signature").
        Row {
            method: "PUT",
            template: "/uploads/{key}",
            request: |w, _| Req {
                method: Method::PUT,
                path: w.other_upload_url.clone(),
                body: None,
                raw: Some(("image/png", png(9))),
            },
            expect: PUBLIC,
            codes: NONE,
        },
        // Finalized images are public (they are avatars and logos).
        Row {
            method: "GET",
            template: "/files/{key}",
            request: |w, _| get(w.file_path.clone()),
            expect: PUBLIC,
            codes: NONE,
        },
        // ---- Photo verification.
        Row {
            method: "GET",
            template: "/picture/all",
            request: |_, _| get("/picture/all"),
            expect: su(200),
            codes: SUPER,
        },
        // `self|su`: another user's verifications, for them and superusers only
        // (403 `picture.forbidden` for the rest).
        Row {
            method: "GET",
            template: "/picture/{userId}",
            request: |w, _| get(format!("/picture/{}?status=all", w.id(P::Other))),
            expect: [401, 403, 200, 403, 403, 403, 403, 200],
            codes: &["picture.forbidden"],
        },
        // `self|su`: one verification with its log; to anyone else it does not exist.
        Row {
            method: "GET",
            template: "/picture/verification/{id}",
            request: |w, _| get(format!("/picture/verification/{}", w.other_photo)),
            expect: [401, 404, 200, 404, 404, 404, 404, 200],
            codes: &["photo.not_found"],
        },
        // Approving one side only: the verification stays PENDING.
        Row {
            method: "PATCH",
            template: "/picture/verify/{id}",
            request: |w, _| req(M::PATCH, format!("/picture/verify/{}?type=profile", w.verify_target), None),
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "PATCH",
            template: "/picture/reject/{id}",
            request: |w, _| {
                req(M::PATCH, format!("/picture/reject/{}", w.reject_target), Some(json!({"reason": "Not a face."})))
            },
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "PATCH",
            template: "/discord-actions/avatar/update/{discordId}",
            request: |_, _| req(M::PATCH, format!("/discord-actions/avatar/update/{CAROL_DISCORD}"), None),
            expect: su(200),
            codes: SUPER,
        },
        // ---- Personal-data rights.
        Row {
            method: "GET",
            template: "/user/export",
            request: |_, _| get("/user/export"),
            expect: auth(200),
            codes: NONE,
        },
        Row {
            method: "POST",
            template: "/admin/users/{userId}/erase",
            request: |w, _| req(M::POST, format!("/admin/users/{}/erase", w.erasable), None),
            expect: su(200),
            codes: SUPER,
        },
        // ---- KYC profiles, user side: each caller's own profiles.
        Row {
            method: "GET",
            template: "/resource/profiles/me",
            request: |_, _| get("/resource/profiles/me"),
            expect: auth(200),
            codes: NONE,
        },
        // Everyone may open a draft of their own; another user already has an
        // open (submitted) profile: 409 `resource.profile.exists`.
        Row {
            method: "POST",
            template: "/resource/profiles",
            request: |_, _| post("/resource/profiles", json!({"firstName": "Ada"})),
            expect: [401, 201, 409, 201, 201, 201, 201, 201],
            codes: &["resource.profile.exists"],
        },
        // Edits the caller's own draft, opened by the row above; another
        // user's profile is submitted, so not editable (404).
        Row {
            method: "PUT",
            template: "/resource/profiles",
            request: |_, _| req(M::PUT, "/resource/profiles", Some(json!({"city": "Paris"}))),
            expect: [401, 200, 404, 200, 200, 200, 200, 200],
            codes: &["resource.profile.doesnt_exist_or_not_editable"],
        },
        // Withdraws the caller's own draft (the rows above opened and edited
        // it); another user's profile is submitted, so there is no draft (404).
        Row {
            method: "DELETE",
            template: "/resource/profiles",
            request: |_, _| req(M::DELETE, "/resource/profiles", None),
            expect: [401, 204, 404, 204, 204, 204, 204, 204],
            codes: &["resource.profile.doesnt_exist_or_not_editable"],
        },
        // ---- KYC profiles, admin side.
        Row {
            method: "GET",
            template: "/admin/profiles",
            request: |_, _| get("/admin/profiles"),
            expect: su(200),
            codes: SUPER,
        },
        // The owner of a profile does not read it through the admin API either.
        Row {
            method: "GET",
            template: "/admin/profiles/{id}",
            request: |w, _| get(format!("/admin/profiles/{}", w.other_profile)),
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "PUT",
            template: "/admin/profiles/{id}",
            request: |w, _| {
                req(M::PUT, format!("/admin/profiles/{}", w.decide_profile), Some(json!({"state": "verified"})))
            },
            expect: su(200),
            codes: SUPER,
        },
        // Barong's version had no authorisation check at all (the seed's bug).
        Row {
            method: "POST",
            template: "/admin/profiles",
            request: |w, _| post("/admin/profiles", json!({"userId": w.frank, "firstName": "Frank"})),
            expect: su(201),
            codes: SUPER,
        },
        Row {
            method: "GET",
            template: "/admin/users/{userId}/labels",
            request: |w, _| get(format!("/admin/users/{}/labels", w.id(P::Other))),
            expect: su(200),
            codes: SUPER,
        },
        // ---- User administration.
        Row {
            method: "GET",
            template: "/admin/users",
            request: |_, _| get("/admin/users"),
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "PATCH",
            template: "/admin/users/{userId}",
            request: |w, _| req(M::PATCH, format!("/admin/users/{}", w.frank), Some(json!({"username": "frank.r"}))),
            expect: su(200),
            codes: SUPER,
        },
        // ---- Organizations. Org roles come from memberships only: a platform
        // superuser who is not a member gets what any outsider gets (api.md:
        // `org:R` is "at least role R in the organization"), i.e. 403
        // `organization.not_member`; the organization ids are UUIDv7 and an
        // unknown id answers the same, so nothing leaks.
        Row {
            method: "POST",
            template: "/organization/create",
            request: |_, _| post("/organization/create", json!({"name": "Another Org"})),
            expect: auth(200),
            codes: NONE,
        },
        Row {
            method: "POST",
            template: "/organization/switch",
            request: |w, _| post("/organization/switch", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 200, 200, 200, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/get",
            request: |w, _| post("/organization/get", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 200, 200, 200, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/update",
            request: |w, _| post("/organization/update", json!({"organizationId": w.org, "name": "Acme"})),
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/logo/upload-ticket",
            request: |w, _| {
                post("/organization/logo/upload-ticket", json!({"organizationId": w.org, "contentType": "image/png"}))
            },
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/logo/finalize",
            request: |w, _| {
                post("/organization/logo/finalize", json!({"organizationId": w.org, "tmpKey": w.logo_tmp_key}))
            },
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/logo/remove",
            request: |w, _| post("/organization/logo/remove", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 403, 403, 403, 204, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/zones/create",
            request: |w, _| post("/organization/zones/create", json!({"organizationId": w.org, "name": "North"})),
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/zones/list",
            request: |w, _| post("/organization/zones/list", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 200, 200, 200, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/members/list",
            request: |w, _| post("/organization/members/list", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 403, 403, 200, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/members/update-role",
            request: |w, _| {
                post(
                    "/organization/members/update-role",
                    json!({"organizationId": w.org, "userId": w.promotable, "role": "member"}),
                )
            },
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/members/update",
            request: |w, _| {
                post(
                    "/organization/members/update",
                    json!({"organizationId": w.org, "userId": w.promotable, "role": "member", "expiresAt": null}),
                )
            },
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/members/unblock",
            request: |w, _| {
                post("/organization/members/unblock", json!({"organizationId": w.org, "userId": w.blocked}))
            },
            expect: [401, 403, 403, 403, 403, 403, 204, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/blocks/list",
            request: |w, _| post("/organization/blocks/list", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 403, 403, 200, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/admin/organizations/{organizationId}/admins",
            request: |w, _| post(format!("/admin/organizations/{}/admins", w.org), json!({"userId": w.appointable})),
            expect: su(200),
            codes: SUPER,
        },
        // A fresh guest per principal: moderators and admins each remove one.
        Row {
            method: "POST",
            template: "/organization/members/remove",
            request: |w, p| {
                post("/organization/members/remove", json!({"organizationId": w.org, "userId": w.removable[p.index()]}))
            },
            expect: [401, 403, 403, 403, 403, 200, 200, 403],
            codes: ORG,
        },
        // An organization's events: its admins only, as its other logs.
        Row {
            method: "POST",
            template: "/organization/events",
            request: |w, _| post("/organization/events", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/members/history",
            request: |w, _| {
                post("/organization/members/history", json!({"organizationId": w.org, "userId": w.id(P::Guest)}))
            },
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        // On a second organization where the four roles are held besides its
        // owner (another admin), so every member may leave and Acme is untouched.
        Row {
            method: "POST",
            template: "/organization/leave",
            request: |w, _| post("/organization/leave", json!({"organizationId": w.leave_org})),
            expect: [401, 403, 403, 200, 200, 200, 200, 403],
            codes: ORG,
        },
        // Its audit: its admins only, as its events.
        Row {
            method: "GET",
            template: "/organization/audit",
            request: |w, _| get(format!("/organization/audit?organizationId={}", w.org)),
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        // An organization's webhooks: its admins only; deleting comes last.
        Row {
            method: "POST",
            template: "/organization/webhooks/create",
            request: |w, _| {
                post(
                    "/organization/webhooks/create",
                    json!({"organizationId": w.org, "url": "https://crm.example.com/"}),
                )
            },
            expect: [401, 403, 403, 403, 403, 403, 201, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/webhooks/list",
            request: |w, _| post("/organization/webhooks/list", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/webhooks/update",
            request: |w, _| {
                let body = json!({"organizationId": w.org, "webhookId": w.org_webhook, "enabled": true});
                post("/organization/webhooks/update", body)
            },
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/webhooks/rotate",
            request: |w, _| {
                post("/organization/webhooks/rotate", json!({"organizationId": w.org, "webhookId": w.org_webhook}))
            },
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/webhooks/deliveries",
            request: |w, _| {
                post("/organization/webhooks/deliveries", json!({"organizationId": w.org, "webhookId": w.org_webhook}))
            },
            expect: [401, 403, 403, 403, 403, 403, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/webhooks/replay",
            request: |w, _| {
                let body = json!({"organizationId": w.org, "webhookId": w.org_webhook, "deliveryId": w.org_delivery});
                post("/organization/webhooks/replay", body)
            },
            expect: [401, 403, 403, 403, 403, 403, 202, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/organization/webhooks/delete",
            request: |w, _| {
                post("/organization/webhooks/delete", json!({"organizationId": w.org, "webhookId": w.org_webhook}))
            },
            expect: [401, 403, 403, 403, 403, 403, 204, 403],
            codes: ORG,
        },
        // The platform's webhooks: superusers only; deleting comes last.
        Row {
            method: "POST",
            template: "/admin/webhooks",
            request: |_, _| post("/admin/webhooks", json!({"url": "https://crm.example.com/all"})),
            expect: su(201),
            codes: SUPER,
        },
        Row {
            method: "GET",
            template: "/admin/webhooks",
            request: |_, _| get("/admin/webhooks"),
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "PATCH",
            template: "/admin/webhooks/{webhookId}",
            request: |w, _| {
                req(Method::PATCH, format!("/admin/webhooks/{}", w.platform_webhook), Some(json!({"enabled": true})))
            },
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "POST",
            template: "/admin/webhooks/{webhookId}/rotate",
            request: |w, _| req(Method::POST, format!("/admin/webhooks/{}/rotate", w.platform_webhook), None),
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "GET",
            template: "/admin/webhooks/{webhookId}/deliveries",
            request: |w, _| get(format!("/admin/webhooks/{}/deliveries", w.platform_webhook)),
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "POST",
            template: "/admin/webhooks/{webhookId}/deliveries/{deliveryId}/replay",
            request: |w, _| {
                let path = format!("/admin/webhooks/{}/deliveries/{}/replay", w.platform_webhook, w.platform_delivery);
                req(Method::POST, path, None)
            },
            expect: su(202),
            codes: SUPER,
        },
        Row {
            method: "DELETE",
            template: "/admin/webhooks/{webhookId}",
            request: |w, _| req(Method::DELETE, format!("/admin/webhooks/{}", w.platform_webhook), None),
            expect: su(204),
            codes: SUPER,
        },
        // Every organization's events and audit: superusers only.
        Row { method: "GET", template: "/events", request: |_, _| get("/events"), expect: su(200), codes: SUPER },
        Row {
            method: "GET",
            template: "/admin/audit",
            request: |_, _| get("/admin/audit"),
            expect: su(200),
            codes: SUPER,
        },
        Row {
            method: "GET",
            template: "/my-apps/sidebar",
            request: |_, _| get("/my-apps/sidebar"),
            expect: auth(200),
            codes: NONE,
        },
        // ---- Invitations.
        Row {
            method: "POST",
            template: "/invitation/create",
            request: |w, _| post("/invitation/create", json!({"organizationId": w.org, "role": "member"})),
            expect: [401, 403, 403, 403, 403, 200, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/invitation/list",
            request: |w, _| post("/invitation/list", json!({"organizationId": w.org})),
            expect: [401, 403, 403, 403, 403, 200, 200, 403],
            codes: ORG,
        },
        Row {
            method: "POST",
            template: "/invitation/mine",
            request: |_, _| post("/invitation/mine", json!({})),
            expect: auth(200),
            codes: NONE,
        },
        // Public by design: the link itself is the secret.
        Row {
            method: "POST",
            template: "/invitation/preview",
            request: |w, _| post("/invitation/preview", json!({"token": w.preview_token})),
            expect: PUBLIC,
            codes: NONE,
        },
        // Any signed-in person may learn whom an e-mail-bound invitation is
        // for, masked: the e-mail link's landing tells the wrong account so.
        Row {
            method: "POST",
            template: "/invitation/recipient",
            request: |w, _| post("/invitation/recipient", json!({"invitationId": w.email_invitation})),
            expect: auth(200),
            codes: NONE,
        },
        // Bound to another user: only they accept it (403 `invitation.wrong_person`).
        Row {
            method: "POST",
            template: "/invitation/accept",
            request: |w, _| post("/invitation/accept", json!({"invitationId": w.accept_invitation})),
            expect: [401, 404, 200, 404, 404, 404, 404, 404],
            codes: &["invitation.not_found"],
        },
        Row {
            method: "POST",
            template: "/invitation/reject",
            request: |w, _| post("/invitation/reject", json!({"invitationId": w.reject_invitation})),
            expect: [401, 404, 200, 404, 404, 404, 404, 404],
            codes: &["invitation.not_found"],
        },
        // Outsiders learn nothing about another organization's invitation
        // (404 `invitation.not_found`); members below moderator are refused (403).
        Row {
            method: "POST",
            template: "/invitation/revoke",
            request: |w, p| post("/invitation/revoke", json!({"invitationId": w.revocable[p.index()]})),
            expect: [401, 404, 404, 403, 403, 200, 200, 404],
            codes: INVITATION,
        },
        Row {
            method: "POST",
            template: "/invitation/resend",
            request: |w, _| post("/invitation/resend", json!({"invitationId": w.resend_invitation})),
            expect: [401, 404, 404, 403, 403, 200, 200, 404],
            codes: INVITATION,
        },
        Row {
            method: "POST",
            template: "/invitation/acceptances",
            request: |w, _| post("/invitation/acceptances", json!({"invitationId": w.preview_invitation})),
            expect: [401, 404, 404, 403, 403, 403, 200, 404],
            codes: INVITATION,
        },
    ]
}

/// Public routes outside the OpenAPI document (api.md: the document, the
/// reference page and the dashboard's static files): the same for everyone.
fn undocumented_rows() -> Vec<Row> {
    vec![
        Row {
            method: "GET",
            template: "/openapi.json",
            request: |_, _| get("/openapi.json"),
            expect: PUBLIC,
            codes: NONE,
        },
        Row { method: "GET", template: "/docs/", request: |_, _| get("/docs/"), expect: PUBLIC, codes: NONE },
        Row { method: "GET", template: "/dashboard/", request: |_, _| get("/dashboard/"), expect: PUBLIC, codes: NONE },
    ]
}

/// Asks for a ticket at `ticket_path` with `body` and PUTs a PNG to it;
/// returns (tmpKey, uploadUrl).
async fn upload(app: &TestApp, token: &str, ticket_path: &str, body: Value, tag: u32) -> (String, String) {
    let res = app.post(ticket_path, token, &body).await;
    assert_eq!(res.status(), 200, "ticket at {ticket_path}");
    let ticket = json(res).await;
    let url = ticket["uploadUrl"].as_str().expect("uploadUrl").to_owned();
    let put = app.client.put(&url).header("content-type", "image/png").body(png(tag)).send().await.expect("PUT");
    assert!(put.status().is_success(), "uploading to {url}: {}", put.status());
    (ticket["tmpKey"].as_str().expect("tmpKey").to_owned(), url)
}

/// Uploads and finalizes an avatar; returns the PENDING verification's id.
async fn pending_photo(app: &TestApp, token: &str, tag: u32) -> String {
    let (key, _) = upload(app, token, "/user/avatar/upload-ticket", json!({"contentType": "image/png"}), tag).await;
    let res = app.post("/user/avatar/finalize", token, &json!({"tmpKey": key})).await;
    assert_eq!(res.status(), 200, "finalize");
    json(res).await["pendingVerification"]["id"].as_str().expect("a PENDING verification").to_owned()
}

/// A submitted profile of `token`'s user; returns its id.
async fn submitted_profile(app: &TestApp, token: &str) -> String {
    let res = app.post("/resource/profiles", token, &json!({"firstName": "Owner", "confirm": true})).await;
    assert_eq!(res.status(), 201, "submitting a profile");
    json(res).await["id"].as_str().expect("profile id").to_owned()
}

/// An invitation of `org` created by `token` with `body`; returns (id, token).
async fn invitation(app: &TestApp, token: &str, org: &str, body: Value) -> (String, String) {
    let created = invite(app, token, org, body).await;
    let id = created["invitation"]["id"].as_str().expect("invitation id").to_owned();
    (id, created["token"].as_str().expect("token").to_owned())
}

async fn build_world(backend: Backend, discord: &MockServer) -> World {
    let api_base = discord.uri();
    let app = TestApp::spawn_with(backend, |s| {
        s.auth.bootstrap_superusers = usher_api::settings::Parsed::new(vec![ROOT.into()]).unwrap();
        s.features.photo_verification = true;
        // Users without a Discord id may upload too; Carol has one for the refresh row.
        s.photo_verification.require_discord = false;
        s.discord.api_base = api_base;
        s.discord.bot_token = Some(Secret::new("test-bot-token"));
        s.avatar.tries_per_window = 100;
        s.invitations.logo_tries_per_day = 100;
    })
    .await;
    Mock::given(method("GET"))
        .and(path(format!("/users/{CAROL_DISCORD}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": CAROL_DISCORD, "avatar": "hash1"})))
        .mount(discord)
        .await;

    let tokens: Vec<Option<String>> = PRINCIPALS.iter().map(|p| p.email().map(|e| app.token(e))).collect();
    let mut ids = Vec::new();
    for t in &tokens {
        ids.push(match t {
            Some(t) => user_id(&app, t).await,
            None => String::new(),
        });
    }
    let tok = |p: P| tokens[p.index()].clone().expect("a signed-in principal");
    let admin = tok(P::Admin);

    // Acme: the admin creates it, the others join by invitation.
    let org = create_org(&app, &admin, "Acme").await;
    for (p, role) in [(P::Guest, "guest"), (P::Member, "member"), (P::Moderator, "moderator")] {
        join(&app, &admin, &org, p.email().expect("email"), role).await;
    }
    let mut removable = Vec::new();
    for i in 0..PRINCIPALS.len() {
        let t = join(&app, &admin, &org, &format!("removable{i}@x.io"), "guest").await;
        removable.push(user_id(&app, &t).await);
    }
    let promotable = user_id(&app, &join(&app, &admin, &org, "promotable@x.io", "guest").await).await;
    // Former admins: one for a second, one removed.
    let expiring = app.token("expired.admin@x.io");
    let created = invite(&app, &admin, &org, json!({"role": "admin", "membershipDurationSeconds": 1})).await;
    let res = app.post("/invitation/accept", &expiring, &json!({"token": created["token"]})).await;
    assert_eq!(res.status(), 200, "joining for a second");
    let removed = join(&app, &admin, &org, "removed.admin@x.io", "admin").await;
    let body = json!({"organizationId": org, "userId": user_id(&app, &removed).await});
    assert_eq!(app.post("/organization/members/remove", &admin, &body).await.status(), 200, "removing an admin");

    // The organization to leave, owned by someone else, with its logo.
    let owner2 = app.token("owner2@x.io");
    let leave_org = create_org(&app, &owner2, "Leavers").await;
    for (p, role) in [(P::Guest, "guest"), (P::Member, "member"), (P::Moderator, "moderator"), (P::Admin, "admin")] {
        join(&app, &owner2, &leave_org, p.email().expect("email"), role).await;
    }
    let body = json!({"organizationId": leave_org, "contentType": "image/png"});
    let (key, _) = upload(&app, &owner2, "/organization/logo/upload-ticket", body, 1).await;
    let res =
        app.post("/organization/logo/finalize", &owner2, &json!({"organizationId": leave_org, "tmpKey": key})).await;
    assert_eq!(res.status(), 200, "finalizing a logo");
    let logo_url = json(res).await["logoUrl"].as_str().expect("logoUrl").to_owned();
    let file_path = format!("/files/{}", logo_url.split_once("/files/").expect("a local file URL").1);

    // Acme's admin has a logo uploaded, waiting to be finalized.
    let body = json!({"organizationId": org, "contentType": "image/png"});
    let (logo_tmp_key, _) = upload(&app, &admin, "/organization/logo/upload-ticket", body, 2).await;

    // Acme invitations.
    let (preview_invitation, preview_token) = invitation(&app, &admin, &org, json!({"maxUses": 10})).await;
    let (resend_invitation, _) = invitation(&app, &admin, &org, json!({})).await;
    let (email_invitation, _) = invitation(&app, &admin, &org, json!({"email": "someone@x.io"})).await;
    let mut revocable = Vec::new();
    for _ in PRINCIPALS {
        revocable.push(invitation(&app, &admin, &org, json!({})).await.0);
    }

    // Invitations to a third organization bound to another user.
    let owner3 = app.token("owner3@x.io");
    let elsewhere = create_org(&app, &owner3, "Elsewhere").await;
    let bound = json!({"userId": ids[P::Other.index()]});
    let (accept_invitation, _) = invitation(&app, &owner3, &elsewhere, bound.clone()).await;
    let (reject_invitation, _) = invitation(&app, &owner3, &elsewhere, bound).await;

    // Another user's things: an uploaded ticket, a presigned URL, a profile, a verification.
    let other = tok(P::Other);
    let avatar = json!({"contentType": "image/png"});
    let (other_tmp_key, _) = upload(&app, &other, "/user/avatar/upload-ticket", avatar.clone(), 3).await;
    let (_, other_upload_url) = upload(&app, &other, "/user/avatar/upload-ticket", avatar, 4).await;
    let other_profile = submitted_profile(&app, &other).await;
    let other_photo = pending_photo(&app, &other, 5).await;

    // Review targets owned by spare users.
    let root = tok(P::Su);
    let carol = app.token("carol@x.io");
    let carol_id = user_id(&app, &carol).await;
    let res = app
        .request(
            Method::PATCH,
            &format!("/admin/users/{carol_id}"),
            Some(&root),
            Some(&json!({"discordId": CAROL_DISCORD})),
        )
        .await;
    assert_eq!(res.status(), 200, "linking Carol's Discord id");
    let verify_target = pending_photo(&app, &carol, 6).await;
    let reject_target = pending_photo(&app, &app.token("dave@x.io"), 7).await;
    let decide_profile = submitted_profile(&app, &app.token("erin@x.io")).await;
    let frank = user_id(&app, &app.token("frank@x.io")).await;
    let erasable = user_id(&app, &app.token("gina@x.io")).await;
    let blocked = user_id(&app, &join(&app, &admin, &org, "blocked@x.io", "guest").await).await;
    let body = json!({"organizationId": org, "userId": blocked, "block": true});
    assert_eq!(app.post("/organization/members/remove", &admin, &body).await.status(), 200, "blocking a guest");
    let appointable = user_id(&app, &app.token("appointable@x.io")).await;
    // The expiring admin's second is over, whether or not the sweeper ran.
    app.clock.advance(time::Duration::seconds(2));

    // Webhooks of Acme and of the platform, posting to the Discord fake, with one delivery each.
    Mock::given(method("POST")).and(path("/hooks")).respond_with(ResponseTemplate::new(204)).mount(discord).await;
    let hook = format!("{}/hooks", discord.uri());
    let body = json!({"organizationId": org, "url": hook});
    let made = json(app.post("/organization/webhooks/create", &admin, &body).await).await;
    let org_webhook = made["webhook"]["id"].as_str().expect("Acme's webhook").to_owned();
    let made = json(app.request(Method::POST, "/admin/webhooks", Some(&root), Some(&json!({"url": hook}))).await).await;
    let platform_webhook = made["webhook"]["id"].as_str().expect("the platform's webhook").to_owned();
    let body = json!({"organizationId": org, "name": "Webhooks"});
    assert_eq!(app.post("/organization/zones/create", &admin, &body).await.status(), 200, "an event to deliver");
    assert!(app.run_jobs().await.webhooks_delivered >= 2, "a delivery for each endpoint");
    let body = json!({"organizationId": org, "webhookId": org_webhook});
    let org_delivery = json(app.post("/organization/webhooks/deliveries", &admin, &body).await).await["deliveries"][0]
        ["id"]
        .as_str()
        .expect("Acme's delivery")
        .to_owned();
    let path = format!("/admin/webhooks/{platform_webhook}/deliveries");
    let platform_delivery = json(app.request(Method::GET, &path, Some(&root), None).await).await["deliveries"][0]["id"]
        .as_str()
        .expect("the platform's delivery")
        .to_owned();

    World {
        app,
        tokens,
        ids,
        org,
        leave_org,
        file_path,
        logo_tmp_key,
        removable,
        promotable,
        blocked,
        appointable,
        preview_invitation,
        preview_token,
        resend_invitation,
        revocable,
        accept_invitation,
        reject_invitation,
        email_invitation,
        other_tmp_key,
        other_upload_url,
        other_profile,
        other_photo,
        verify_target,
        reject_target,
        decide_profile,
        frank,
        erasable,
        former_admins: vec![("expired admin", expiring), ("removed admin", removed)],
        org_webhook,
        org_delivery,
        platform_webhook,
        platform_delivery,
    }
}

/// Sends a cell's request; returns the status and, for errors, the problem code.
async fn send(w: &World, token: Option<&str>, r: Req) -> (u16, String) {
    let url = if r.path.starts_with("http") { r.path.clone() } else { format!("{}{}", w.app.address, r.path) };
    let mut builder = w.app.client.request(r.method, url);
    if let Some(token) = token {
        builder = builder.bearer_auth(token);
    }
    if let Some(body) = &r.body {
        builder = builder.json(body);
    }
    if let Some((content_type, bytes)) = r.raw {
        builder = builder.header("content-type", content_type).body(bytes);
    }
    let res = builder.send().await.expect("sending a matrix request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let code = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    (status, code)
}

/// A line of the report when `got` (with problem `code`) is not what `row`
/// expects of principal `p` (shown as `who`).
fn mismatch(row: &Row, p: P, who: &str, got: u16, code: &str) -> Option<String> {
    let expected = row.expect[p.index()];
    let code_ok = match got {
        _ if got != expected || got < 400 => true,
        401 => code == "auth.missing_token",
        // Outsiders are told they are not members; members that their role is too low.
        403 if row.codes == ORG => {
            let outsider = matches!(p, P::User | P::Other | P::Su);
            code == if outsider { "organization.not_member" } else { "organization.forbidden" }
        }
        _ => row.codes.contains(&code),
    };
    (got != expected || !code_ok)
        .then(|| format!("{:<6} {:<44} {who:<13} expected {expected:<3} got {got} {code}", row.method, row.template))
}

/// The operations of the live OpenAPI document, as "METHOD /template".
async fn documented_operations(app: &TestApp) -> BTreeSet<String> {
    let doc = json(app.request(Method::GET, "/openapi.json", None, None).await).await;
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if item.get(method).is_some() {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

async fn the_authorisation_matrix(backend: Backend) {
    let discord = MockServer::start().await;
    let world = build_world(backend, &discord).await;
    let rows = rows();

    // Completeness: every documented operation has exactly one row, and every row is documented.
    let documented = documented_operations(&world.app).await;
    let mut tabled = BTreeSet::new();
    let mut problems = Vec::new();
    for row in &rows {
        let key = format!("{} {}", row.method, row.template);
        if !tabled.insert(key.clone()) {
            problems.push(format!("{key}: two rows"));
        }
    }
    for missing in documented.difference(&tabled) {
        problems.push(format!("{missing}: in /openapi.json but not in the matrix; add a row to authz.rs"));
    }
    for stale in tabled.difference(&documented) {
        problems.push(format!("{stale}: in the matrix but not in /openapi.json"));
    }

    // Every cell; refusals first within a row, so a success cannot change what they see.
    let mut mismatches = Vec::new();
    let mut cells = 0;
    let undocumented = undocumented_rows();
    for row in rows.iter().chain(&undocumented) {
        let mut order: Vec<P> = PRINCIPALS.to_vec();
        order.sort_by_key(|p| (200..300).contains(&row.expect[p.index()]));
        for p in order {
            let token = world.tokens[p.index()].as_deref();
            let (got, code) = send(&world, token, (row.request)(&world, p)).await;
            cells += 1;
            if let Some(m) = mismatch(row, p, p.name(), got, &code) {
                mismatches.push(m);
            }
        }
    }
    assert_eq!(cells, (rows.len() + undocumented.len()) * PRINCIPALS.len());

    // An ended or expired membership grants nothing: on every organization
    // and invitation-management row, a former admin gets what an outsider gets.
    for (who, token) in &world.former_admins {
        for row in rows.iter().filter(|r| r.codes == ORG || r.codes == INVITATION) {
            let (got, code) = send(&world, Some(token), (row.request)(&world, P::User)).await;
            cells += 1;
            if let Some(m) = mismatch(row, P::User, who, got, &code) {
                mismatches.push(m);
            }
        }
    }

    let mut report = String::new();
    if !problems.is_empty() {
        let _ = writeln!(report, "Completeness ({} problems):", problems.len());
        for p in &problems {
            let _ = writeln!(report, "  {p}");
        }
    }
    if !mismatches.is_empty() {
        let _ = writeln!(report, "Authorisation mismatches ({} of {cells} cells):", mismatches.len());
        for m in &mismatches {
            let _ = writeln!(report, "  {m}");
        }
    }
    assert!(report.is_empty(), "{backend:?}: the authorisation matrix does not hold\n{report}");
}

mod the_authorisation_matrix {
    #[tokio::test]
    async fn sqlite() {
        super::the_authorisation_matrix(test_support::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::the_authorisation_matrix(test_support::Backend::Postgres).await;
    }
}

/// A moderator whose time-bound membership ran out grants nothing from that
/// instant (invitations.md), and ending a membership revokes the pending
/// invitations its holder created: so their links stop working at once, not
/// when the sweeper next runs.
async fn an_expired_moderators_links_stop_granting_before_the_sweeper_runs(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.invitations.sweep_interval_seconds = 3600).await;
    let admin = app.token("admin@x.io");
    let org = create_org(&app, &admin, "Acme").await;
    let created = invite(&app, &admin, &org, json!({"role": "moderator", "membershipDurationSeconds": 1})).await;
    let moderator = app.token("moderator@x.io");
    let res = app.post("/invitation/accept", &moderator, &json!({"token": created["token"]})).await;
    assert_eq!(res.status(), 200, "joining for a second");
    let (link, token) = invitation(&app, &moderator, &org, json!({"role": "member", "maxUses": 5})).await;
    let (bound, _) = invitation(&app, &moderator, &org, json!({"email": "bound@x.io"})).await;
    app.clock.advance(time::Duration::seconds(2));

    let newcomer = app.token("newcomer@x.io");
    let res = app.post("/invitation/accept", &newcomer, &json!({"token": token})).await;
    test_support::assert_problem(res, 410, "invitation.revoked").await;
    let res = app.post("/invitation/accept", &app.token("bound@x.io"), &json!({"invitationId": bound})).await;
    test_support::assert_problem(res, 410, "invitation.revoked").await;
    let user = json(app.get_user(&newcomer).await).await;
    assert_eq!(user["organizationMemberships"], json!([]), "nothing granted");

    // The refusal ended the membership as the sweeper would have, with its history row.
    let listed = json(app.post("/invitation/list", &admin, &json!({"organizationId": org})).await).await;
    for id in [&link, &bound] {
        let found = listed["invitations"].as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).unwrap();
        assert_eq!(found["status"], "revoked", "{found}");
    }
    let moderator_id = user_id(&app, &moderator).await;
    let body = json!({"organizationId": org, "userId": moderator_id});
    let history = json(app.post("/organization/members/history", &admin, &body).await).await;
    let causes: Vec<&str> =
        history["history"].as_array().unwrap().iter().map(|h| h["cause"].as_str().unwrap()).collect();
    assert_eq!(causes.last(), Some(&"expired"), "{history}");
    let members = json(app.post("/organization/members/list", &admin, &json!({"organizationId": org})).await).await;
    let ended = members["members"].as_array().unwrap().iter().find(|m| m["userId"] == moderator_id.as_str()).unwrap();
    assert_eq!(ended["endReason"], "expired", "{ended}");

    // A live creator's links are untouched.
    let (_, live) = invitation(&app, &admin, &org, json!({})).await;
    assert_eq!(app.post("/invitation/accept", &newcomer, &json!({"token": live})).await.status(), 200);
}

mod an_expired_moderators_links_stop_granting_before_the_sweeper_runs {
    #[tokio::test]
    async fn sqlite() {
        super::an_expired_moderators_links_stop_granting_before_the_sweeper_runs(test_support::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::an_expired_moderators_links_stop_granting_before_the_sweeper_runs(test_support::Backend::Postgres).await;
    }
}

/// The spec is silent on demotion; a user would expect a demoted moderator's
/// links to stop admitting people, as a removed moderator's do. So demoting a
/// member revokes the pending invitations they created for roles their new
/// role may not grant, and keeps the rest.
async fn demoting_revokes_the_links_the_new_role_may_not_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.token("admin@x.io");
    let org = create_org(&app, &admin, "Acme").await;
    let second = join(&app, &admin, &org, "second@x.io", "admin").await;
    let moderator = join(&app, &admin, &org, "moderator@x.io", "moderator").await;
    let (mod_link, mod_token) = invitation(&app, &moderator, &org, json!({"role": "member"})).await;
    let (admin_link, admin_token) = invitation(&app, &second, &org, json!({"role": "admin"})).await;
    let (member_link, member_token) = invitation(&app, &second, &org, json!({"role": "member"})).await;
    let (other_link, _) = invitation(&app, &admin, &org, json!({"role": "admin"})).await;

    for (who, role) in [(&moderator, "member"), (&second, "moderator")] {
        let body = json!({"organizationId": org, "userId": user_id(&app, who).await, "role": role});
        assert_eq!(app.post("/organization/members/update-role", &admin, &body).await.status(), 200);
    }

    let newcomer = app.token("newcomer@x.io");
    for token in [&mod_token, &admin_token] {
        let res = app.post("/invitation/accept", &newcomer, &json!({"token": token})).await;
        test_support::assert_problem(res, 410, "invitation.revoked").await;
    }
    let listed = json(app.post("/invitation/list", &admin, &json!({"organizationId": org})).await).await;
    let status =
        |id: &str| listed["invitations"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()["status"].clone();
    assert_eq!(status(&mod_link), "revoked", "a member may grant nothing");
    assert_eq!(status(&admin_link), "revoked", "a moderator may not grant admin");
    assert_eq!(status(&member_link), "pending", "a moderator may still grant member");
    assert_eq!(status(&other_link), "pending", "other people's links are untouched");
    assert_eq!(app.post("/invitation/accept", &newcomer, &json!({"token": member_token})).await.status(), 200);
}

mod demoting_revokes_the_links_the_new_role_may_not_grant {
    #[tokio::test]
    async fn sqlite() {
        super::demoting_revokes_the_links_the_new_role_may_not_grant(test_support::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::demoting_revokes_the_links_the_new_role_may_not_grant(test_support::Backend::Postgres).await;
    }
}
