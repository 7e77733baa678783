//! The use cases. Each loads what the model needs, asks the model, and
//! hands the adapter the resulting plan; when a plan's compare-and-set or
//! `Unchanged` guard loses a race, it reads again and decides again.
//!
//! - [`OrganizationService`] (`organizations`): organizations, zones,
//!   members, blocks, history, the sidebar, the membership sweeper and a
//!   superuser's admin appointment.
//! - [`LogoService`] (`logo`): the organization logo's two-step upload.
//! - [`OrganizationEvents`] (`events`): an organization's event feed, for its admins.
//! - [`InvitationService`] (`invitations`, `accept`, `outbox`, `imports`):
//!   invitations, accepting, their e-mails and legacy imports.

mod accept;
mod events;
mod expiries;
mod imports;
mod invitations;
mod logo;
mod organizations;
mod outbox;

pub use events::OrganizationEvents;
pub use imports::{ImportOutcome, ImportReport};
pub use invitations::{CreatedInvitation, InvitationService, Preview};
pub use logo::{LogoError, LogoService};
pub use organizations::{OrganizationService, OrganizationView};

/// How often a use case re-reads and decides again after losing a
/// compare-and-set. Racing accepts of one link lose once per winner, so this
/// bounds the contenders one link can serve at once.
const MAX_ATTEMPTS: usize = 100;

#[cfg(test)]
mod tests {
    use crate::error::{AcceptError, InvitationError, OrgError, WriteError};
    use crate::model::{
        ClientInfo, Delivery, InvitationId, InvitationMail, InvitationOrigin, InvitationStatus, InvitationToken,
        Invitee, Membership, NewInvitation, OrganizationId, OutboxId, OutboxMail, QuotaPolicy, Refusal, Standing,
    };
    use crate::ports::{
        MockInvitationLinks, MockInvitationRepository, MockNotifier, MockOrganizationRepository, OsTokenGenerator,
    };
    use crate::{Invitation, InvitationKind, InvitationService};
    use shared_kernel::{Actor, EmailAddress, FixedClock, OrgRole, PlatformRole, UserId};
    use std::sync::Arc;
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn actor(id: i64) -> Actor {
        Actor { user_id: UserId::new(id), role: PlatformRole::User }
    }

    fn invitation(org: OrganizationId, max_uses: u32) -> Invitation {
        Invitation {
            id: InvitationId::new(),
            organization_id: org,
            zone_id: None,
            role: OrgRole::Member,
            email: None,
            user_id: None,
            kind: InvitationKind::Internal,
            origin: InvitationOrigin::Member,
            max_uses,
            use_count: 0,
            expires_at: NOW + Duration::days(1),
            valid_for: Duration::days(1),
            membership_duration: None,
            status: InvitationStatus::Pending,
            token_hash: InvitationToken::from_bytes(&[9; 32]).hash(),
            created_by: UserId::new(1),
            created_at: NOW,
            updated_at: NOW,
            version: 1,
        }
    }

    fn member_of(org: OrganizationId, user: i64, role: OrgRole) -> Membership {
        Membership::start(org, UserId::new(user), role, vec![], None, None, NOW - Duration::days(1))
    }

    fn service(
        orgs: MockOrganizationRepository,
        invitations: MockInvitationRepository,
        notifier: MockNotifier,
    ) -> InvitationService {
        let mut links = MockInvitationLinks::new();
        links.expect_token_link().returning(|t| format!("https://usher.test/#token={}", t.expose()));
        links.expect_invitation_link().returning(|id| format!("https://usher.test/?invitation={id}"));
        InvitationService::new(
            Arc::new(orgs),
            Arc::new(invitations),
            Arc::new(OsTokenGenerator),
            Arc::new(notifier),
            Arc::new(FixedClock::at(NOW)),
            Arc::new(links),
            QuotaPolicy::default(),
        )
    }

    /// Bob (user 2), signed in with a verified e-mail, no membership; Ada (user 1) the org's admin.
    fn world(org: OrganizationId) -> MockOrganizationRepository {
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_invitee().returning(|user| {
            Ok(Some(Invitee { user_id: user, email: EmailAddress::parse("b@x.io").unwrap(), email_verified: true }))
        });
        orgs.expect_active_membership()
            .returning(move |_, user| Ok((user == UserId::new(1)).then(|| member_of(org, 1, OrgRole::Admin))));
        orgs.expect_is_blocked().returning(|_, _| Ok(false));
        orgs.expect_standing().returning(move |_, creator, _| {
            let grantor = creator.filter(|c| *c == UserId::new(1)).map(|_| member_of(org, 1, OrgRole::Admin));
            Ok(Standing { grantor, existing: None, blocked: false })
        });
        orgs
    }

    #[tokio::test]
    async fn a_refused_accept_is_logged_and_consumes_nothing() {
        let org = OrganizationId::new();
        let mut invitations = MockInvitationRepository::new();
        let mut expired = invitation(org, 1);
        expired.expires_at = NOW;
        invitations.expect_find_by_hash().returning(move |_| Ok(Some(expired.clone())));
        invitations
            .expect_log()
            .withf(|a, e| {
                a.reason.as_deref() == Some("expired")
                    && e.kind == "invitation.acceptance_failed"
                    && e.data["reason"] == "expired"
            })
            .times(1)
            .returning(|_, _| Ok(()));
        invitations.expect_accept().never();
        let svc = service(world(org), invitations, MockNotifier::new());
        let err = svc.accept_token(&actor(2), &InvitationToken::from_presented("t"), &ClientInfo::default()).await;
        assert!(matches!(err, Err(AcceptError::Refused(Refusal::Expired))));
    }

    #[tokio::test]
    async fn a_lost_compare_and_set_reads_again_and_decides_again() {
        let org = OrganizationId::new();
        let mut invitations = MockInvitationRepository::new();
        let mut seq = mockall::Sequence::new();
        let fresh = invitation(org, 1);
        let mut taken = fresh.clone();
        taken.use_count = 1;
        taken.status = InvitationStatus::Accepted;
        invitations.expect_find_by_hash().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(fresh.clone())));
        invitations.expect_accept().times(1).in_sequence(&mut seq).returning(|_| Err(WriteError::Conflict));
        invitations.expect_find_by_hash().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(taken.clone())));
        invitations
            .expect_log()
            .withf(|a, e| {
                a.reason.as_deref() == Some("used_up")
                    && e.kind == "invitation.acceptance_failed"
                    && e.data["reason"] == "used_up"
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let svc = service(world(org), invitations, MockNotifier::new());
        let err = svc.accept_token(&actor(2), &InvitationToken::from_presented("t"), &ClientInfo::default()).await;
        assert!(matches!(err, Err(AcceptError::Refused(Refusal::UsedUp))));
    }

    #[tokio::test]
    async fn a_creator_whose_membership_changed_at_commit_is_read_again() {
        let org = OrganizationId::new();
        let mut invitations = MockInvitationRepository::new();
        let link = invitation(org, 5);
        invitations.expect_find_by_hash().times(2).returning(move |_| Ok(Some(link.clone())));
        let mut seq = mockall::Sequence::new();
        invitations.expect_accept().times(1).in_sequence(&mut seq).returning(|_| Err(WriteError::Conflict));
        invitations.expect_accept().times(1).in_sequence(&mut seq).returning(|_| Ok(()));
        let svc = service(world(org), invitations, MockNotifier::new());
        let joined = svc.accept_token(&actor(2), &InvitationToken::from_presented("t"), &ClientInfo::default()).await;
        assert_eq!(joined.unwrap().role, OrgRole::Member);
    }

    #[tokio::test]
    async fn moderators_cannot_invite_moderators() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_zones().returning(|_| Ok(vec![]));
        orgs.expect_active_membership().returning(move |_, _| Ok(Some(member_of(org, 1, OrgRole::Moderator))));
        let mut invitations = MockInvitationRepository::new();
        invitations.expect_insert().never();
        let svc = service(orgs, invitations, MockNotifier::new());
        let err = svc.create(&actor(1), NewInvitation::link(org, OrgRole::Moderator)).await.unwrap_err();
        assert!(matches!(err, InvitationError::Org(OrgError::RoleNotAllowed(OrgRole::Moderator))));
    }

    fn mail(to: &str) -> OutboxMail {
        OutboxMail {
            id: OutboxId::new(),
            invitation_id: InvitationId::new(),
            mail: InvitationMail {
                to: EmailAddress::parse(to).unwrap(),
                organization: "Acme".into(),
                invited_by: "Ada".into(),
                role: OrgRole::Member,
                link: "https://usher.test/?invitation=x".into(),
                expires_at: NOW + Duration::days(1),
            },
            attempts: 2,
            next_attempt_at: NOW,
        }
    }

    #[tokio::test]
    async fn the_outbox_retries_a_failed_send_closes_a_dead_invitations_mail_and_never_sends_twice() {
        let org = OrganizationId::new();
        let (failing, cancelled, lost) = (mail("a@x.io"), mail("c@x.io"), mail("l@x.io"));
        let (failing_id, cancelled_id, lost_id) = (failing.id, cancelled.id, lost.id);
        let mut invitations = MockInvitationRepository::new();
        let due = vec![failing, cancelled, lost];
        invitations.expect_due_mails().returning(move |_, _| Ok(due.clone()));
        let mut revoked = invitation(org, 1);
        revoked.status = InvitationStatus::Revoked;
        let pending = invitation(org, 1);
        invitations.expect_claim_mail().returning(move |m, _| {
            Ok(if m.id == lost_id {
                None
            } else if m.id == cancelled_id {
                Some(Some(revoked.clone()))
            } else {
                Some(Some(pending.clone()))
            })
        });
        invitations
            .expect_mail_failed()
            .withf(move |id, attempts, retry_at, _, _| {
                *id == failing_id && *attempts == 3 && *retry_at == Some(NOW + Duration::seconds(240))
            })
            .times(1)
            .returning(|_, _, _, _, _| Ok(()));
        invitations
            .expect_mail_closed()
            .withf(move |id, why, _| *id == cancelled_id && why.contains("revoked"))
            .times(1)
            .returning(|_, _, _| Ok(()));
        invitations.expect_mail_sent().never();
        let mut notifier = MockNotifier::new();
        notifier.expect_send_invitation().times(1).returning(|_| Err(anyhow::anyhow!("connection refused")));
        let svc = service(MockOrganizationRepository::new(), invitations, notifier);
        assert_eq!(svc.drain_outbox(10).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_notifier_that_does_not_send_closes_the_mail_uncounted() {
        let org = OrganizationId::new();
        let due = mail("a@x.io");
        let mut invitations = MockInvitationRepository::new();
        invitations.expect_due_mails().returning(move |_, _| Ok(vec![due.clone()]));
        let pending = invitation(org, 1);
        invitations.expect_claim_mail().returning(move |_, _| Ok(Some(Some(pending.clone()))));
        invitations
            .expect_mail_closed()
            .withf(|_, why, _| why.starts_with("not sent"))
            .times(1)
            .returning(|_, _, _| Ok(()));
        invitations.expect_mail_sent().never();
        let mut notifier = MockNotifier::new();
        notifier.expect_send_invitation().returning(|_| Ok(Delivery::NotSent("not sent: no SMTP server".into())));
        let svc = service(MockOrganizationRepository::new(), invitations, notifier);
        assert_eq!(svc.drain_outbox(10).await.unwrap(), 0);
    }
}
