//! The user aggregate and the canonical User DTO of seed 003.
//!
//! - [`model`]: `User`, the value types it is made of (`DisplayName`,
//!   `Username`, `ManualStatus`, `Identity`) and the `UserView` every endpoint returns.
//! - [`dto`]: the wire shape, exactly seed 003's User DTO.
//! - [`ports`]: the `UserRepository` port.
//! - [`service`]: sign-in with just-in-time provisioning, get, update-profile, status, promote.
//! - [`avatar`]: the avatar's upload ticket, finalize and remove, over `image-upload`.
//! - [`erasure`]: what erasing a user (GDPR art. 17) turns their row into.
//! - [`error`]: the use cases' typed errors.
//! - [`events`]: the events of users (provisioned, platform role changed, erased), by id only.
//! - `memory` (feature `memory`): `MemoryUserRepository`, the port in
//!   memory, to embed the use cases without a database, and for tests.
//! - `testing` (feature `testing`): the conformance suite every
//!   `UserRepository` must pass, for adapters' tests.
//!
//! # Features
//!
//! - `memory`: the in-memory adapter above; turns on `image-upload/memory`,
//!   whose ticket repository it counts avatar tries in.
//! - `testing`: the conformance suite above; turns on `image-upload/testing`.
//! - `mock`: a mockall mock of the port. `openapi`: utoipa schemas of the DTO.
//!
//! # Example
//!
//! Sign a user in from their token's claims (provisioned on first sight),
//! rename them and build the User DTO:
//!
//! ```
//! use image_upload::memory::MemoryUploadTicketRepository;
//! use shared_kernel::{EmailAddress, FixedClock, PlatformRole};
//! use std::sync::Arc;
//! use time::{Duration, macros::datetime};
//! use users::memory::MemoryUserRepository;
//! use users::{DisplayName, Identity, ProfileChange, UserDto, UserPolicy, UserService};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! let tickets = Arc::new(MemoryUploadTicketRepository::new());
//! let users = Arc::new(MemoryUserRepository::new(tickets));
//! let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 10:00 UTC)));
//! let policy = UserPolicy {
//!     bootstrap_superusers: vec![],
//!     avatar_tries_per_window: 5,
//!     avatar_window: Duration::days(1),
//! };
//! let service = UserService::new(users, clock, policy);
//!
//! let email = EmailAddress::parse("ada@example.com")?;
//! let identity =
//!     Identity::new("idp|ada", Some(email), true, Some("Ada"), Some("Lovelace"), None)?;
//! let actor = service.sign_in(&identity).await?;
//! assert_eq!(actor.role, PlatformRole::User);
//! assert_eq!(service.sign_in(&identity).await?, actor, "the second sign-in finds the same user");
//!
//! let rename = ProfileChange::DisplayName(DisplayName::parse("Countess of Lovelace")?);
//! let view = service.change(&actor, &rename).await?;
//! let dto = UserDto::from(view);
//! assert_eq!(dto.id, actor.user_id.to_string());
//! assert_eq!(dto.display_name, "Countess of Lovelace");
//! assert_eq!(dto.first_name.as_deref(), Some("Ada"));
//! assert_eq!(dto.avatar_upload_tries_remaining, 5);
//! assert!(dto.organization_memberships.is_empty());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod avatar;
pub mod dto;
pub mod erasure;
pub mod error;
pub mod events;
#[cfg(feature = "memory")]
pub mod memory;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use avatar::AvatarService;
pub use dto::{IntegrationsDto, MembershipDto, OrganizationSummaryDto, UserDto};
pub use erasure::{EraseError, Erased, Erasure, ErasureRecord, erased_subject};
pub use error::{AdminUserError, AvatarError, CreateUserError, SetAvatarError, SignInError, UserError};
pub use model::{
    AdminUserUpdate, Changed, DisplayName, DisplayNameError, Identity, IdentityError, IdentityRefresh, Integrations,
    ManualStatus, MembershipRecord, MembershipStatus, MembershipSummary, NewUser, OrganizationSummary, ProfileChange,
    Promotion, User, UserRecord, UserView, Username, UsernameError, ViewQuery,
};
pub use ports::UserRepository;
pub use service::{UserPolicy, UserService};
