//! Usher's `Notifier` over SMTP with lettre: invitation e-mails in
//! production. The embedded default is `organizations::LogNotifier`, which only
//! logs; the outbox retries whatever this adapter fails to send.
//!
//! - [`SmtpNotifier`]: connects per the `smtp.url` setting
//!   (`smtp://host:25`, `smtps://user:pass@host:465`,
//!   `smtp://host:587?tls=required`), pooled.
//! - [`sink`] (feature `test-sink`): a minimal SMTP server on loopback that
//!   records what it receives, for tests.
#![forbid(unsafe_code)]

#[cfg(any(test, feature = "test-sink"))]
pub mod sink;

use anyhow::Context as _;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use organizations::{Delivery, InvitationMail, Notifier};
use time::format_description::well_known::Rfc2822;

/// Sends invitation e-mails through an SMTP server.
#[derive(Clone)]
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials of the URL: never print it.
        f.debug_struct("SmtpNotifier").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A notifier for the SMTP server at `url`, sending as `from`
    /// (`Usher <no-reply@example.com>`). MUST be called inside a Tokio
    /// runtime (the connection pool starts a task).
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport: AsyncSmtpTransport<Tokio1Executor> =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url).context("smtp.url is not a valid SMTP URL")?.build();
        let from = from.parse::<Mailbox>().with_context(|| format!("smtp.from {from:?} is not a mailbox"))?;
        Ok(Self { transport, from })
    }

    /// The message for `mail`.
    pub fn message(&self, mail: &InvitationMail) -> anyhow::Result<Message> {
        let to = mail.to.as_str().parse::<Mailbox>().context("the invitee's address")?;
        let expires = mail.expires_at.format(&Rfc2822).unwrap_or_else(|_| mail.expires_at.to_string());
        let inviter = if mail.invited_by.is_empty() { "Someone".to_owned() } else { mail.invited_by.clone() };
        let body = format!(
            "{inviter} invited you to join {org} as {role}.\n\n\
             Sign in with this e-mail address and open your invitations to accept or decline:\n{link}\n\n\
             The invitation expires on {expires}.\n",
            org = mail.organization,
            role = mail.role,
            link = mail.link,
        );
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("You are invited to {}", mail.organization))
            .body(body)
            .context("building the invitation e-mail")
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn send_invitation(&self, mail: &InvitationMail) -> anyhow::Result<Delivery> {
        let message = self.message(mail)?;
        self.transport.send(message).await.context("sending the invitation e-mail over SMTP")?;
        Ok(Delivery::Sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use organizations::InvitationMail;
    use shared_kernel::{EmailAddress, OrgRole};
    use time::macros::datetime;

    fn mail() -> InvitationMail {
        InvitationMail {
            to: EmailAddress::parse("bob@example.com").unwrap(),
            organization: "Acme".into(),
            invited_by: "Ada".into(),
            role: OrgRole::Moderator,
            link: "http://usher.test/dashboard/invite?invitation=0196".into(),
            expires_at: datetime!(2026-06-21 10:00 UTC),
        }
    }

    #[tokio::test]
    async fn an_invitation_reaches_a_real_smtp_server_on_loopback() {
        let sink = sink::SmtpSink::start().await.unwrap();
        let notifier = SmtpNotifier::new(&sink.url(), "Usher <no-reply@usher.test>").unwrap();
        assert_eq!(notifier.send_invitation(&mail()).await.unwrap(), Delivery::Sent);
        let received = sink.messages();
        assert_eq!(received.len(), 1);
        let m = &received[0];
        assert_eq!(m.from, "no-reply@usher.test");
        assert_eq!(m.to, vec!["bob@example.com".to_owned()]);
        assert!(m.data.contains("Subject: You are invited to Acme"), "{}", m.data);
        assert!(m.data.contains("Ada invited you to join Acme as moderator"), "{}", m.data);
        // Quoted-printable writes `=` as `=3D`.
        assert!(m.data.contains("invitation=3D0196"), "{}", m.data);
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error_to_retry() {
        // Bind and drop: nothing listens on this port any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let notifier = SmtpNotifier::new(&format!("smtp://127.0.0.1:{port}"), "no-reply@usher.test").unwrap();
        assert!(notifier.send_invitation(&mail()).await.is_err());
        assert!(!format!("{notifier:?}").contains("127.0.0.1"));
    }

    proptest::proptest! {
        /// Every address the domain accepts at the door is one this adapter can send to.
        #[test]
        fn every_address_the_domain_accepts_is_one_lettre_accepts(
            local in "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,20}|\\PC{1,12}",
            domain in "[a-zA-Z0-9.-]{1,30}|[a-z]{1,10}\\.[a-z]{2,5}|\\PC{1,10}\\.[a-z]{2,4}",
        ) {
            if let Ok(address) = EmailAddress::parse(&format!("{local}@{domain}")) {
                proptest::prop_assert!(address.as_str().parse::<lettre::Address>().is_ok(), "{address}");
                // `message` parses the recipient exactly so.
                proptest::prop_assert!(address.as_str().parse::<Mailbox>().is_ok(), "{address}");
            }
        }
    }

    #[tokio::test]
    async fn bad_settings_are_refused() {
        assert!(SmtpNotifier::new("http://nope", "a@b.c").is_err());
        assert!(SmtpNotifier::new("smtp://localhost:25", "not a mailbox").is_err());
    }
}
