//! Embeds the `organizations` crate with its in-memory adapter: builds the
//! services, creates an organization, invites a colleague by e-mail, lets
//! her accept, and prints the members. No database, no HTTP: the same use
//! cases the `usher` app serves, called from a program of its own.

use organizations::memory::MemoryStore;
use organizations::{
    ClientInfo, InvitationId, InvitationLinks, InvitationService, InvitationToken, LogNotifier, Member, MemberFilter,
    Name, NewInvitation, OrganizationService, OsTokenGenerator, QuotaPolicy,
};
use shared_kernel::{Actor, Clock, EmailAddress, OrgRole, PageRequest, PlatformRole, SystemClock};
use std::sync::Arc;

/// Where this program's (imaginary) UI opens an invitation. The token link
/// keeps the secret in the fragment, out of server logs.
struct Links;

impl InvitationLinks for Links {
    fn token_link(&self, token: &InvitationToken) -> String {
        format!("https://intranet.example/invite#token={}", token.expose())
    }

    fn invitation_link(&self, id: InvitationId) -> String {
        format!("https://intranet.example/invite?invitation={id}")
    }
}

/// The two services over one in-memory store.
struct Embedded {
    store: MemoryStore,
    organizations: OrganizationService,
    invitations: InvitationService,
}

impl Embedded {
    fn new(clock: Arc<dyn Clock>) -> Self {
        let store = MemoryStore::new();
        let quotas = QuotaPolicy::default();
        let orgs = Arc::new(store.clone());
        let organizations = OrganizationService::new(orgs.clone(), clock.clone(), quotas.clone());
        let invitations = InvitationService::new(
            orgs,
            Arc::new(store.clone()),
            Arc::new(OsTokenGenerator),
            // Logs that an e-mail was not sent; plug in an SMTP notifier to send it.
            Arc::new(LogNotifier),
            clock,
            Arc::new(Links),
            quotas,
        );
        Self { store, organizations, invitations }
    }

    /// An account of the host's, known to the store by name and e-mail.
    fn user(&self, name: &str, email: &str) -> anyhow::Result<Actor> {
        let email = EmailAddress::parse(email)?;
        Ok(Actor { user_id: self.store.add_user(name, &email, true), role: PlatformRole::User })
    }
}

/// The walk-through: Ada founds "Acme School", invites Grace by e-mail as a
/// moderator, Grace accepts from her list of invitations, and the members
/// are listed, newest first.
async fn run(clock: Arc<dyn Clock>) -> anyhow::Result<Vec<Member>> {
    let app = Embedded::new(clock);
    let ada = app.user("Ada", "ada@acme.example")?;
    let grace = app.user("Grace", "grace@acme.example")?;

    let org = app.organizations.create(&ada, &Name::parse("Acme School")?).await?;
    let invite = NewInvitation {
        email: Some(EmailAddress::parse("grace@acme.example")?),
        ..NewInvitation::link(org.id, OrgRole::Moderator)
    };
    let created = app.invitations.create(&ada, invite).await?;
    // The e-mail waits in the outbox; draining it hands it to the notifier.
    app.invitations.drain_outbox(10).await?;

    let waiting = app.invitations.mine(&grace, &PageRequest::default()).await?;
    anyhow::ensure!(waiting.items.iter().any(|(i, _)| i.id == created.invitation.id), "Grace sees her invitation");
    app.invitations.accept_id(&grace, created.invitation.id, &ClientInfo::default()).await?;

    let members = app.organizations.members(&ada, org.id, MemberFilter::default(), &PageRequest::default()).await?;
    Ok(members.items)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let members = run(Arc::new(SystemClock)).await?;
    println!("Acme School has {} members:", members.len());
    for m in &members {
        println!("  {} <{}>: {}", m.display_name, m.email, m.membership.role);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_kernel::FixedClock;
    use time::macros::datetime;

    #[tokio::test]
    async fn the_invited_colleague_joins_as_moderator_beside_the_founding_admin() {
        let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 10:00 UTC)));
        let members = run(clock).await.unwrap();
        let seen: Vec<_> = members.iter().map(|m| (m.display_name.as_str(), m.membership.role)).collect();
        assert_eq!(seen, [("Grace", OrgRole::Moderator), ("Ada", OrgRole::Admin)]);
    }
}
