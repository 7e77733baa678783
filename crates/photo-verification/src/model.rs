//! The photo verification record, its event log entries and its pure
//! transitions: `(record, actor, input, now) -> Transition | DecisionError`.
//! Persistence and object-store effects live in the service and the adapters.

use image_upload::ObjectKey;
use shared_kernel::{Actor, DiscordId, Retry, ReviewNote, UserId};
use time::OffsetDateTime;

shared_kernel::uuid_id!(
    /// A photo verification's id.
    PhotoVerificationId
);

shared_kernel::stored_enum! {
    /// Where a verification stands. Everything but `Pending` is terminal.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum VerificationStatus: VerificationStatusError {
        /// Waiting for a superuser's review.
        Pending = "PENDING",
        /// Both sides approved: the requested photo is the avatar now.
        Accepted = "ACCEPTED",
        /// A superuser refused the photo, with a reason.
        Rejected = "REJECTED",
        /// A newer upload replaced it while it was pending.
        Superseded = "SUPERSEDED",
    }
}

/// Why a string is not a verification status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a status is PENDING, ACCEPTED, REJECTED or SUPERSEDED")]
pub struct VerificationStatusError;

impl VerificationStatus {
    /// Whether no action may change it any more.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

shared_kernel::stored_enum! {
    /// Which side a superuser approves: `profile`, `discord` or `both`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum ApprovalSide {
        /// The requested image itself is acceptable as a profile photo.
        Profile = "profile",
        /// The Discord avatar (as last fetched) shows the same person/photo.
        Discord = "discord",
        /// Both at once.
        Both = "both",
    }
}

/// Who approved a side, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    /// The superuser.
    pub by: UserId,
    /// When.
    pub at: OffsetDateTime,
}

/// What was live when the verification opened.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PreviousPhotos {
    /// The avatar URL at the time.
    pub profile_url: Option<String>,
    /// The Discord avatar URL at the time, if it could be read.
    pub discord_url: Option<String>,
}

/// The requested profile photo. Its content never changes: the object key is
/// immutable and `sha256` is the digest of its bytes, so a profile approval
/// always refers to exactly these bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileSide {
    /// Public URL of the requested image.
    pub url: String,
    /// Its object key (deleted when rejected or superseded).
    pub object_key: ObjectKey,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
    /// Set when a superuser approved it.
    pub approval: Option<Approval>,
}

/// The Discord avatar the reviewer compares against.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DiscordSide {
    /// The avatar URL as last fetched; `None` until fetched.
    pub url: Option<String>,
    /// Discord's avatar hash as last fetched (`None` for the default avatar).
    pub avatar_hash: Option<String>,
    /// When it was last fetched; `None` if never.
    pub fetched_at: Option<OffsetDateTime>,
    /// Set when a superuser approved the avatar with this hash.
    pub approval: Option<Approval>,
}

/// A Discord user's current avatar, as the Discord port reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscordAvatar {
    /// The CDN URL (`.gif` for animated avatars, the default avatar for none).
    pub url: String,
    /// The avatar hash; `None` when the user has the default avatar.
    pub hash: Option<String>,
}

/// One photo verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoVerification {
    /// Its id.
    pub id: PhotoVerificationId,
    /// Whose photo.
    pub user_id: UserId,
    /// The user's Discord id; `None` means the Discord side is not linked
    /// and only the profile side needs approval.
    pub discord_id: Option<DiscordId>,
    /// What was live when it opened.
    pub previous: PreviousPhotos,
    /// The requested image.
    pub profile: ProfileSide,
    /// The Discord avatar it is compared with.
    pub discord: DiscordSide,
    /// Where it stands.
    pub status: VerificationStatus,
    /// Why it was rejected (shown to the user).
    pub reason: Option<String>,
    /// The reviewer's internal note on a rejection (superusers only).
    pub note: Option<String>,
    /// After a rejection: whether the user may upload another photo.
    pub retry: Option<Retry>,
    /// Who decided (accepted, rejected, or superseded by uploading).
    pub decided_by: Option<UserId>,
    /// When.
    pub decided_at: Option<OffsetDateTime>,
    /// Opened at.
    pub created_at: OffsetDateTime,
    /// Last changed at.
    pub updated_at: OffsetDateTime,
    /// Incremented by every transition; the repository compares and sets it.
    pub version: i64,
}

/// What opening a verification needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVerification {
    /// Whose photo.
    pub user_id: UserId,
    /// The user's linked Discord id, if any.
    pub discord_id: Option<DiscordId>,
    /// The avatar live now.
    pub current_profile_url: Option<String>,
    /// Public URL of the verified upload.
    pub url: String,
    /// Its final object key.
    pub object_key: ObjectKey,
    /// SHA-256 (hex) of its bytes.
    pub sha256: String,
    /// The Discord avatar read at upload time, if it could be read.
    pub discord: Option<DiscordAvatar>,
}

/// A reason for rejecting: at most 500 characters as sent, trimmed, not
/// empty. Deserializes from a string through [`RejectionReason::parse`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct RejectionReason(String);

/// Why a rejection reason is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a reason is 1 to {max} characters", max = RejectionReason::MAX)]
pub struct RejectionReasonError;

impl RejectionReason {
    /// The longest reason.
    pub const MAX: usize = 500;

    /// Checks the length as sent, then trims.
    pub fn parse(raw: &str) -> Result<Self, RejectionReasonError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || raw.chars().count() > Self::MAX {
            return Err(RejectionReasonError);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The reason.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RejectionReason {
    type Error = RejectionReasonError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

/// A rejection: the reason the user sees, an internal note, and whether they may try again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Shown to the user.
    pub reason: RejectionReason,
    /// Shown to superusers only.
    pub note: Option<ReviewNote>,
    /// Whether the user may upload another photo.
    pub retry: Retry,
}

shared_kernel::stored_enum! {
    /// The kinds of event-log entries, stored and sent in snake case.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum PhotoEventKind {
        /// Opened by an upload.
        Created = "created",
        /// The profile side was approved.
        ProfileApproved = "profile_approved",
        /// The Discord side was approved.
        DiscordApproved = "discord_approved",
        /// The Discord avatar was re-read.
        DiscordRefreshed = "discord_refreshed",
        /// Both sides approved: the photo went live.
        Accepted = "accepted",
        /// Rejected with a reason.
        Rejected = "rejected",
        /// Replaced by a newer upload.
        Superseded = "superseded",
    }
}

/// One append-only event-log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoEvent {
    /// The verification it belongs to.
    pub verification_id: PhotoVerificationId,
    /// What happened.
    pub kind: PhotoEventKind,
    /// Who did it.
    pub actor: UserId,
    /// When.
    pub at: OffsetDateTime,
    /// For refreshes: the avatar hash before.
    pub old_hash: Option<String>,
    /// For refreshes: the avatar hash after.
    pub new_hash: Option<String>,
    /// For rejections: the reason.
    pub reason: Option<String>,
    /// For rejections: the internal note (superusers only).
    pub note: Option<String>,
}

impl PhotoEvent {
    fn new(verification_id: PhotoVerificationId, kind: PhotoEventKind, actor: UserId, at: OffsetDateTime) -> Self {
        Self { verification_id, kind, actor, at, old_hash: None, new_hash: None, reason: None, note: None }
    }
}

/// The result of a transition: the next record and the events to append
/// (the kernel's `Transition`, as every state machine returns). No events
/// means nothing changed (an idempotent repeat) and nothing is saved.
pub type Transition = shared_kernel::Transition<PhotoVerification, PhotoEvent>;

impl PhotoVerification {
    /// Opens a PENDING verification for `new` on behalf of its user.
    pub fn open(new: NewVerification, now: OffsetDateTime) -> Transition {
        let id = PhotoVerificationId::new();
        let (discord, discord_url) = match new.discord {
            Some(avatar) => (
                DiscordSide {
                    url: Some(avatar.url.clone()),
                    avatar_hash: avatar.hash,
                    fetched_at: Some(now),
                    approval: None,
                },
                Some(avatar.url),
            ),
            None => (DiscordSide::default(), None),
        };
        let record = Self {
            id,
            user_id: new.user_id,
            discord_id: new.discord_id,
            previous: PreviousPhotos { profile_url: new.current_profile_url, discord_url },
            profile: ProfileSide { url: new.url, object_key: new.object_key, sha256: new.sha256, approval: None },
            discord,
            status: VerificationStatus::Pending,
            reason: None,
            note: None,
            retry: None,
            decided_by: None,
            decided_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        Transition { events: vec![PhotoEvent::new(id, PhotoEventKind::Created, new.user_id, now)], record }
    }

    /// Whether the Discord side must be approved too (a Discord id is linked).
    pub fn needs_discord(&self) -> bool {
        self.discord_id.is_some()
    }

    /// Whether every side that needs approval has it.
    pub fn fully_approved(&self) -> bool {
        self.profile.approval.is_some() && (!self.needs_discord() || self.discord.approval.is_some())
    }

    /// Four eyes: a superuser, and not the photo's own user.
    fn check_reviewable(&self, actor: &Actor) -> Result<(), DecisionError> {
        if !actor.is_superuser() {
            return Err(DecisionError::Forbidden);
        }
        if actor.user_id == self.user_id {
            return Err(DecisionError::OwnPhoto);
        }
        self.check_pending()
    }

    /// Whether `user`, whose most recent decided verification is `self`,
    /// may upload another photo: not after a final rejection.
    pub fn allows_retry(&self) -> bool {
        !(self.status == VerificationStatus::Rejected && self.retry == Some(Retry::Final))
    }

    /// The record once its private photo is published under `key` at
    /// `url`, as it is accepted (the avatar becomes the public copy).
    pub fn published(mut self, key: ObjectKey, url: String) -> Self {
        self.profile.object_key = key;
        self.profile.url = url;
        self
    }

    /// Stores the Discord avatar read in the background after the upload
    /// (on the user's behalf: no reviewer decided anything). Nothing changes
    /// once a reviewer has read it, or the verification was decided.
    pub fn discord_read(&self, avatar: DiscordAvatar, now: OffsetDateTime) -> Transition {
        if self.status.is_terminal() || self.discord.fetched_at.is_some() || self.discord_id.is_none() {
            return Transition { record: self.clone(), events: vec![] };
        }
        let mut next = self.touched(now);
        next.discord.url = Some(avatar.url.clone());
        next.discord.avatar_hash = avatar.hash.clone();
        next.discord.fetched_at = Some(now);
        if next.previous.discord_url.is_none() {
            next.previous.discord_url = Some(avatar.url);
        }
        let mut event = PhotoEvent::new(self.id, PhotoEventKind::DiscordRefreshed, self.user_id, now);
        event.new_hash = avatar.hash;
        Transition { record: next, events: vec![event] }
    }

    fn check_pending(&self) -> Result<(), DecisionError> {
        if self.status.is_terminal() {
            return Err(DecisionError::AlreadyDecided { status: self.status });
        }
        Ok(())
    }

    fn touched(&self, now: OffsetDateTime) -> Self {
        Self { updated_at: now, version: self.version + 1, ..self.clone() }
    }

    /// A superuser approves one side or both. Approving an approved side
    /// changes nothing (no events). When every needed side is approved the
    /// status becomes ACCEPTED.
    pub fn approve(&self, actor: &Actor, side: ApprovalSide, now: OffsetDateTime) -> Result<Transition, DecisionError> {
        self.check_reviewable(actor)?;
        let wants_profile = matches!(side, ApprovalSide::Profile | ApprovalSide::Both);
        // "both" on an unlinked verification approves what there is to approve.
        let wants_discord = match side {
            ApprovalSide::Discord if !self.needs_discord() => return Err(DecisionError::DiscordNotLinked),
            ApprovalSide::Discord => true,
            ApprovalSide::Both => self.needs_discord(),
            ApprovalSide::Profile => false,
        };
        // The Discord approval is tied to the avatar hash seen, so there must be one.
        if wants_discord && self.discord.fetched_at.is_none() {
            return Err(DecisionError::DiscordNotFetched);
        }
        let mut next = self.touched(now);
        let mut events = Vec::new();
        let approval = Approval { by: actor.user_id, at: now };
        if wants_profile && next.profile.approval.is_none() {
            next.profile.approval = Some(approval.clone());
            events.push(PhotoEvent::new(self.id, PhotoEventKind::ProfileApproved, actor.user_id, now));
        }
        if wants_discord && next.discord.approval.is_none() {
            next.discord.approval = Some(approval);
            events.push(PhotoEvent::new(self.id, PhotoEventKind::DiscordApproved, actor.user_id, now));
        }
        if events.is_empty() {
            return Ok(Transition { record: self.clone(), events });
        }
        if next.fully_approved() {
            next.status = VerificationStatus::Accepted;
            next.decided_by = Some(actor.user_id);
            next.decided_at = Some(now);
            events.push(PhotoEvent::new(self.id, PhotoEventKind::Accepted, actor.user_id, now));
        }
        Ok(Transition { record: next, events })
    }

    /// A superuser rejects the photo: both approvals are cleared, the
    /// reason (for the user), the note (for reviewers) and whether the user
    /// may try again kept. The live avatar is untouched.
    pub fn reject(
        &self,
        actor: &Actor,
        rejection: &Rejection,
        now: OffsetDateTime,
    ) -> Result<Transition, DecisionError> {
        self.check_reviewable(actor)?;
        let mut next = self.touched(now);
        next.status = VerificationStatus::Rejected;
        next.profile.approval = None;
        next.discord.approval = None;
        next.reason = Some(rejection.reason.as_str().to_owned());
        next.note = rejection.note.as_ref().map(|n| n.as_str().to_owned());
        next.retry = Some(rejection.retry);
        next.decided_by = Some(actor.user_id);
        next.decided_at = Some(now);
        let mut event = PhotoEvent::new(self.id, PhotoEventKind::Rejected, actor.user_id, now);
        event.reason = next.reason.clone();
        event.note = next.note.clone();
        Ok(Transition { record: next, events: vec![event] })
    }

    /// Stores a freshly read Discord avatar. Approval is tied to content: if
    /// a previously fetched hash changed, both approvals are cleared (the
    /// reviewer compared the old image); if it is unchanged they stay.
    pub fn refresh_discord(
        &self,
        actor: &Actor,
        discord_id: &DiscordId,
        avatar: DiscordAvatar,
        now: OffsetDateTime,
    ) -> Result<Transition, DecisionError> {
        self.check_reviewable(actor)?;
        let mut next = self.touched(now);
        let old_hash = self.discord.avatar_hash.clone();
        let changed = self.discord.fetched_at.is_some() && old_hash != avatar.hash;
        if changed {
            next.profile.approval = None;
            next.discord.approval = None;
        }
        next.discord_id = Some(discord_id.clone());
        next.discord.url = Some(avatar.url);
        next.discord.avatar_hash = avatar.hash.clone();
        next.discord.fetched_at = Some(now);
        let mut event = PhotoEvent::new(self.id, PhotoEventKind::DiscordRefreshed, actor.user_id, now);
        event.old_hash = old_hash;
        event.new_hash = avatar.hash;
        Ok(Transition { record: next, events: vec![event] })
    }

    /// A newer upload by `by` replaces this pending verification.
    pub fn supersede(&self, by: UserId, now: OffsetDateTime) -> Result<Transition, DecisionError> {
        self.check_pending()?;
        let mut next = self.touched(now);
        next.status = VerificationStatus::Superseded;
        next.decided_by = Some(by);
        next.decided_at = Some(now);
        Ok(Transition { record: next, events: vec![PhotoEvent::new(self.id, PhotoEventKind::Superseded, by, now)] })
    }
}

/// A transition refused by the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecisionError {
    /// Only a superuser reviews photos (403).
    #[error("only a superuser may review photos")]
    Forbidden,
    /// Four eyes: nobody reviews their own photo (403 `photo.own_verification`).
    #[error("another superuser has to review your own photo")]
    OwnPhoto,
    /// ACCEPTED, REJECTED and SUPERSEDED are terminal (409 `photo.already_decided`).
    #[error("this verification is already {status}")]
    AlreadyDecided {
        /// The terminal status.
        status: VerificationStatus,
    },
    /// The user has no linked Discord id, so there is no Discord side (409 `photo.discord_not_linked`).
    #[error("the user has no linked Discord id; approve the profile side")]
    DiscordNotLinked,
    /// The Discord avatar was never read, so there is nothing to approve (409 `photo.discord_not_fetched`).
    #[error("the Discord avatar has not been read yet; refresh it first")]
    DiscordNotFetched,
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_kernel::PlatformRole;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn root() -> Actor {
        Actor { user_id: UserId::new(1), role: PlatformRole::Superuser }
    }

    fn discord_id() -> DiscordId {
        DiscordId::parse("80351110224678912").unwrap()
    }

    fn avatar(hash: Option<&str>) -> DiscordAvatar {
        DiscordAvatar { url: format!("https://cdn/{}", hash.unwrap_or("default")), hash: hash.map(str::to_owned) }
    }

    fn opened(linked: bool, fetched: bool) -> PhotoVerification {
        PhotoVerification::open(
            NewVerification {
                user_id: UserId::new(42),
                discord_id: linked.then(discord_id),
                current_profile_url: Some("https://cdn/old.png".into()),
                url: "https://cdn/new.png".into(),
                object_key: ObjectKey::parse("avatars/42/new.png").unwrap(),
                sha256: "ab".repeat(32),
                discord: fetched.then(|| avatar(Some("h1"))),
            },
            NOW,
        )
        .record
    }

    #[test]
    fn opening_records_what_was_live_and_logs_created() {
        let t = PhotoVerification::open(
            NewVerification {
                user_id: UserId::new(42),
                discord_id: Some(discord_id()),
                current_profile_url: Some("https://cdn/old.png".into()),
                url: "https://cdn/new.png".into(),
                object_key: ObjectKey::parse("avatars/42/new.png").unwrap(),
                sha256: "ab".repeat(32),
                discord: Some(avatar(Some("h1"))),
            },
            NOW,
        );
        assert_eq!(t.record.status, VerificationStatus::Pending);
        assert_eq!(t.record.previous.profile_url.as_deref(), Some("https://cdn/old.png"));
        assert_eq!(t.record.previous.discord_url.as_deref(), Some("https://cdn/h1"));
        assert_eq!(t.record.version, 1);
        assert_eq!(t.events.len(), 1);
        assert_eq!(t.events[0].kind, PhotoEventKind::Created);
        assert_eq!(t.events[0].actor, UserId::new(42));
    }

    #[test]
    fn approving_one_side_keeps_it_pending_and_both_accepts() {
        let v = opened(true, true);
        let t = v.approve(&root(), ApprovalSide::Profile, NOW).unwrap();
        assert_eq!(t.record.status, VerificationStatus::Pending);
        assert_eq!(t.record.version, 2);
        assert_eq!(t.events.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![PhotoEventKind::ProfileApproved]);
        let t = t.record.approve(&root(), ApprovalSide::Discord, NOW).unwrap();
        assert_eq!(t.record.status, VerificationStatus::Accepted);
        assert_eq!(t.record.decided_by, Some(UserId::new(1)));
        assert_eq!(
            t.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![PhotoEventKind::DiscordApproved, PhotoEventKind::Accepted]
        );
    }

    #[test]
    fn approving_both_at_once_accepts() {
        let t = opened(true, true).approve(&root(), ApprovalSide::Both, NOW).unwrap();
        assert_eq!(t.record.status, VerificationStatus::Accepted);
        assert_eq!(t.events.len(), 3);
    }

    #[test]
    fn approving_an_approved_side_again_changes_nothing() {
        let v = opened(true, true).approve(&root(), ApprovalSide::Profile, NOW).unwrap().record;
        let t = v.approve(&root(), ApprovalSide::Profile, NOW).unwrap();
        assert!(!t.changed());
        assert_eq!(t.record, v);
    }

    #[test]
    fn without_a_linked_discord_id_the_profile_side_alone_accepts() {
        let v = opened(false, false);
        assert_eq!(v.approve(&root(), ApprovalSide::Discord, NOW).unwrap_err(), DecisionError::DiscordNotLinked);
        let t = v.approve(&root(), ApprovalSide::Profile, NOW).unwrap();
        assert_eq!(t.record.status, VerificationStatus::Accepted);
        let t = v.approve(&root(), ApprovalSide::Both, NOW).unwrap();
        assert_eq!(t.record.status, VerificationStatus::Accepted);
    }

    #[test]
    fn the_discord_side_cannot_be_approved_before_its_avatar_was_read() {
        let v = opened(true, false);
        assert_eq!(v.approve(&root(), ApprovalSide::Discord, NOW).unwrap_err(), DecisionError::DiscordNotFetched);
        assert_eq!(v.approve(&root(), ApprovalSide::Both, NOW).unwrap_err(), DecisionError::DiscordNotFetched);
        assert!(v.approve(&root(), ApprovalSide::Profile, NOW).is_ok());
    }

    fn rejection(reason: &str, retry: Retry) -> Rejection {
        Rejection {
            reason: RejectionReason::parse(reason).unwrap(),
            note: ReviewNote::parse("checked twice").ok(),
            retry,
        }
    }

    #[test]
    fn only_a_superuser_reviews() {
        let user = Actor { user_id: UserId::new(42), role: PlatformRole::User };
        let v = opened(true, true);
        let reason = rejection("blurry", Retry::Allowed);
        assert_eq!(v.approve(&user, ApprovalSide::Both, NOW).unwrap_err(), DecisionError::Forbidden);
        assert_eq!(v.reject(&user, &reason, NOW).unwrap_err(), DecisionError::Forbidden);
        assert_eq!(v.refresh_discord(&user, &discord_id(), avatar(None), NOW).unwrap_err(), DecisionError::Forbidden);
    }

    #[test]
    fn nobody_reviews_their_own_photo() {
        let own = Actor { user_id: UserId::new(42), role: PlatformRole::Superuser };
        let v = opened(true, true);
        assert_eq!(v.approve(&own, ApprovalSide::Both, NOW).unwrap_err(), DecisionError::OwnPhoto);
        assert_eq!(v.reject(&own, &rejection("mine", Retry::Allowed), NOW).unwrap_err(), DecisionError::OwnPhoto);
    }

    #[test]
    fn a_final_rejection_allows_no_retry() {
        assert!(
            opened(true, true).reject(&root(), &rejection("no", Retry::Allowed), NOW).unwrap().record.allows_retry()
        );
        let last = opened(true, true).reject(&root(), &rejection("no", Retry::Final), NOW).unwrap().record;
        assert!(!last.allows_retry());
        assert_eq!(last.retry, Some(Retry::Final));
    }

    #[test]
    fn the_discord_avatar_read_in_the_background_is_stored_once() {
        let v = opened(true, false);
        let t = v.discord_read(avatar(Some("h1")), NOW);
        assert_eq!((t.record.discord.avatar_hash.as_deref(), t.events.len()), (Some("h1"), 1));
        assert!(!t.record.discord_read(avatar(Some("h2")), NOW).changed(), "a reviewer's read is not overwritten");
        assert!(!opened(false, false).discord_read(avatar(Some("h1")), NOW).changed(), "nothing to read unlinked");
    }

    #[test]
    fn rejecting_clears_the_approvals_and_keeps_the_reason() {
        let v = opened(true, true).approve(&root(), ApprovalSide::Profile, NOW).unwrap().record;
        let t = v.reject(&root(), &rejection("  not you  ", Retry::Allowed), NOW).unwrap();
        assert_eq!(t.record.status, VerificationStatus::Rejected);
        assert_eq!(t.record.reason.as_deref(), Some("not you"));
        assert_eq!(t.record.note.as_deref(), Some("checked twice"));
        assert!(t.record.profile.approval.is_none() && t.record.discord.approval.is_none());
        assert_eq!(t.events[0].kind, PhotoEventKind::Rejected);
        assert_eq!(t.events[0].reason.as_deref(), Some("not you"));
    }

    #[test]
    fn a_changed_discord_avatar_clears_both_approvals() {
        let v = opened(true, true).approve(&root(), ApprovalSide::Profile, NOW).unwrap().record;
        let t = v.refresh_discord(&root(), &discord_id(), avatar(Some("h2")), NOW).unwrap();
        assert!(t.record.profile.approval.is_none());
        assert_eq!(t.record.discord.avatar_hash.as_deref(), Some("h2"));
        assert_eq!(t.events[0].kind, PhotoEventKind::DiscordRefreshed);
        assert_eq!(t.events[0].old_hash.as_deref(), Some("h1"));
        assert_eq!(t.events[0].new_hash.as_deref(), Some("h2"));
    }

    #[test]
    fn an_unchanged_discord_avatar_keeps_the_approvals() {
        let v = opened(true, true).approve(&root(), ApprovalSide::Profile, NOW).unwrap().record;
        let t = v.refresh_discord(&root(), &discord_id(), avatar(Some("h1")), NOW).unwrap();
        assert!(t.record.profile.approval.is_some());
        assert_eq!(t.record.version, v.version + 1);
    }

    #[test]
    fn the_first_read_of_the_discord_avatar_keeps_a_profile_approval() {
        let v = opened(true, false).approve(&root(), ApprovalSide::Profile, NOW).unwrap().record;
        let t = v.refresh_discord(&root(), &discord_id(), avatar(None), NOW).unwrap();
        assert!(t.record.profile.approval.is_some());
        assert_eq!(t.record.discord.fetched_at, Some(NOW));
        let accepted = t.record.approve(&root(), ApprovalSide::Discord, NOW).unwrap();
        assert_eq!(accepted.record.status, VerificationStatus::Accepted);
    }

    #[test]
    fn superseding_ends_a_pending_verification() {
        let t = opened(true, true).supersede(UserId::new(42), NOW).unwrap();
        assert_eq!(t.record.status, VerificationStatus::Superseded);
        assert_eq!(t.events[0].kind, PhotoEventKind::Superseded);
    }

    #[test]
    fn terminal_verifications_refuse_every_action() {
        let reason = rejection("no", Retry::Allowed);
        let accepted = opened(true, true).approve(&root(), ApprovalSide::Both, NOW).unwrap().record;
        let rejected = opened(true, true).reject(&root(), &reason, NOW).unwrap().record;
        let superseded = opened(true, true).supersede(UserId::new(42), NOW).unwrap().record;
        for v in [accepted, rejected, superseded] {
            let expected = DecisionError::AlreadyDecided { status: v.status };
            assert_eq!(v.approve(&root(), ApprovalSide::Profile, NOW).unwrap_err(), expected);
            assert_eq!(v.reject(&root(), &reason, NOW).unwrap_err(), expected);
            assert_eq!(v.refresh_discord(&root(), &discord_id(), avatar(None), NOW).unwrap_err(), expected);
            assert_eq!(v.supersede(UserId::new(42), NOW).unwrap_err(), expected);
        }
    }

    #[test]
    fn reasons_are_one_to_five_hundred_characters() {
        assert!(RejectionReason::parse("").is_err());
        assert!(RejectionReason::parse("   ").is_err());
        assert!(RejectionReason::parse(&"é".repeat(500)).is_ok());
        assert!(RejectionReason::parse(&"x".repeat(501)).is_err());
    }

    #[test]
    fn statuses_and_event_kinds_round_trip() {
        for s in VerificationStatus::ALL {
            assert_eq!(VerificationStatus::parse(s.as_str()), Ok(s));
        }
        assert!(VerificationStatus::parse("pending").is_err(), "one spelling: upper case");
        assert!(VerificationStatus::parse("all").is_err());
        for k in PhotoEventKind::ALL {
            assert_eq!(PhotoEventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ApprovalSide::parse("both"), Some(ApprovalSide::Both));
        assert_eq!(ApprovalSide::parse("BOTH"), None);
    }
}
