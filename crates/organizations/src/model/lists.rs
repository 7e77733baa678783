//! What the lists read: members, invitations, the sidebar, and the filters
//! the model hands the adapter.

use super::{Authority, InvitationState, Membership, MembershipStatus, Organization, OrganizationId, Scope, ZoneId};
use shared_kernel::{OrgRole, UserId};
use std::cmp::Ordering;
use time::OffsetDateTime;

/// A member as the members list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The membership.
    pub membership: Membership,
    /// The member's display name.
    pub display_name: String,
    /// The member's e-mail.
    pub email: String,
}

/// The filters a caller asks the members list for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFilter {
    /// Only memberships reading this status now ([`Membership::view_at`]).
    pub status: Option<MembershipStatus>,
    /// Only this role.
    pub role: Option<OrgRole>,
    /// Only memberships covering this zone.
    pub zone: Option<ZoneId>,
    /// Only members whose display name or e-mail starts with this.
    pub search: Option<MemberSearch>,
}

/// Why a members search is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a search {0}")]
pub struct MemberSearchError(#[from] pub shared_kernel::TextError);

/// A members search: a prefix of the member's display name or e-mail.
/// Trimmed, 1..=100 characters of one visible line. ASCII letters match in
/// either case and every other character matches itself: the text is
/// compared after [`MemberSearch::fold`], which the SQL adapter renders as
/// an ASCII `lower()` over byte order, so an index serves it on both
/// databases and the memory adapter agrees with both.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct MemberSearch(String);

impl MemberSearch {
    /// The most characters.
    pub const MAX: usize = 100;

    /// Checks a search and folds it.
    pub fn parse(raw: &str) -> Result<Self, MemberSearchError> {
        Ok(Self(Self::fold(shared_kernel::text::one_line(raw, 1, Self::MAX)?)))
    }

    /// How names, e-mails and the search are compared: ASCII letters lower-cased.
    pub fn fold(text: &str) -> String {
        text.to_ascii_lowercase()
    }

    /// The folded prefix.
    pub fn prefix(&self) -> &str {
        &self.0
    }

    /// The folded texts that start with the prefix are exactly those in
    /// `prefix() <= text < upper` in byte (code point) order; `None` when
    /// no upper bound exists (every character of the prefix is the last one).
    pub fn upper(&self) -> Option<String> {
        let mut chars: Vec<char> = self.0.chars().collect();
        while let Some(last) = chars.pop() {
            let next = match u32::from(last) + 1 {
                0xD800 => Some('\u{E000}'),
                n => char::from_u32(n),
            };
            if let Some(next) = next {
                chars.push(next);
                return Some(chars.into_iter().collect());
            }
        }
        None
    }

    /// Whether a member with this display name and e-mail is found.
    pub fn matches(&self, display_name: &str, email: &str) -> bool {
        [display_name, email].iter().any(|text| Self::fold(text).starts_with(&self.0))
    }
}

impl TryFrom<String> for MemberSearch {
    type Error = MemberSearchError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

/// The members query the adapter runs, decided by the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberQuery {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The filters asked for.
    pub filter: MemberFilter,
    /// Only members whose zones are non-empty and all inside these (a zone
    /// moderator's scope); `None`: everyone.
    pub within: Option<Vec<ZoneId>>,
    /// The instant `status` is read at: `active` means stored active and
    /// not past `expires_at` at this instant ([`shared_kernel::Tenure::grants_at`]).
    pub at: OffsetDateTime,
}

/// The filters of the invitations list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvitationFilter {
    /// Only invitations reading this state now: `pending` is stored pending
    /// and unexpired, `expired` stored pending and past `expires_at`, the
    /// others their stored status.
    pub state: Option<InvitationState>,
    /// Only this role.
    pub role: Option<OrgRole>,
    /// Only invitations to this zone.
    pub zone: Option<ZoneId>,
    /// Only invitations this user created.
    pub created_by: Option<UserId>,
    /// Only invitations whose bound e-mail starts with this (ASCII case-insensitive).
    pub email_prefix: Option<String>,
}

/// The invitations query the adapter runs, decided by the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationQuery {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The filters asked for, the e-mail prefix folded like stored e-mails.
    pub filter: InvitationFilter,
    /// Only invitations to one of these zones (a zone moderator's scope); `None`: all.
    pub within: Option<Vec<ZoneId>>,
    /// The instant `state` is read at.
    pub at: OffsetDateTime,
}

impl Authority {
    /// The members list this caller may read (`org:moderator`): a zone
    /// moderator sees the members inside their zones only.
    pub fn members_query(&self, filter: MemberFilter) -> Result<MemberQuery, crate::error::OrgError> {
        self.require(OrgRole::Moderator)?;
        Ok(MemberQuery {
            organization_id: self.membership().organization_id,
            filter,
            within: self.scope().zones().map(<[ZoneId]>::to_vec),
            at: self.now(),
        })
    }

    /// The invitations list this caller may read (`org:moderator`): a zone
    /// moderator sees the invitations to their zones only.
    pub fn invitations_query(&self, mut filter: InvitationFilter) -> Result<InvitationQuery, crate::error::OrgError> {
        self.require(OrgRole::Moderator)?;
        filter.email_prefix = filter.email_prefix.map(|p| p.trim().to_ascii_lowercase()).filter(|p| !p.is_empty());
        let within = match self.scope() {
            Scope::Organization => None,
            Scope::Zones(z) => Some(z),
        };
        Ok(InvitationQuery { organization_id: self.membership().organization_id, filter, within, at: self.now() })
    }
}

/// One line of the sidebar (seed 002): an organization the caller belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidebarApp {
    /// The organization.
    pub organization: Organization,
    /// The membership.
    pub membership: Membership,
}

impl SidebarApp {
    /// The sidebar at `now`: the memberships granting access, the
    /// organizations the caller administers first, then by name.
    pub fn sidebar(mut apps: Vec<Self>, now: OffsetDateTime) -> Vec<Self> {
        apps.retain(|a| a.membership.grants(now).is_some());
        apps.sort_by(|a, b| {
            let admin = |x: &Self| x.membership.role != OrgRole::Admin;
            admin(a)
                .cmp(&admin(b))
                .then_with(|| a.organization.name.cmp(&b.organization.name))
                .then_with(|| a.organization.id.cmp(&b.organization.id))
                .then(Ordering::Equal)
        });
        apps
    }
}

#[cfg(test)]
mod tests {
    use super::MemberSearch;

    fn search(raw: &str) -> MemberSearch {
        MemberSearch::parse(raw).unwrap()
    }

    #[test]
    fn a_search_is_trimmed_folded_in_ascii_and_one_visible_line() {
        assert_eq!(search("  AdA ").prefix(), "ada");
        assert_eq!(search("É").prefix(), "É", "only ASCII letters fold");
        assert_eq!(search("a").prefix(), "a", "one character is enough");
        for refused in ["", "   ", "a\u{0}b", "a\nb", "a\u{202E}b"] {
            assert!(MemberSearch::parse(refused).is_err(), "{refused:?}");
        }
        assert!(MemberSearch::parse(&"x".repeat(100)).is_ok());
        assert!(MemberSearch::parse(&"x".repeat(101)).is_err());
    }

    #[test]
    fn the_upper_bound_is_the_next_text_after_every_text_with_the_prefix() {
        assert_eq!(search("ab").upper().as_deref(), Some("ac"));
        // Characters a search cannot hold (unassigned), built directly to reach the edges.
        let raw = |s: &str| MemberSearch(s.to_owned());
        assert_eq!(raw("a\u{10FFFF}").upper().as_deref(), Some("b"));
        assert_eq!(raw("\u{D7FF}").upper().as_deref(), Some("\u{E000}"));
        assert_eq!(raw("\u{10FFFF}").upper(), None);
    }

    #[test]
    fn matching_is_the_range_the_sql_adapter_asks_for() {
        let texts =
            ["ada", "Ada Lovelace", "adb", "ad", "ADA@EXAMPLE.COM", "b", "ad%", "ad_x", "é", "ÉCOLE", "a\u{10FFFF}"];
        for prefix in ["a", "ad", "ada", "AD%", "ad_", "é", "É", "a\u{10FFFF}"] {
            let s = MemberSearch(MemberSearch::fold(prefix));
            for text in texts {
                let folded = MemberSearch::fold(text);
                let in_range = folded.as_str() >= s.prefix() && s.upper().is_none_or(|upper| folded < upper);
                assert_eq!(s.matches(text, "nobody@example.com"), in_range, "{prefix:?} on {text:?}");
            }
        }
        assert!(search("grace@").matches("Grace Hopper", "grace@example.com"), "the e-mail matches too");
        assert!(!search("ad%").matches("adx", "adx@example.com"), "% is a character, not a wildcard");
    }
}
