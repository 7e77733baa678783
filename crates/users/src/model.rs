//! Records and value types of the user aggregate. Every value type parses its
//! input once; a value that exists is valid.

use serde::{Deserialize, Serialize};
use shared_kernel::{DiscordId, EmailAddress, OrgRole, PlatformRole, Tenure, TextError, UserId};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

/// A user as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The canonical int64 id.
    pub id: UserId,
    /// The identity provider's stable subject (`sub`).
    pub subject: String,
    /// The e-mail the identity provider last reported.
    pub email: EmailAddress,
    /// Whether the identity provider vouched for `email`.
    pub email_verified: bool,
    /// Given name, when the identity provider sent one.
    pub first_name: Option<String>,
    /// Family name, when the identity provider sent one.
    pub last_name: Option<String>,
    /// The name shown to others; the user edits it.
    pub display_name: DisplayName,
    /// Unique lower-case handle used by search and review screens.
    pub username: Username,
    /// Public URL of the current avatar.
    pub avatar_url: Option<String>,
    /// The organization the user is working in.
    pub current_organization_id: Option<Uuid>,
    /// The user's manual presence override.
    pub manual_status: Option<ManualStatus>,
    /// Stored integration flags.
    pub integrations: Integrations,
    /// Platform role, from the database only.
    pub platform_role: PlatformRole,
    /// The linked Discord account, if any (photo verification compares with its avatar).
    pub discord_id: Option<DiscordId>,
    /// When the user was provisioned.
    pub created_at: OffsetDateTime,
    /// When the user record last changed.
    pub updated_at: OffsetDateTime,
}

/// What a new user is created with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// The identity the user signed in with.
    pub identity: Identity,
    /// The e-mail (required to create a user).
    pub email: EmailAddress,
    /// The initial display name.
    pub display_name: DisplayName,
    /// The username to try.
    pub username: Username,
    /// The initial platform role.
    pub platform_role: PlatformRole,
    /// The creation instant.
    pub now: OffsetDateTime,
}

/// What sign-in copies from the identity provider onto an existing user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityRefresh {
    /// The current e-mail.
    pub email: EmailAddress,
    /// Whether the identity provider vouches for it.
    pub email_verified: bool,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

/// The claims of a verified token that describe the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    subject: String,
    /// `email`, if present and well-formed.
    pub email: Option<EmailAddress>,
    /// `email_verified`, false when absent.
    pub email_verified: bool,
    /// `given_name`, trimmed, if non-empty.
    pub given_name: Option<String>,
    /// `family_name`, trimmed, if non-empty.
    pub family_name: Option<String>,
    /// `name`, trimmed, if non-empty.
    pub name: Option<String>,
    /// The Discord id from the configured claim (`auth.discord_id_claim`), if any.
    pub discord_id: Option<DiscordId>,
}

/// Why token claims do not describe a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// `sub` empty, longer than 255 bytes or containing control characters.
    #[error("the token's `sub` claim must be 1 to 255 printable characters")]
    Subject,
}

impl Identity {
    /// Builds an identity from raw claims. Optional name claims that are blank
    /// or absurd are dropped rather than failing the sign-in.
    pub fn new(
        subject: &str,
        email: Option<EmailAddress>,
        email_verified: bool,
        given_name: Option<&str>,
        family_name: Option<&str>,
        name: Option<&str>,
    ) -> Result<Self, IdentityError> {
        if subject.is_empty() || subject.len() > 255 || subject.chars().any(char::is_control) {
            return Err(IdentityError::Subject);
        }
        let clean = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty() && v.chars().count() <= 100 && !v.chars().any(char::is_control))
                .map(str::to_owned)
        };
        Ok(Self {
            subject: subject.to_owned(),
            email,
            email_verified,
            given_name: clean(given_name),
            family_name: clean(family_name),
            name: clean(name),
            discord_id: None,
        })
    }

    /// The identity with the Discord id a token claim carried.
    pub fn with_discord_id(mut self, discord_id: Option<DiscordId>) -> Self {
        self.discord_id = discord_id;
        self
    }

    /// The stable subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// What sign-in must store for `user` to reflect this identity's
    /// e-mail, verification and names; `None` when it already does. A claim
    /// the token lacks keeps what is stored, and the display name is the
    /// user's own, never refreshed.
    pub fn refresh_of(&self, user: &User) -> Option<IdentityRefresh> {
        let refresh = IdentityRefresh {
            email: self.email.clone().unwrap_or_else(|| user.email.clone()),
            email_verified: if self.email.is_some() { self.email_verified } else { user.email_verified },
            first_name: self.given_name.clone().or_else(|| user.first_name.clone()),
            last_name: self.family_name.clone().or_else(|| user.last_name.clone()),
        };
        let unchanged = refresh.email == user.email
            && refresh.email_verified == user.email_verified
            && refresh.first_name == user.first_name
            && refresh.last_name == user.last_name;
        (!unchanged).then_some(refresh)
    }

    /// The Discord id this identity claims that `user` does not hold yet.
    pub fn discord_to_link(&self, user: &User) -> Option<&DiscordId> {
        self.discord_id.as_ref().filter(|claimed| user.discord_id.as_ref() != Some(*claimed))
    }

    /// Whether signing `user` in with this identity would write nothing: the
    /// read-only sign-in of every request but the first after a change.
    pub fn is_reflected_by(&self, user: &User) -> bool {
        self.refresh_of(user).is_none() && self.discord_to_link(user).is_none()
    }

    /// The display name a new user starts with: `name`, else the given and
    /// family names, else the e-mail's local part, padded to the minimum length.
    pub fn initial_display_name(&self, email: &EmailAddress) -> DisplayName {
        let joined = match (&self.given_name, &self.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(g), None) => Some(g.clone()),
            (None, Some(f)) => Some(f.clone()),
            (None, None) => None,
        };
        self.name
            .iter()
            .cloned()
            .chain(joined)
            .chain(std::iter::once(email.local_part().to_owned()))
            .find_map(|candidate| DisplayName::parse(&candidate).ok())
            // A one-character local part ("a@x.io") is the only way to get here.
            .unwrap_or_else(|| DisplayName(format!("{} (user)", email.local_part())))
    }
}

/// A display name: trimmed, 2..=100 Unicode scalar values, one line of
/// visible text without control, format or bidirectional-override characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

/// Why a display name is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    /// Fewer than 2 or more than 100 characters after trimming.
    #[error("must be 2 to 100 characters after trimming, got {0}")]
    Length(usize),
    /// Contains a control, format or bidirectional-override character.
    #[error("must not contain control, format or bidirectional-override characters")]
    ControlCharacter,
    /// Nothing visible: only spaces, combining marks or fillers.
    #[error("must contain visible characters")]
    Invisible,
}

impl DisplayName {
    /// The smallest accepted length, in Unicode scalar values.
    pub const MIN: usize = 2;
    /// The largest accepted length, in Unicode scalar values.
    pub const MAX: usize = 100;

    /// Trims and checks a display name.
    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        match shared_kernel::text::one_line(raw, Self::MIN, Self::MAX) {
            Ok(s) => Ok(Self(s.to_owned())),
            Err(TextError::Length { len, .. }) => Err(DisplayNameError::Length(len)),
            Err(TextError::Forbidden(_)) => Err(DisplayNameError::ControlCharacter),
            Err(TextError::Invisible) => Err(DisplayNameError::Invisible),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name deserializes from a string through [`DisplayName::parse`],
/// so a request body holding one is checked once, where it is read.
impl<'de> Deserialize<'de> for DisplayName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A username: 1..=40 characters of `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

/// Why a username is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a username is 1 to 40 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")]
pub struct UsernameError;

impl Username {
    /// The longest username.
    pub const MAX: usize = 40;

    /// Checks a username exactly as given (no case folding: stored names are lower-case).
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
        let starts_well = raw.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if raw.is_empty() || raw.len() > Self::MAX || !starts_well || !raw.chars().all(ok_char) {
            return Err(UsernameError);
        }
        Ok(Self(raw.to_owned()))
    }

    /// Derives a username from an e-mail's local part (`Ada.L+x@x.io` → `ada.l-x`);
    /// `user` when nothing usable is left.
    pub fn derive(email: &EmailAddress) -> Self {
        let mut out = String::new();
        for c in email.local_part().chars().flat_map(char::to_lowercase) {
            let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') { c } else { '-' };
            if !(c == '-' && out.ends_with('-')) {
                out.push(c);
            }
        }
        let trimmed: String =
            out.trim_start_matches(|c: char| !c.is_ascii_alphanumeric()).chars().take(Self::MAX - 6).collect();
        let trimmed = trimmed.trim_end_matches('-');
        Self::parse(trimmed).unwrap_or_else(|_| Self("user".to_owned()))
    }

    /// The `n`-th alternative after a collision: `ada2`, `ada3`, …
    pub fn with_suffix(&self, n: u32) -> Self {
        self.suffixed(&n.to_string())
    }

    /// An alternative with a random tag (`ada-7f3k2q9d`), for when the
    /// numbered ones are taken: `tag` is lower-case letters and digits.
    pub fn with_tag(&self, tag: &str) -> Self {
        self.suffixed(&format!("-{tag}"))
    }

    fn suffixed(&self, suffix: &str) -> Self {
        let keep = Self::MAX.saturating_sub(suffix.len());
        let base: String = self.0.chars().take(keep).collect();
        Self(format!("{base}{suffix}"))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username deserializes from a string through [`Username::parse`].
impl<'de> Deserialize<'de> for Username {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a user's own change touched: `displayName`, `manualStatus` or `avatar`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Changed {
    /// The display name.
    DisplayName,
    /// The manual status.
    ManualStatus,
    /// The avatar (set or removed).
    Avatar,
}

impl Changed {
    /// Its name in the event.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DisplayName => "displayName",
            Self::ManualStatus => "manualStatus",
            Self::Avatar => "avatar",
        }
    }
}

/// A change users make to their own profile (`/user/update`, `/user/status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileChange {
    /// A new display name.
    DisplayName(DisplayName),
    /// A manual status, or `None` to clear it.
    ManualStatus(Option<ManualStatus>),
}

impl ProfileChange {
    /// What it changes, as `user.updated` names it.
    pub const fn changed(&self) -> Changed {
        match self {
            Self::DisplayName(_) => Changed::DisplayName,
            Self::ManualStatus(_) => Changed::ManualStatus,
        }
    }

    /// Applies the change to `user` as of `now`.
    pub fn apply(&self, user: &mut User, now: OffsetDateTime) {
        match self {
            Self::DisplayName(name) => user.display_name = name.clone(),
            Self::ManualStatus(status) => user.manual_status = *status,
        }
        user.updated_at = now;
    }
}

/// The user's manual presence override; stored as int16 (seed 003).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ManualStatus {
    /// Appears offline.
    Offline,
    /// Appears online.
    Online,
    /// Away.
    Away,
    /// Busy.
    Busy,
}

impl ManualStatus {
    /// The stored int16 code.
    pub const fn as_i16(self) -> i16 {
        match self {
            Self::Offline => 0,
            Self::Online => 1,
            Self::Away => 2,
            Self::Busy => 3,
        }
    }

    /// The status for a stored int16 code.
    pub const fn from_i16(code: i16) -> Option<Self> {
        match code {
            0 => Some(Self::Offline),
            1 => Some(Self::Online),
            2 => Some(Self::Away),
            3 => Some(Self::Busy),
            _ => None,
        }
    }
}

/// Stored integration flags (no integration is built; seed 003 carries them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Integrations {
    /// Google Calendar: a token is stored.
    pub google_calendar_connected: bool,
    /// Google Calendar: the feature toggle.
    pub google_calendar_enabled: bool,
}

/// Membership status as the DTO shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MembershipStatus {
    /// Grants its role.
    Active,
    /// Ended (shown for 30 days so clients can say access ended).
    Inactive,
}

/// The light organization summary of the DTO: no slug, no zones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationSummary {
    /// Organization id (UUIDv7).
    pub id: Uuid,
    /// Organization name.
    pub name: String,
    /// Public logo URL.
    pub logo_url: Option<String>,
}

/// One of the user's memberships as the DTO shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipSummary {
    /// The organization.
    pub organization: OrganizationSummary,
    /// The role held.
    pub role: OrgRole,
    /// Active or recently ended.
    pub status: MembershipStatus,
}

/// What promoting one account of an e-mail does: only an account that has
/// the e-mail verified becomes a superuser (e-mails are not unique, and an
/// unverified one is only a claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Promotion {
    /// Made a superuser.
    Promoted,
    /// Already one; nothing changed.
    AlreadySuperuser,
    /// Its e-mail is not verified; nothing changed.
    Unverified,
}

impl User {
    /// What promoting this account does.
    pub fn promotion(&self) -> Promotion {
        if self.platform_role == PlatformRole::Superuser {
            Promotion::AlreadySuperuser
        } else if self.email_verified {
            Promotion::Promoted
        } else {
            Promotion::Unverified
        }
    }
}

/// What a view reads, as of one instant: the avatar tries created since
/// `tries_since`, and the memberships still granting or ended since `ended_since`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewQuery {
    /// Tries created after this instant count against the window.
    pub tries_since: OffsetDateTime,
    /// Ended memberships are read when they ended after this instant.
    pub ended_since: OffsetDateTime,
}

impl ViewQuery {
    /// The view of the user at `now`, with an avatar try window of `window`.
    pub fn at(now: OffsetDateTime, window: time::Duration) -> Self {
        Self { tries_since: now - window, ended_since: Tenure::listed_since(now) }
    }
}

/// One of the user's memberships as stored: the DTO derives its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipRecord {
    /// The organization.
    pub organization: OrganizationSummary,
    /// The role held.
    pub role: OrgRole,
    /// When it started (the newest per organization is the one shown).
    pub joined_at: OffsetDateTime,
    /// When it grants access.
    pub tenure: Tenure,
}

/// The stored parts of the User DTO, read in one round trip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// The user row.
    pub user: User,
    /// Memberships stored active or ended since the query's `ended_since`.
    pub memberships: Vec<MembershipRecord>,
    /// Avatar upload tries counted in the window.
    pub avatar_tries_used: u32,
}

/// Everything the User DTO shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserView {
    /// The user row.
    pub user: User,
    /// Active memberships and those ended in the last 30 days.
    pub memberships: Vec<MembershipSummary>,
    /// Avatar upload tries left in the current window.
    pub avatar_upload_tries_remaining: u32,
}

impl UserView {
    /// The view at `now`: per organization the newest membership, shown
    /// while it grants access (`active`) or for 30 days after it ended
    /// (`inactive`), read through [`Tenure`]; the current organization only
    /// while its membership grants access; the tries left of `tries_limit`.
    pub fn assemble(record: UserRecord, tries_limit: u32, now: OffsetDateTime) -> Self {
        let mut newest: Vec<MembershipRecord> = Vec::new();
        for m in record.memberships {
            match newest.iter_mut().find(|n| n.organization.id == m.organization.id) {
                Some(n) if m.joined_at > n.joined_at => *n = m,
                Some(_) => {}
                None => newest.push(m),
            }
        }
        newest.retain(|m| m.tenure.listed_at(now));
        newest.sort_by(|a, b| a.joined_at.cmp(&b.joined_at).then_with(|| a.organization.id.cmp(&b.organization.id)));
        let mut user = record.user;
        let current_grants =
            newest.iter().any(|m| Some(m.organization.id) == user.current_organization_id && m.tenure.grants_at(now));
        if !current_grants {
            user.current_organization_id = None;
        }
        let memberships = newest
            .into_iter()
            .map(|m| MembershipSummary {
                status: if m.tenure.grants_at(now) { MembershipStatus::Active } else { MembershipStatus::Inactive },
                organization: m.organization,
                role: m.role,
            })
            .collect();
        Self { user, memberships, avatar_upload_tries_remaining: tries_limit.saturating_sub(record.avatar_tries_used) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn display_names_are_trimmed_and_counted_in_scalar_values() {
        assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(DisplayName::parse("李雷").unwrap().as_str(), "李雷");
        assert_eq!(DisplayName::parse(&"é".repeat(100)).unwrap().as_str().chars().count(), 100);
        assert_eq!(DisplayName::parse(&"é".repeat(101)), Err(DisplayNameError::Length(101)));
        assert_eq!(DisplayName::parse(" a "), Err(DisplayNameError::Length(1)));
        assert_eq!(DisplayName::parse("   "), Err(DisplayNameError::Length(0)));
    }

    #[test]
    fn display_names_with_control_or_override_characters_are_refused() {
        for bad in ["Ada\u{0}L", "Ada\nL", "Ada\u{7f}", "Ada\u{202E}txt", "Ada\u{2028}L"] {
            assert_eq!(DisplayName::parse(bad), Err(DisplayNameError::ControlCharacter), "{bad:?}");
        }
    }

    #[test]
    fn usernames_derive_from_the_local_part() {
        assert_eq!(Username::derive(&email("Ada.L@x.io")).as_str(), "ada.l");
        assert_eq!(Username::derive(&email("ada+tag@x.io")).as_str(), "ada-tag");
        assert_eq!(Username::derive(&email("__@x.io")).as_str(), "user");
        assert_eq!(Username::derive(&email("josé@x.io")).as_str(), "jos");
        assert_eq!(Username::derive(&email("ada@x.io")).with_suffix(2).as_str(), "ada2");
    }

    #[test]
    fn a_new_users_display_name_prefers_name_then_given_names_then_the_email() {
        let e = email("ada.l@x.io");
        let id = |name: Option<&str>, given: Option<&str>, family: Option<&str>| {
            Identity::new("sub", Some(e.clone()), true, given, family, name).unwrap()
        };
        assert_eq!(id(Some("Ada Lovelace"), Some("A"), None).initial_display_name(&e).as_str(), "Ada Lovelace");
        assert_eq!(id(None, Some("Ada"), Some("Lovelace")).initial_display_name(&e).as_str(), "Ada Lovelace");
        assert_eq!(id(Some("  "), None, None).initial_display_name(&e).as_str(), "ada.l");
        let short = email("a@x.io");
        assert_eq!(id(None, None, None).initial_display_name(&short).as_str(), "a (user)");
    }

    #[test]
    fn subjects_must_be_printable_and_bounded() {
        assert_eq!(Identity::new("", None, false, None, None, None), Err(IdentityError::Subject));
        assert_eq!(Identity::new(&"s".repeat(256), None, false, None, None, None), Err(IdentityError::Subject));
        assert_eq!(Identity::new("a\nb", None, false, None, None, None), Err(IdentityError::Subject));
    }

    #[test]
    fn manual_status_codes_round_trip() {
        for s in [ManualStatus::Offline, ManualStatus::Online, ManualStatus::Away, ManualStatus::Busy] {
            assert_eq!(ManualStatus::from_i16(s.as_i16()), Some(s));
        }
        assert_eq!(ManualStatus::from_i16(9), None);
    }

    proptest! {
        #[test]
        fn display_name_parsing_never_panics_and_is_idempotent(raw in "\\PC{0,120}") {
            if let Ok(name) = DisplayName::parse(&raw) {
                prop_assert_eq!(DisplayName::parse(name.as_str()), Ok(name.clone()));
                let len = name.as_str().chars().count();
                prop_assert!((2..=100).contains(&len));
            }
        }

        #[test]
        fn derived_usernames_are_always_valid(local in "[a-zA-Z0-9._+-]{1,64}") {
            if let Ok(e) = EmailAddress::parse(&format!("{local}@x.io")) {
                let u = Username::derive(&e);
                prop_assert!(Username::parse(u.as_str()).is_ok());
                prop_assert!(Username::parse(u.with_suffix(123_456).as_str()).is_ok());
            }
        }
    }
}

/// A superuser's change to a user (`PATCH /admin/users/{userId}`); `None`
/// leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdminUserUpdate {
    /// A new platform role.
    pub platform_role: Option<PlatformRole>,
    /// `Some(None)` unlinks the Discord account, `Some(Some(id))` links one.
    pub discord_id: Option<Option<DiscordId>>,
    /// A new username.
    pub username: Option<Username>,
}

impl AdminUserUpdate {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.platform_role.is_none() && self.discord_id.is_none() && self.username.is_none()
    }
}
