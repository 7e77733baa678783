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
#![forbid(unsafe_code)]

pub mod avatar;
pub mod dto;
pub mod erasure;
pub mod error;
pub mod model;
pub mod ports;
pub mod service;

pub use avatar::AvatarService;
pub use dto::{IntegrationsDto, MembershipDto, OrganizationSummaryDto, UserDto};
pub use erasure::{EraseError, Erased, Erasure, ErasureRecord, erased_subject};
pub use error::{AdminUserError, AvatarError, CreateUserError, SetAvatarError, SignInError, UserError};
pub use model::{
    AdminUserUpdate, DisplayName, DisplayNameError, Identity, IdentityError, IdentityRefresh, Integrations,
    ManualStatus, MembershipRecord, MembershipStatus, MembershipSummary, NewUser, OrganizationSummary, Promotion, User,
    UserRecord, UserView, Username, UsernameError, ViewQuery,
};
pub use ports::UserRepository;
pub use service::{UserPolicy, UserService};
