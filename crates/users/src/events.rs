//! The events of users: provisioned on first sign-in, their own profile
//! changed (which part, never the value), their platform role changed,
//! their personal data erased. Users appear by id only, with their
//! platform role: events outlive an erasure, so they carry no personal
//! data (docs/events.md).

use crate::erasure::Erasure;
use crate::model::{Changed, User};
use serde_json::json;
use shared_kernel::{Event, PlatformRole, Subject, UserId};
use time::OffsetDateTime;

/// `user.provisioned`: a first sign-in created the user.
pub const USER_PROVISIONED: &str = "user.provisioned";
/// `user.updated`: the user changed their display name, status or avatar.
pub const USER_UPDATED: &str = "user.updated";
/// `user.platform_role_changed`: a superuser, or `usher promote`, changed it.
pub const USER_PLATFORM_ROLE_CHANGED: &str = "user.platform_role_changed";
/// `user.erased`: a superuser erased the user's personal data.
pub const USER_ERASED: &str = "user.erased";

/// Every event type this context emits, in the order docs/events.md lists them.
pub const EVENT_TYPES: &[&str] = &[USER_PROVISIONED, USER_UPDATED, USER_PLATFORM_ROLE_CHANGED, USER_ERASED];

/// `user.updated`, by the user themself: which part of `user` (as it now
/// stands) changed, never its value, which is personal data.
pub fn updated(user: &User, changed: Changed, at: OffsetDateTime) -> Event {
    Event::new(
        USER_UPDATED,
        at,
        Some(user.id),
        None,
        Subject::new("user", user.id),
        json!({ "user": user_data(user), "changed": [changed.as_str()] }),
    )
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn user_data(u: &User) -> serde_json::Value {
    json!({ "id": u.id.to_string(), "platformRole": u.platform_role.as_str(), "createdAt": rfc3339(u.created_at) })
}

/// `user.provisioned`, by the user themself.
pub fn provisioned(user: &User) -> Event {
    Event::new(
        USER_PROVISIONED,
        user.created_at,
        Some(user.id),
        None,
        Subject::new("user", user.id),
        json!({ "user": user_data(user) }),
    )
}

/// `user.platform_role_changed` when an administrative change left `after`
/// with another role than `before`; none otherwise. `by` is none for the
/// command line and for sign-in.
pub fn admin_updated(before: PlatformRole, after: &User, by: Option<UserId>, at: OffsetDateTime) -> Option<Event> {
    (before != after.platform_role).then(|| {
        Event::new(
            USER_PLATFORM_ROLE_CHANGED,
            at,
            by,
            None,
            Subject::new("user", after.id),
            json!({ "user": user_data(after), "previousRole": before.as_str() }),
        )
    })
}

/// `user.erased`, by the superuser who erased them.
pub fn erased(erasure: &Erasure) -> Event {
    Event::new(
        USER_ERASED,
        erasure.at,
        Some(erasure.by),
        None,
        Subject::new("user", erasure.user_id),
        json!({ "user": { "id": erasure.user_id.to_string() }, "erasedAt": rfc3339(erasure.at) }),
    )
}
