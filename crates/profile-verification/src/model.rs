//! The profile record, its state machine, decisions, labels and levels.
//!
//! A transition is a pure function of (record, actor, input, now) returning
//! the next record or a typed error; a decision returns the kernel's
//! [`Transition`]: the decided profile and the events to write with it (the
//! decision-log entry and the `profile` label). Nothing returns from
//! `verified` or `rejected`.

use crate::fields::{Address, City, Country, Dob, Field, FieldError, InvalidFields, Metadata, PersonName, Postcode};
use serde_json::Value;
use shared_kernel::{Actor, Retry, ReviewNote, UserId};
use time::{Date, OffsetDateTime};

shared_kernel::uuid_id!(
    /// A profile's id (UUIDv7).
    ProfileId
);

shared_kernel::uuid_id!(
    /// A decision's id (UUIDv7).
    DecisionId
);

shared_kernel::stored_enum! {
    /// Where a profile is in its life.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum ProfileState {
        /// Being edited by its user; not yet for review.
        Drafted = "drafted",
        /// Waiting for a superuser's decision.
        Submitted = "submitted",
        /// Accepted (final).
        Verified = "verified",
        /// Refused (final for this profile; the decision says whether the user may open another).
        Rejected = "rejected",
        /// Withdrawn by its user before submission; kept as history.
        Withdrawn = "withdrawn",
    }
}

impl ProfileState {
    /// Drafted or submitted: the one profile a user may have at a time.
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Drafted | Self::Submitted)
    }
}

/// The personal and address data of a profile; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileFields {
    /// Given name (personal data: encrypted at rest).
    pub first_name: Option<PersonName>,
    /// Family name (personal data: encrypted at rest).
    pub last_name: Option<PersonName>,
    /// Date of birth (personal data: encrypted at rest).
    pub dob: Option<Dob>,
    /// Street address (personal data: encrypted at rest).
    pub address: Option<Address>,
    /// Postcode.
    pub postcode: Option<Postcode>,
    /// City.
    pub city: Option<City>,
    /// Country.
    pub country: Option<Country>,
    /// Free-form metadata.
    pub metadata: Option<Metadata>,
}

impl ProfileFields {
    /// Whether `field` holds a value.
    pub fn has(&self, field: Field) -> bool {
        match field {
            Field::FirstName => self.first_name.is_some(),
            Field::LastName => self.last_name.is_some(),
            Field::Dob => self.dob.is_some(),
            Field::Address => self.address.is_some(),
            Field::Postcode => self.postcode.is_some(),
            Field::City => self.city.is_some(),
            Field::Country => self.country.is_some(),
            Field::Metadata => self.metadata.is_some(),
        }
    }

    /// Checks that every field in `required` holds a value; the missing
    /// ones are reported in record order, whatever the configured order.
    pub fn check_required(&self, required: &[Field]) -> Result<(), InvalidFields> {
        let missing: Vec<Field> = Field::ALL.into_iter().filter(|f| required.contains(f) && !self.has(*f)).collect();
        if missing.is_empty() { Ok(()) } else { Err(InvalidFields::missing(missing)) }
    }

    /// These fields with `patch` applied.
    pub fn patched(&self, patch: &FieldsPatch) -> Self {
        fn apply<T: Clone>(current: &Option<T>, change: &Change<T>) -> Option<T> {
            match change {
                Change::Keep => current.clone(),
                Change::Clear => None,
                Change::Set(v) => Some(v.clone()),
            }
        }
        Self {
            first_name: apply(&self.first_name, &patch.first_name),
            last_name: apply(&self.last_name, &patch.last_name),
            dob: apply(&self.dob, &patch.dob),
            address: apply(&self.address, &patch.address),
            postcode: apply(&self.postcode, &patch.postcode),
            city: apply(&self.city, &patch.city),
            country: apply(&self.country, &patch.country),
            metadata: apply(&self.metadata, &patch.metadata),
        }
    }
}

/// What a request does to one field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Change<T> {
    /// Absent: keep the current value.
    #[default]
    Keep,
    /// Explicit `null`: clear it.
    Clear,
    /// A new valid value.
    Set(T),
}

/// A parsed set of field changes (a create is a patch of an empty profile).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldsPatch {
    /// `firstName`.
    pub first_name: Change<PersonName>,
    /// `lastName`.
    pub last_name: Change<PersonName>,
    /// `dob`.
    pub dob: Change<Dob>,
    /// `address`.
    pub address: Change<Address>,
    /// `postcode`.
    pub postcode: Change<Postcode>,
    /// `city`.
    pub city: Change<City>,
    /// `country`.
    pub country: Change<Country>,
    /// `metadata`.
    pub metadata: Change<Metadata>,
}

/// The raw fields of a request: `None` absent, `Some(None)` explicit `null`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawFields {
    /// `firstName`.
    pub first_name: Option<Option<String>>,
    /// `lastName`.
    pub last_name: Option<Option<String>>,
    /// `dob`.
    pub dob: Option<Option<String>>,
    /// `address`.
    pub address: Option<Option<String>>,
    /// `postcode`.
    pub postcode: Option<Option<String>>,
    /// `city`.
    pub city: Option<Option<String>>,
    /// `country`.
    pub country: Option<Option<String>>,
    /// `metadata` (an object, or a string holding one).
    pub metadata: Option<Option<Value>>,
}

impl RawFields {
    /// Parses every present field, collecting every failure (so one 422
    /// lists them all). `today` bounds the date of birth.
    pub fn parse(&self, today: Date) -> Result<FieldsPatch, InvalidFields> {
        let mut errors: Vec<FieldError> = Vec::new();
        fn one<T>(
            raw: &Option<Option<String>>,
            parse: impl Fn(&str) -> Result<T, FieldError>,
            errors: &mut Vec<FieldError>,
        ) -> Change<T> {
            match raw {
                None => Change::Keep,
                Some(None) => Change::Clear,
                Some(Some(text)) => match parse(text) {
                    Ok(v) => Change::Set(v),
                    Err(e) => {
                        errors.push(e);
                        Change::Keep
                    }
                },
            }
        }
        let patch = FieldsPatch {
            first_name: one(&self.first_name, |s| PersonName::parse(s, Field::FirstName), &mut errors),
            last_name: one(&self.last_name, |s| PersonName::parse(s, Field::LastName), &mut errors),
            dob: one(&self.dob, |s| Dob::parse(s, today), &mut errors),
            address: one(&self.address, Address::parse, &mut errors),
            postcode: one(&self.postcode, Postcode::parse, &mut errors),
            city: one(&self.city, City::parse, &mut errors),
            country: one(&self.country, Country::parse, &mut errors),
            metadata: match &self.metadata {
                None => Change::Keep,
                Some(None) => Change::Clear,
                Some(Some(value)) => match Metadata::parse(value) {
                    Ok(v) => Change::Set(v),
                    Err(e) => {
                        errors.push(e);
                        Change::Keep
                    }
                },
            },
        };
        if errors.is_empty() { Ok(patch) } else { Err(InvalidFields::invalid(errors)) }
    }
}

/// A KYC profile as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The id.
    pub id: ProfileId,
    /// Whose profile it is.
    pub user_id: UserId,
    /// The superuser who created it for the user, if one did.
    pub author: Option<UserId>,
    /// The data.
    pub fields: ProfileFields,
    /// Where it is in its life.
    pub state: ProfileState,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// Bumped by every change; decisions compare-and-set on it.
    pub version: i64,
}

/// The settings the transitions obey.
#[derive(Clone, Debug)]
pub struct ProfilePolicy {
    /// The author of a profile may not decide it (barong's double verification).
    pub double_verification: bool,
    /// Fields a profile must hold to be submitted.
    pub required_on_submit: Vec<Field>,
    /// The user's own responses hide most of the last name and the day of birth.
    pub mask_personal_data: bool,
    /// The level steps, lowest first.
    pub levels: LevelSteps,
}

impl Default for ProfilePolicy {
    fn default() -> Self {
        Self {
            double_verification: true,
            required_on_submit: Vec::new(),
            mask_personal_data: false,
            levels: LevelSteps::default(),
        }
    }
}

impl Profile {
    /// A user's new profile: drafted, or submitted at once with `confirm`.
    pub fn open(
        user: &Actor,
        fields: ProfileFields,
        confirm: bool,
        policy: &ProfilePolicy,
        now: OffsetDateTime,
    ) -> Result<Self, ProfileError> {
        if confirm {
            fields.check_required(&policy.required_on_submit)?;
        }
        Ok(Self {
            id: ProfileId::new(),
            user_id: user.user_id,
            author: None,
            fields,
            state: if confirm { ProfileState::Submitted } else { ProfileState::Drafted },
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// A profile a superuser files for `user`: submitted, authored by the admin.
    pub fn filed_by_admin(
        admin: &Actor,
        user: UserId,
        fields: ProfileFields,
        policy: &ProfilePolicy,
        now: OffsetDateTime,
    ) -> Result<Self, ProfileError> {
        if !admin.is_superuser() {
            return Err(ProfileError::Forbidden);
        }
        fields.check_required(&policy.required_on_submit)?;
        Ok(Self {
            id: ProfileId::new(),
            user_id: user,
            author: Some(admin.user_id),
            fields,
            state: ProfileState::Submitted,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The user edits their drafted profile; `confirm` submits it.
    pub fn edit(
        &self,
        user: &Actor,
        patch: &FieldsPatch,
        confirm: bool,
        policy: &ProfilePolicy,
        now: OffsetDateTime,
    ) -> Result<Self, ProfileError> {
        if self.user_id != user.user_id || self.state != ProfileState::Drafted {
            return Err(ProfileError::NotEditable);
        }
        let fields = self.fields.patched(patch);
        if confirm {
            fields.check_required(&policy.required_on_submit)?;
        }
        Ok(Self {
            fields,
            state: if confirm { ProfileState::Submitted } else { ProfileState::Drafted },
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// The user withdraws their draft: it leaves review for good (a new
    /// profile may be opened) and stays in their history.
    pub fn withdraw(&self, user: &Actor, now: OffsetDateTime) -> Result<Self, ProfileError> {
        if self.user_id != user.user_id || self.state != ProfileState::Drafted {
            return Err(ProfileError::NotEditable);
        }
        Ok(Self { state: ProfileState::Withdrawn, updated_at: now, version: self.version + 1, ..self.clone() })
    }

    /// Whether a user whose latest decision is `last` may open a new
    /// profile: not after a rejection marked final (a superuser may still
    /// file one for them).
    pub fn check_may_open(last: Option<&Decision>) -> Result<(), ProfileError> {
        match last {
            Some(d) if d.verdict == DecisionKind::Rejected && d.retry == Some(Retry::Final) => {
                Err(ProfileError::RejectedFinal)
            }
            _ => Ok(()),
        }
    }

    /// A superuser decides a submitted profile. Returns the decided profile
    /// with two events: the decision to log and the `profile` label to set.
    pub fn decide(
        &self,
        admin: &Actor,
        verdict: Verdict,
        policy: &ProfilePolicy,
        now: OffsetDateTime,
    ) -> Result<Transition, ProfileError> {
        if !admin.is_superuser() {
            return Err(ProfileError::Forbidden);
        }
        if self.state != ProfileState::Submitted {
            return Err(ProfileError::NotDecidable);
        }
        if self.user_id == admin.user_id {
            return Err(ProfileError::OwnProfile);
        }
        if policy.double_verification && self.author == Some(admin.user_id) {
            return Err(ProfileError::SecondAdminApproval);
        }
        let state = verdict.state();
        let profile = Self { state, updated_at: now, version: self.version + 1, ..self.clone() };
        let decision = Decision {
            id: DecisionId::new(),
            profile_id: self.id,
            admin_id: Some(admin.user_id),
            verdict: verdict.kind(),
            reason: verdict.reason().cloned(),
            note: verdict.note().cloned(),
            retry: verdict.retry(),
            at: now,
        };
        let label = Label {
            key: LabelKey::profile(),
            value: state.as_str().to_owned(),
            scope: LabelScope::Private,
            updated_at: now,
        };
        Ok(Transition { record: profile, events: vec![ProfileEvent::Decided(decision), ProfileEvent::Labelled(label)] })
    }
}

/// What a profile's transition writes besides the profile, in the same
/// transaction. Not `#[non_exhaustive]` on purpose: an adapter must handle
/// every event, so a new one breaks its build instead of being dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileEvent {
    /// A superuser decided the profile: append this entry to the decision log.
    Decided(Decision),
    /// Set this label on the profile's user, replacing the one with the same
    /// key and scope.
    Labelled(Label),
}

/// The result of a profile's transition: the next profile and its events
/// (the kernel's `Transition`, as every state machine returns).
pub type Transition = shared_kernel::Transition<Profile, ProfileEvent>;

/// Why a decision was taken: at most 1024 characters as sent, trimmed,
/// not empty, without control characters but line feeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// The most characters a reason may be sent with.
    pub const MAX: usize = 1024;

    /// Checks the length as sent, then trims and checks the characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let text = raw.trim();
        let printable = !text.chars().any(|c| c.is_control() && c != '\n');
        (raw.chars().count() <= Self::MAX && !text.is_empty() && printable).then(|| Self(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A superuser's verdict; a rejection always carries a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Accept, optionally with a note.
    Verify(Option<Reason>),
    /// Refuse, saying why (the user sees it), with an internal note only
    /// reviewers see, and whether the user may open another profile.
    Reject {
        /// Shown to the user.
        reason: Reason,
        /// Shown to superusers only.
        note: Option<ReviewNote>,
        /// Whether the user may try again.
        retry: Retry,
    },
}

impl Verdict {
    /// The state the profile ends in.
    pub const fn state(&self) -> ProfileState {
        match self {
            Self::Verify(_) => ProfileState::Verified,
            Self::Reject { .. } => ProfileState::Rejected,
        }
    }

    /// The kind of decision.
    pub const fn kind(&self) -> DecisionKind {
        match self {
            Self::Verify(_) => DecisionKind::Verified,
            Self::Reject { .. } => DecisionKind::Rejected,
        }
    }

    /// The reason, if any.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Verify(r) => r.as_ref(),
            Self::Reject { reason, .. } => Some(reason),
        }
    }

    /// The reviewers' internal note, if any.
    pub fn note(&self) -> Option<&ReviewNote> {
        match self {
            Self::Verify(_) => None,
            Self::Reject { note, .. } => note.as_ref(),
        }
    }

    /// For a rejection: whether the user may try again.
    pub const fn retry(&self) -> Option<Retry> {
        match self {
            Self::Verify(_) => None,
            Self::Reject { retry, .. } => Some(*retry),
        }
    }
}

shared_kernel::stored_enum! {
    /// Which way a decision went.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum DecisionKind {
        /// Verified.
        Verified = "verified",
        /// Rejected.
        Rejected = "rejected",
    }
}

/// One entry of the immutable decision log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The entry's id.
    pub id: DecisionId,
    /// The decided profile.
    pub profile_id: ProfileId,
    /// The deciding superuser; `None` once that user has been erased (the
    /// log keeps the decision).
    pub admin_id: Option<UserId>,
    /// Which way it went.
    pub verdict: DecisionKind,
    /// Why (always present for a rejection); shown to the user.
    pub reason: Option<Reason>,
    /// The reviewers' internal note; never shown to the user.
    pub note: Option<ReviewNote>,
    /// For a rejection: whether the user may open another profile.
    pub retry: Option<Retry>,
    /// When.
    pub at: OffsetDateTime,
}

/// A label key: lower-case ASCII letters, digits, `_` and `-`, 1..64.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelKey(String);

impl LabelKey {
    /// Checks the key's shape.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (1..=64).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        ok.then(|| Self(raw.to_owned()))
    }

    /// `profile`, set by decisions.
    pub fn profile() -> Self {
        Self("profile".to_owned())
    }

    /// `email`, derived from the user's verified e-mail.
    pub fn email() -> Self {
        Self("email".to_owned())
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

shared_kernel::stored_enum! {
    /// Who may see a label (barong's scopes).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum LabelScope {
        /// Only the service and superusers.
        Private = "private",
        /// Also the user.
        Public = "public",
    }
}

/// A label on a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The key (`email`, `profile`, …).
    pub key: LabelKey,
    /// The value (`verified`, `rejected`, …).
    pub value: String,
    /// Who may see it.
    pub scope: LabelScope,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// The configured level steps: level N holds when steps 1..=N all hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelSteps(Vec<(LabelKey, String)>);

impl Default for LevelSteps {
    /// 1 = `email:verified`, 2 = `profile:verified`.
    fn default() -> Self {
        Self(vec![(LabelKey::email(), "verified".to_owned()), (LabelKey::profile(), "verified".to_owned())])
    }
}

/// Why a level step does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("level step {0:?} is not `key:value` (key: lower-case letters, digits, `_`, `-`)")]
pub struct LevelStepError(pub String);

impl LevelSteps {
    /// Parses steps written `key:value`, lowest level first.
    pub fn parse<S: AsRef<str>>(steps: &[S]) -> Result<Self, LevelStepError> {
        steps
            .iter()
            .map(|raw| {
                let raw = raw.as_ref();
                let (key, value) = raw.split_once(':').ok_or_else(|| LevelStepError(raw.to_owned()))?;
                let key = LabelKey::parse(key.trim()).ok_or_else(|| LevelStepError(raw.to_owned()))?;
                let value = value.trim();
                if value.is_empty() {
                    return Err(LevelStepError(raw.to_owned()));
                }
                Ok((key, value.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The highest level whose step and every lower step hold in `labels`.
    pub fn level(&self, labels: &[Label]) -> u32 {
        let holds = |(key, value): &(LabelKey, String)| labels.iter().any(|l| &l.key == key && &l.value == value);
        u32::try_from(self.0.iter().take_while(|step| holds(step)).count()).unwrap_or(u32::MAX)
    }
}

/// A profile use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Fields failed validation (422 with per-field codes).
    #[error(transparent)]
    Invalid(#[from] InvalidFields),
    /// The user already has a drafted or submitted profile (409 `resource.profile.exists`).
    #[error("the user already has a drafted or submitted profile")]
    OpenProfileExists,
    /// The caller has no drafted profile to edit (404 `resource.profile.doesnt_exist_or_not_editable`).
    #[error("there is no drafted profile to edit")]
    NotEditable,
    /// No such profile, or it is not submitted (409 `admin.profiles.doesnt_exist_or_not_editable`).
    #[error("the profile does not exist or is not waiting for a decision")]
    NotDecidable,
    /// No profile with this id (404 `admin.profiles.doesnt_exist`).
    #[error("no profile with this id")]
    ProfileNotFound,
    /// The user named does not exist (404 `admin.user.doesnt_exist`).
    #[error("the user does not exist")]
    UserNotFound,
    /// The deciding superuser authored the profile while double verification
    /// is on (403 `admin.profiles.second_admin_approval`).
    #[error("the author of a profile may not decide it; a second superuser must")]
    SecondAdminApproval,
    /// A superuser tried to decide a profile of their own (403 `admin.profiles.own_profile`).
    #[error("no superuser may decide a profile of their own")]
    OwnProfile,
    /// Another decision or change won the race for this profile
    /// (409 `admin.profiles.conflict`, with the profile as it is now).
    #[error("another decision changed this profile first")]
    Conflict(Box<Profile>),
    /// The user's last profile was rejected as final: they may not open
    /// another (403 `resource.profile.rejected_final`).
    #[error("your last profile was rejected and may not be replaced; contact an administrator")]
    RejectedFinal,
    /// The caller is not a superuser (403).
    #[error("only superusers may do this")]
    Forbidden,
    /// Anything else, including an unavailable database.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_kernel::PlatformRole;
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00:00 UTC);

    fn user(id: i64) -> Actor {
        Actor { user_id: UserId::new(id), role: PlatformRole::User }
    }

    fn admin(id: i64) -> Actor {
        Actor { user_id: UserId::new(id), role: PlatformRole::Superuser }
    }

    fn raw_name(first: &str) -> RawFields {
        RawFields { first_name: Some(Some(first.to_owned())), ..RawFields::default() }
    }

    fn fields(first: &str) -> ProfileFields {
        ProfileFields::default().patched(&raw_name(first).parse(date!(2026 - 06 - 14)).unwrap())
    }

    fn submitted(owner: i64, author: Option<i64>) -> Profile {
        let mut p = Profile::open(&user(owner), fields("Ada"), true, &ProfilePolicy::default(), NOW).unwrap();
        p.author = author.map(UserId::new);
        p
    }

    fn reject(reason: &str) -> Verdict {
        Verdict::Reject { reason: Reason::parse(reason).unwrap(), note: None, retry: Retry::Allowed }
    }

    #[test]
    fn a_new_profile_is_drafted_or_submitted_with_confirm() {
        let policy = ProfilePolicy::default();
        let draft = Profile::open(&user(1), fields("Ada"), false, &policy, NOW).unwrap();
        assert_eq!((draft.state, draft.version, draft.author), (ProfileState::Drafted, 1, None));
        let sent = Profile::open(&user(1), fields("Ada"), true, &policy, NOW).unwrap();
        assert_eq!(sent.state, ProfileState::Submitted);
    }

    #[test]
    fn submitting_without_a_required_field_lists_what_is_missing() {
        let policy = ProfilePolicy { required_on_submit: vec![Field::FirstName, Field::Country], ..Default::default() };
        let err = Profile::open(&user(1), fields("Ada"), true, &policy, NOW).unwrap_err();
        let ProfileError::Invalid(invalid) = err else { panic!("{err:?}") };
        assert_eq!(invalid.codes(), vec!["country.missing"]);
        // A draft may still lack it.
        assert!(Profile::open(&user(1), fields("Ada"), false, &policy, NOW).is_ok());
    }

    #[test]
    fn editing_overwrites_present_fields_clears_nulls_and_confirm_submits() {
        let policy = ProfilePolicy::default();
        let draft = Profile::open(&user(1), fields("Ada"), false, &policy, NOW).unwrap();
        let raw =
            RawFields { first_name: Some(None), city: Some(Some("St. Petersburg".into())), ..RawFields::default() };
        let patch = raw.parse(date!(2026 - 06 - 14)).unwrap();
        let edited = draft.edit(&user(1), &patch, false, &policy, NOW).unwrap();
        assert_eq!(edited.fields.first_name, None);
        assert_eq!(edited.fields.city.as_ref().map(City::as_str), Some("St. Petersburg"));
        assert_eq!((edited.state, edited.version), (ProfileState::Drafted, 2));
        let sent = edited.edit(&user(1), &FieldsPatch::default(), true, &policy, NOW).unwrap();
        assert_eq!(sent.state, ProfileState::Submitted);
    }

    #[test]
    fn only_a_drafted_profile_of_ones_own_is_editable() {
        let policy = ProfilePolicy::default();
        let sent = submitted(1, None);
        let err = sent.edit(&user(1), &FieldsPatch::default(), false, &policy, NOW).unwrap_err();
        assert!(matches!(err, ProfileError::NotEditable));
        let draft = Profile::open(&user(1), fields("Ada"), false, &policy, NOW).unwrap();
        let err = draft.edit(&user(2), &FieldsPatch::default(), false, &policy, NOW).unwrap_err();
        assert!(matches!(err, ProfileError::NotEditable));
    }

    #[test]
    fn a_decision_sets_the_state_logs_it_and_labels_the_user() {
        let policy = ProfilePolicy::default();
        let decided = submitted(1, None).decide(&admin(9), reject("blurry scan"), &policy, NOW).unwrap();
        assert_eq!((decided.record.state, decided.record.version), (ProfileState::Rejected, 2));
        let [ProfileEvent::Decided(decision), ProfileEvent::Labelled(label)] = &decided.events[..] else {
            panic!("a decision and a label: {:?}", decided.events)
        };
        assert_eq!(decision.admin_id, Some(UserId::new(9)));
        assert_eq!(decision.reason.as_ref().map(Reason::as_str), Some("blurry scan"));
        assert_eq!((label.key.as_str(), label.value.as_str()), ("profile", "rejected"));
        let verified = submitted(1, None).decide(&admin(9), Verdict::Verify(None), &policy, NOW).unwrap();
        let [ProfileEvent::Decided(decision), ProfileEvent::Labelled(label)] = &verified.events[..] else {
            panic!("a decision and a label: {:?}", verified.events)
        };
        assert_eq!(label.value, "verified");
        assert_eq!(decision.verdict, DecisionKind::Verified);
    }

    #[test]
    fn nothing_returns_from_a_decision_and_drafts_cannot_be_decided() {
        let policy = ProfilePolicy::default();
        let decided = submitted(1, None).decide(&admin(9), Verdict::Verify(None), &policy, NOW).unwrap().record;
        for verdict in [Verdict::Verify(None), reject("x")] {
            let err = decided.decide(&admin(8), verdict, &policy, NOW).unwrap_err();
            assert!(matches!(err, ProfileError::NotDecidable));
        }
        assert!(decided.edit(&user(1), &FieldsPatch::default(), true, &policy, NOW).is_err());
        let draft = Profile::open(&user(1), fields("Ada"), false, &policy, NOW).unwrap();
        assert!(matches!(
            draft.decide(&admin(9), Verdict::Verify(None), &policy, NOW),
            Err(ProfileError::NotDecidable)
        ));
    }

    #[test]
    fn the_author_needs_a_second_admin_unless_double_verification_is_off() {
        let on = ProfilePolicy::default();
        let err = submitted(1, Some(9)).decide(&admin(9), Verdict::Verify(None), &on, NOW).unwrap_err();
        assert!(matches!(err, ProfileError::SecondAdminApproval));
        assert!(submitted(1, Some(9)).decide(&admin(8), Verdict::Verify(None), &on, NOW).is_ok());
        let off = ProfilePolicy { double_verification: false, ..Default::default() };
        assert!(submitted(1, Some(9)).decide(&admin(9), Verdict::Verify(None), &off, NOW).is_ok());
    }

    #[test]
    fn no_superuser_decides_their_own_profile_whatever_the_setting() {
        let off = ProfilePolicy { double_verification: false, ..Default::default() };
        for author in [None, Some(9), Some(8)] {
            let err = submitted(9, author).decide(&admin(9), Verdict::Verify(None), &off, NOW).unwrap_err();
            assert!(matches!(err, ProfileError::OwnProfile));
        }
    }

    #[test]
    fn only_superusers_decide_or_file_profiles() {
        let policy = ProfilePolicy::default();
        let err = submitted(1, None).decide(&user(2), Verdict::Verify(None), &policy, NOW).unwrap_err();
        assert!(matches!(err, ProfileError::Forbidden));
        let err = Profile::filed_by_admin(&user(2), UserId::new(1), ProfileFields::default(), &policy, NOW);
        assert!(matches!(err, Err(ProfileError::Forbidden)));
        let filed = Profile::filed_by_admin(&admin(2), UserId::new(1), ProfileFields::default(), &policy, NOW).unwrap();
        assert_eq!((filed.state, filed.author), (ProfileState::Submitted, Some(UserId::new(2))));
    }

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(Reason::parse("  blurry  ").unwrap().as_str(), "blurry");
        assert!(Reason::parse("   ").is_none());
        assert!(Reason::parse(&"x".repeat(1025)).is_none());
        assert!(Reason::parse("a\u{0}b").is_none());
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let raw = RawFields {
            first_name: Some(Some("Ada!".into())),
            dob: Some(Some("".into())),
            country: Some(Some("XX".into())),
            metadata: Some(Some(serde_json::json!([1]))),
            ..RawFields::default()
        };
        let err = raw.parse(date!(2026 - 06 - 14)).unwrap_err();
        assert_eq!(
            err.codes(),
            vec!["first_name.invalid", "dob.invalid", "country.invalid", "metadata.invalid_format"]
        );
    }

    fn label(key: &str, value: &str) -> Label {
        Label { key: LabelKey::parse(key).unwrap(), value: value.into(), scope: LabelScope::Private, updated_at: NOW }
    }

    #[test]
    fn the_level_is_the_highest_consecutive_step_that_holds() {
        let steps = LevelSteps::default();
        assert_eq!(steps.level(&[]), 0);
        assert_eq!(steps.level(&[label("email", "verified")]), 1);
        assert_eq!(steps.level(&[label("email", "verified"), label("profile", "verified")]), 2);
        assert_eq!(steps.level(&[label("profile", "verified")]), 0, "steps are consecutive");
        assert_eq!(steps.level(&[label("email", "verified"), label("profile", "rejected")]), 1);
        let custom = LevelSteps::parse(&["email:verified", "phone:verified", "profile:verified"]).unwrap();
        assert_eq!(custom.level(&[label("email", "verified"), label("profile", "verified")]), 1);
        assert!(LevelSteps::parse(&["email"]).is_err());
        assert!(LevelSteps::parse(&["Email:verified"]).is_err());
        assert!(LevelSteps::parse(&["email:"]).is_err());
    }
}
