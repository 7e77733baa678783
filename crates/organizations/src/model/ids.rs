//! The id newtypes of the organization context (UUIDv7).

shared_kernel::uuid_id!(
    /// An organization's id.
    OrganizationId
);
shared_kernel::uuid_id!(
    /// A zone's id.
    ZoneId
);
shared_kernel::uuid_id!(
    /// A membership's id.
    MembershipId
);
shared_kernel::uuid_id!(
    /// An invitation's id.
    InvitationId
);
shared_kernel::uuid_id!(
    /// An acceptance log row's id.
    AcceptanceId
);
shared_kernel::uuid_id!(
    /// An outbox row's id.
    OutboxId
);
