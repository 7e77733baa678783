//! The vocabulary every Usher domain crate shares.
//!
//! - [`ids`]: the `UserId` (stringified int64 on the wire) and the UUIDv7 id newtypes.
//! - [`actor`]: who is acting (`Actor`) and their platform role.
//! - [`role`]: the organization role order `guest < member < moderator < admin`.
//! - [`clock`]: the `Clock` port, the system clock and a settable test clock.
//! - [`discord`]: the `DiscordId` snowflake value type.
//! - [`email`]: the normalised `EmailAddress` value type.
//! - [`event`]: a state change as the systems around Usher learn of it (`Event`), and its place in the feed.
//! - [`paging`]: keyset paging requests, pages and opaque cursors typed by the list's key.
//! - [`pause`]: a test hook between a decision's read and its write.
//! - [`review`]: what a rejection tells its user: retry or final, and the reviewers' note.
//! - [`stored_enum`]: one macro for enums stored and sent by name (`as_str`, `parse`, `Display`, `ALL`).
//! - [`tenure`]: when a membership grants access, read by every context.
//! - [`text`]: what a one-line, human-facing name may contain.
//! - [`transition`]: a state machine's next record plus its events.
#![forbid(unsafe_code)]

pub mod actor;
pub mod clock;
pub mod discord;
pub mod email;
pub mod event;
pub mod ids;
pub mod paging;
pub mod pause;
pub mod review;
pub mod role;
pub mod stored_enum;
pub mod tenure;
pub mod text;
pub mod transition;

pub use actor::{Actor, PlatformRole};
pub use clock::{Clock, FixedClock, SystemClock, truncate_to_micros};
pub use discord::{DiscordId, DiscordIdError};
pub use email::{EmailAddress, EmailError};
pub use event::{
    Event, EventBuffer, EventLog, FeedError, FeedPage, FeedQuery, Recorded, Retention, RetentionOutOfRange, Subject,
};
pub use ids::UserId;
pub use paging::{Cursor, CursorError, CursorKey, Page, PageRequest, PagingError};
pub use pause::{NoPause, Pause};
pub use review::{Retry, ReviewNote, ReviewNoteError};
pub use role::OrgRole;
pub use tenure::Tenure;
pub use text::TextError;
pub use transition::Transition;
