//! The identifiers of the tables that have no entity under `entities`,
//! named once for every statement that reads or writes them. The tables
//! themselves are created by the `migrations` crate, for both databases;
//! `users` and `upload_tickets` are named by their entities.
//!
//! Each enum is a table: `Table` is its name, every other variant a column
//! (snake_case of the variant).

use sea_orm::DeriveIden;

/// `organizations`.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum Organizations {
    Table,
    Id,
    Name,
    Slug,
    LogoUrl,
    LogoKey,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

impl Organizations {
    /// The columns `mapping::organization` reads.
    pub(crate) const READ: [Self; 7] =
        [Self::Id, Self::Name, Self::Slug, Self::LogoUrl, Self::CreatedBy, Self::CreatedAt, Self::UpdatedAt];
}

/// `zones`.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum Zones {
    Table,
    Id,
    OrganizationId,
    Name,
    NameKey,
    CreatedAt,
}

/// `memberships`; its zones are rows of [`MembershipZones`].
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum Memberships {
    Table,
    Id,
    OrganizationId,
    UserId,
    Role,
    Status,
    ExpiresAt,
    InvitationId,
    JoinedAt,
    EndedAt,
    EndReason,
    Version,
}

impl Memberships {
    /// The columns `mapping::membership` reads.
    pub(crate) const READ: [Self; 11] = [
        Self::Id,
        Self::OrganizationId,
        Self::UserId,
        Self::Role,
        Self::Status,
        Self::ExpiresAt,
        Self::InvitationId,
        Self::JoinedAt,
        Self::EndedAt,
        Self::EndReason,
        Self::Version,
    ];
}

/// `membership_zones`: the zones a membership is limited to (none: the whole organization).
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum MembershipZones {
    Table,
    MembershipId,
    ZoneId,
}

/// `membership_history`: every version of every membership. `zones` is a
/// snapshot (comma-joined ids) of a past state, not a reference.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum MembershipHistory {
    Table,
    Id,
    MembershipId,
    OrganizationId,
    UserId,
    Role,
    Zones,
    Status,
    ExpiresAt,
    ValidFrom,
    ValidTo,
    ChangedBy,
    Cause,
    InvitationId,
}

impl MembershipHistory {
    /// The columns `mapping::history` reads.
    pub(crate) const READ: [Self; 12] = [
        Self::MembershipId,
        Self::OrganizationId,
        Self::UserId,
        Self::Role,
        Self::Zones,
        Self::Status,
        Self::ExpiresAt,
        Self::ValidFrom,
        Self::ValidTo,
        Self::ChangedBy,
        Self::Cause,
        Self::InvitationId,
    ];
}

/// `organization_blocks`.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum OrganizationBlocks {
    Table,
    OrganizationId,
    UserId,
    BlockedBy,
    BlockedAt,
}

/// `invitations`.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum Invitations {
    Table,
    Id,
    OrganizationId,
    ZoneId,
    Role,
    Email,
    UserId,
    Kind,
    Origin,
    MaxUses,
    UseCount,
    ExpiresAt,
    ValidForSeconds,
    MembershipDurationSeconds,
    Status,
    TokenHash,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
    /// The expiry its `invitation.expired` announced; not part of the record.
    ExpiryAnnouncedFor,
}

impl Invitations {
    /// Every column, in insert order; `mapping::invitation` reads them all.
    pub(crate) const ALL: [Self; 19] = [
        Self::Id,
        Self::OrganizationId,
        Self::ZoneId,
        Self::Role,
        Self::Email,
        Self::UserId,
        Self::Kind,
        Self::Origin,
        Self::MaxUses,
        Self::UseCount,
        Self::ExpiresAt,
        Self::ValidForSeconds,
        Self::MembershipDurationSeconds,
        Self::Status,
        Self::TokenHash,
        Self::CreatedBy,
        Self::CreatedAt,
        Self::UpdatedAt,
        Self::Version,
    ];
}

/// `invitation_acceptances`: the log of every acceptance attempt.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum InvitationAcceptances {
    Table,
    Id,
    InvitationId,
    UserId,
    Outcome,
    Reason,
    At,
    Ip,
    UserAgent,
}

impl InvitationAcceptances {
    /// Every column, in insert order; `mapping::acceptance` reads them all.
    pub(crate) const ALL: [Self; 8] =
        [Self::Id, Self::InvitationId, Self::UserId, Self::Outcome, Self::Reason, Self::At, Self::Ip, Self::UserAgent];
}

/// `invitation_outbox`: invitation e-mails to send.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum InvitationOutbox {
    Table,
    Id,
    InvitationId,
    OrganizationId,
    Recipient,
    Organization,
    InvitedBy,
    Role,
    Link,
    ExpiresAt,
    Attempts,
    NextAttemptAt,
    LastError,
    SentAt,
    AbandonedAt,
    CreatedAt,
}

impl InvitationOutbox {
    /// The columns `mapping::outbox_mail` reads.
    pub(crate) const READ: [Self; 10] = [
        Self::Id,
        Self::InvitationId,
        Self::Recipient,
        Self::Organization,
        Self::InvitedBy,
        Self::Role,
        Self::Link,
        Self::ExpiresAt,
        Self::Attempts,
        Self::NextAttemptAt,
    ];
}

/// `membership_imports`: one row per organization and imported e-mail.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum MembershipImports {
    Table,
    OrganizationId,
    Email,
    Role,
    JoinedAt,
    InvitationId,
    CreatedAt,
    AppliedAt,
}

/// `rate_limits`: one GCRA state per limit and key (`crate::rate_limits`).
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum RateLimits {
    Table,
    Name,
    Key,
    ArrivalUs,
}

/// `events`: the transactional outbox, in commit order (`crate::events`).
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum Events {
    Table,
    Position,
    Id,
    Type,
    OccurredAt,
    ActorId,
    OrganizationId,
    SubjectType,
    SubjectId,
    Data,
}

/// `webhook_endpoints`: where events are posted (`crate::webhooks`).
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum WebhookEndpoints {
    Table,
    Id,
    OrganizationId,
    Url,
    EventTypes,
    Enabled,
    Secret,
    PreviousSecret,
    PreviousUntil,
    FailingReason,
    FailingSince,
    CreatedBy,
    CreatedAt,
}

impl WebhookEndpoints {
    /// Every column, in the order `crate::webhooks` writes and reads them.
    pub(crate) const ALL: [Self; 12] = [
        Self::Id,
        Self::OrganizationId,
        Self::Url,
        Self::EventTypes,
        Self::Enabled,
        Self::Secret,
        Self::PreviousSecret,
        Self::PreviousUntil,
        Self::FailingReason,
        Self::FailingSince,
        Self::CreatedBy,
        Self::CreatedAt,
    ];
}

/// `webhook_dispatch`: how far the event log was fanned out into deliveries.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum WebhookDispatch {
    Table,
    Id,
    Position,
}

/// `webhook_deliveries`: one event on its way to one endpoint.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventPosition,
    EventId,
    EventType,
    SubjectType,
    SubjectId,
    Payload,
    ReplayOf,
    State,
    Attempts,
    FirstAttemptAt,
    NextAttemptAt,
    CreatedAt,
}

impl WebhookDeliveries {
    /// Every column, in the order `crate::webhooks` writes and reads them.
    pub(crate) const ALL: [Self; 14] = [
        Self::Id,
        Self::EndpointId,
        Self::EventPosition,
        Self::EventId,
        Self::EventType,
        Self::SubjectType,
        Self::SubjectId,
        Self::Payload,
        Self::ReplayOf,
        Self::State,
        Self::Attempts,
        Self::FirstAttemptAt,
        Self::NextAttemptAt,
        Self::CreatedAt,
    ];
}

/// `webhook_attempts`: every post of a delivery.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    Status,
    LatencyMs,
    Response,
    Error,
}
