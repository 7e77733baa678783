//! The events of KYC profiles: opened (drafted or submitted), a draft
//! edited, submitted or withdrawn, and a superuser's decision. A profile
//! appears by its ids and state only, never a field: events outlive an
//! erasure, and the fields are sealed personal data (docs/events.md).

use crate::model::{DecisionKind, Profile, ProfileEvent, ProfileState, Transition};
use serde_json::json;
use shared_kernel::{Event, Subject, UserId};
use time::OffsetDateTime;

/// `profile.drafted`: a user opened a draft.
pub const DRAFTED: &str = "profile.drafted";
/// `profile.updated`: its user edited the draft.
pub const UPDATED: &str = "profile.updated";
/// `profile.submitted`: submitted for review (opened so, or a draft submitted, or filed by a superuser).
pub const SUBMITTED: &str = "profile.submitted";
/// `profile.withdrawn`: its user withdrew the draft.
pub const WITHDRAWN: &str = "profile.withdrawn";
/// `profile.verified`: a superuser verified it.
pub const VERIFIED: &str = "profile.verified";
/// `profile.rejected`: a superuser rejected it, with the reason the user sees.
pub const REJECTED: &str = "profile.rejected";

/// Every event type this context emits, in the order docs/events.md lists them.
pub const EVENT_TYPES: &[&str] = &[DRAFTED, UPDATED, SUBMITTED, WITHDRAWN, VERIFIED, REJECTED];

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn event(kind: &str, p: &Profile, by: Option<UserId>, at: OffsetDateTime) -> Event {
    let data = json!({ "profile": {
        "id": p.id.to_string(),
        "userId": p.user_id.to_string(),
        "authorId": p.author.map(|a| a.to_string()),
        "state": p.state.as_str(),
        "createdAt": rfc3339(p.created_at),
        "version": p.version,
    } });
    Event::new(kind, at, by, None, Subject::new("profile", p.id), data)
}

/// The event of a new profile: drafted, or submitted (by its author when a superuser filed it).
pub fn opened(p: &Profile) -> Event {
    let kind = if p.state == ProfileState::Submitted { SUBMITTED } else { DRAFTED };
    event(kind, p, Some(p.author.unwrap_or(p.user_id)), p.created_at)
}

/// The event of `by`'s change to a draft that left it as `after`: edited, submitted or withdrawn.
pub fn changed(after: &Profile, by: UserId) -> Event {
    let kind = match after.state {
        ProfileState::Submitted => SUBMITTED,
        ProfileState::Withdrawn => WITHDRAWN,
        _ => UPDATED,
    };
    event(kind, after, Some(by), after.updated_at)
}

/// The events of a decision: `profile.verified` or `profile.rejected` (its
/// reason and whether the user may try again; never the internal note).
/// Labels follow from decisions and have no event of their own.
pub fn decided(t: &Transition) -> Vec<Event> {
    t.events
        .iter()
        .filter_map(|e| match e {
            ProfileEvent::Decided(d) => {
                let kind = if d.verdict == DecisionKind::Verified { VERIFIED } else { REJECTED };
                let mut ev = event(kind, &t.record, d.admin_id, d.at);
                if d.verdict == DecisionKind::Rejected {
                    ev.data["reason"] = json!(d.reason.as_ref().map(|r| r.as_str()));
                    ev.data["retry"] = json!(d.retry.map(|r| r.as_str()));
                }
                Some(ev)
            }
            ProfileEvent::Labelled(_) => None,
        })
        .collect()
}
