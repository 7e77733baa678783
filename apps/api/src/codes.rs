//! Every `code` the service itself answers with, in one place: the error
//! mapping and the handlers name these constants, and a test holds the
//! OpenAPI document to them (each is documented on some operation). Codes a
//! domain crate owns (refusal reasons, barong's field codes) come from its
//! own `as_str`.

/// `admin.last_superuser`.
pub(crate) const ADMIN_LAST_SUPERUSER: &str = "admin.last_superuser";
/// `admin.profiles.conflict`.
pub(crate) const ADMIN_PROFILES_CONFLICT: &str = "admin.profiles.conflict";
/// `admin.profiles.doesnt_exist`.
pub(crate) const ADMIN_PROFILES_DOESNT_EXIST: &str = "admin.profiles.doesnt_exist";
/// `admin.profiles.doesnt_exist_or_not_editable`.
pub(crate) const ADMIN_PROFILES_DOESNT_EXIST_OR_NOT_EDITABLE: &str = "admin.profiles.doesnt_exist_or_not_editable";
/// `admin.profiles.own_profile`.
pub(crate) const ADMIN_PROFILES_OWN_PROFILE: &str = "admin.profiles.own_profile";
/// `admin.profiles.second_admin_approval`.
pub(crate) const ADMIN_PROFILES_SECOND_ADMIN_APPROVAL: &str = "admin.profiles.second_admin_approval";
/// `admin.user.doesnt_exist`.
pub(crate) const ADMIN_USER_DOESNT_EXIST: &str = "admin.user.doesnt_exist";

/// `auth.account_erased`.
pub(crate) const AUTH_ACCOUNT_ERASED: &str = "auth.account_erased";
/// `auth.email_missing`.
pub(crate) const AUTH_EMAIL_MISSING: &str = "auth.email_missing";
/// `auth.forbidden`.
pub(crate) const AUTH_FORBIDDEN: &str = "auth.forbidden";
/// `auth.invalid_token`.
pub(crate) const AUTH_INVALID_TOKEN: &str = "auth.invalid_token";
/// `auth.missing_token`.
pub(crate) const AUTH_MISSING_TOKEN: &str = "auth.missing_token";
/// `auth.superuser_required`.
pub(crate) const AUTH_SUPERUSER_REQUIRED: &str = "auth.superuser_required";
/// `auth.unauthorized`.
pub(crate) const AUTH_UNAUTHORIZED: &str = "auth.unauthorized";
/// `auth.user_gone`.
pub(crate) const AUTH_USER_GONE: &str = "auth.user_gone";

/// `avatar.upload_tries_exhausted`.
pub(crate) const AVATAR_UPLOAD_TRIES_EXHAUSTED: &str = "avatar.upload_tries_exhausted";

/// `discord.not_configured`.
pub(crate) const DISCORD_NOT_CONFIGURED: &str = "discord.not_configured";
/// `discord.rate_limited`.
pub(crate) const DISCORD_RATE_LIMITED: &str = "discord.rate_limited";
/// `discord.unauthorized`.
pub(crate) const DISCORD_UNAUTHORIZED: &str = "discord.unauthorized";
/// `discord.unavailable`.
pub(crate) const DISCORD_UNAVAILABLE: &str = "discord.unavailable";
/// `discord.user_not_found`.
pub(crate) const DISCORD_USER_NOT_FOUND: &str = "discord.user_not_found";

/// `http.error`.
pub(crate) const HTTP_ERROR: &str = "http.error";
/// `http.method_not_allowed`.
pub(crate) const HTTP_METHOD_NOT_ALLOWED: &str = "http.method_not_allowed";
/// `http.not_found`.
pub(crate) const HTTP_NOT_FOUND: &str = "http.not_found";

/// `invitation.accept_rate_limited`.
pub(crate) const INVITATION_ACCEPT_RATE_LIMITED: &str = "invitation.accept_rate_limited";
/// `invitation.already_member`.
pub(crate) const INVITATION_ALREADY_MEMBER: &str = "invitation.already_member";
/// `invitation.blocked`.
pub(crate) const INVITATION_BLOCKED: &str = "invitation.blocked";
/// `invitation.conflict`.
pub(crate) const INVITATION_CONFLICT: &str = "invitation.conflict";
/// `invitation.email_mismatch`.
pub(crate) const INVITATION_EMAIL_MISMATCH: &str = "invitation.email_mismatch";
/// `invitation.email_unverified`.
pub(crate) const INVITATION_EMAIL_UNVERIFIED: &str = "invitation.email_unverified";
/// `invitation.expired`.
pub(crate) const INVITATION_EXPIRED: &str = "invitation.expired";
/// `invitation.external_member`.
pub(crate) const INVITATION_EXTERNAL_MEMBER: &str = "invitation.external_member";
/// `invitation.not_found`.
pub(crate) const INVITATION_NOT_FOUND: &str = "invitation.not_found";
/// `invitation.not_pending`.
pub(crate) const INVITATION_NOT_PENDING: &str = "invitation.not_pending";
/// `invitation.open_link`.
pub(crate) const INVITATION_OPEN_LINK: &str = "invitation.open_link";
/// `invitation.preview_rate_limited`.
pub(crate) const INVITATION_PREVIEW_RATE_LIMITED: &str = "invitation.preview_rate_limited";
/// `invitation.rejected`.
pub(crate) const INVITATION_REJECTED: &str = "invitation.rejected";
/// `invitation.revoked`.
pub(crate) const INVITATION_REVOKED: &str = "invitation.revoked";
/// `invitation.used_up`.
pub(crate) const INVITATION_USED_UP: &str = "invitation.used_up";
/// `invitation.would_widen`.
pub(crate) const INVITATION_WOULD_WIDEN: &str = "invitation.would_widen";
/// `invitation.wrong_person`.
pub(crate) const INVITATION_WRONG_PERSON: &str = "invitation.wrong_person";

/// `note.invalid`.
pub(crate) const NOTE_INVALID: &str = "note.invalid";

/// `organization.beyond_own_term`.
pub(crate) const ORGANIZATION_BEYOND_OWN_TERM: &str = "organization.beyond_own_term";
/// `organization.conflict`.
pub(crate) const ORGANIZATION_CONFLICT: &str = "organization.conflict";
/// `organization.forbidden`.
pub(crate) const ORGANIZATION_FORBIDDEN: &str = "organization.forbidden";
/// `organization.last_admin`.
pub(crate) const ORGANIZATION_LAST_ADMIN: &str = "organization.last_admin";
/// `organization.logo_upload_tries_exhausted`.
pub(crate) const ORGANIZATION_LOGO_UPLOAD_TRIES_EXHAUSTED: &str = "organization.logo_upload_tries_exhausted";
/// `organization.member_not_found`.
pub(crate) const ORGANIZATION_MEMBER_NOT_FOUND: &str = "organization.member_not_found";
/// `organization.not_found`.
pub(crate) const ORGANIZATION_NOT_FOUND: &str = "organization.not_found";
/// `organization.not_member`.
pub(crate) const ORGANIZATION_NOT_MEMBER: &str = "organization.not_member";
/// `organization.out_of_scope`.
pub(crate) const ORGANIZATION_OUT_OF_SCOPE: &str = "organization.out_of_scope";
/// `organization.role_not_allowed`.
pub(crate) const ORGANIZATION_ROLE_NOT_ALLOWED: &str = "organization.role_not_allowed";
/// `organization.zone_name_taken`.
pub(crate) const ORGANIZATION_ZONE_NAME_TAKEN: &str = "organization.zone_name_taken";
/// `organization.zone_not_found`.
pub(crate) const ORGANIZATION_ZONE_NOT_FOUND: &str = "organization.zone_not_found";

/// `photo.already_decided`.
pub(crate) const PHOTO_ALREADY_DECIDED: &str = "photo.already_decided";
/// `photo.conflict`.
pub(crate) const PHOTO_CONFLICT: &str = "photo.conflict";
/// `photo.discord_not_fetched`.
pub(crate) const PHOTO_DISCORD_NOT_FETCHED: &str = "photo.discord_not_fetched";
/// `photo.discord_not_linked`.
pub(crate) const PHOTO_DISCORD_NOT_LINKED: &str = "photo.discord_not_linked";
/// `photo.no_pending_verification`.
pub(crate) const PHOTO_NO_PENDING_VERIFICATION: &str = "photo.no_pending_verification";
/// `photo.not_found`.
pub(crate) const PHOTO_NOT_FOUND: &str = "photo.not_found";
/// `photo.own_verification`.
pub(crate) const PHOTO_OWN_VERIFICATION: &str = "photo.own_verification";
/// `photo.rejected_final`.
pub(crate) const PHOTO_REJECTED_FINAL: &str = "photo.rejected_final";

/// `picture.forbidden`.
pub(crate) const PICTURE_FORBIDDEN: &str = "picture.forbidden";

/// `profile.key_unavailable`.
pub(crate) const PROFILE_KEY_UNAVAILABLE: &str = "profile.key_unavailable";

/// `quota.emails_per_organization_per_hour`.
pub(crate) const QUOTA_EMAILS_PER_ORGANIZATION_PER_HOUR: &str = "quota.emails_per_organization_per_hour";
/// `quota.emails_per_recipient_per_day`.
pub(crate) const QUOTA_EMAILS_PER_RECIPIENT_PER_DAY: &str = "quota.emails_per_recipient_per_day";
/// `quota.exceeded`.
pub(crate) const QUOTA_EXCEEDED: &str = "quota.exceeded";
/// `quota.organizations_per_user_per_day`.
pub(crate) const QUOTA_ORGANIZATIONS_PER_USER_PER_DAY: &str = "quota.organizations_per_user_per_day";
/// `quota.pending_invitations_per_organization`.
pub(crate) const QUOTA_PENDING_INVITATIONS_PER_ORGANIZATION: &str = "quota.pending_invitations_per_organization";

/// `reason.invalid`.
pub(crate) const REASON_INVALID: &str = "reason.invalid";
/// `reason.missing`.
pub(crate) const REASON_MISSING: &str = "reason.missing";

/// `request.body_timeout`.
pub(crate) const REQUEST_BODY_TIMEOUT: &str = "request.body_timeout";
/// `request.body_too_large`.
pub(crate) const REQUEST_BODY_TOO_LARGE: &str = "request.body_too_large";
/// `request.malformed`.
pub(crate) const REQUEST_MALFORMED: &str = "request.malformed";
/// `request.malformed_query`.
pub(crate) const REQUEST_MALFORMED_QUERY: &str = "request.malformed_query";
/// `request.unsupported_media_type`.
pub(crate) const REQUEST_UNSUPPORTED_MEDIA_TYPE: &str = "request.unsupported_media_type";
/// `request.validation`.
pub(crate) const REQUEST_VALIDATION: &str = "request.validation";

/// `resource.profile.doesnt_exist_or_not_editable`.
pub(crate) const RESOURCE_PROFILE_DOESNT_EXIST_OR_NOT_EDITABLE: &str = "resource.profile.doesnt_exist_or_not_editable";
/// `resource.profile.exists`.
pub(crate) const RESOURCE_PROFILE_EXISTS: &str = "resource.profile.exists";
/// `resource.profile.rejected_final`.
pub(crate) const RESOURCE_PROFILE_REJECTED_FINAL: &str = "resource.profile.rejected_final";

/// `service.internal`.
pub(crate) const SERVICE_INTERNAL: &str = "service.internal";
/// `service.unavailable`.
pub(crate) const SERVICE_UNAVAILABLE: &str = "service.unavailable";

/// `state.invalid`.
pub(crate) const STATE_INVALID: &str = "state.invalid";

/// `storage.failed`.
pub(crate) const STORAGE_FAILED: &str = "storage.failed";
/// `storage.missing`.
pub(crate) const STORAGE_MISSING: &str = "storage.missing";
/// `storage.unavailable`.
pub(crate) const STORAGE_UNAVAILABLE: &str = "storage.unavailable";

/// `upload.busy`.
pub(crate) const UPLOAD_BUSY: &str = "upload.busy";
/// `upload.content_mismatch`.
pub(crate) const UPLOAD_CONTENT_MISMATCH: &str = "upload.content_mismatch";
/// `upload.content_type_mismatch`.
pub(crate) const UPLOAD_CONTENT_TYPE_MISMATCH: &str = "upload.content_type_mismatch";
/// `upload.dimensions`.
pub(crate) const UPLOAD_DIMENSIONS: &str = "upload.dimensions";
/// `upload.in_progress`.
pub(crate) const UPLOAD_IN_PROGRESS: &str = "upload.in_progress";
/// `upload.not_found`.
pub(crate) const UPLOAD_NOT_FOUND: &str = "upload.not_found";
/// `upload.signature_invalid`.
pub(crate) const UPLOAD_SIGNATURE_INVALID: &str = "upload.signature_invalid";
/// `upload.ticket_invalid`.
pub(crate) const UPLOAD_TICKET_INVALID: &str = "upload.ticket_invalid";
/// `upload.too_large`.
pub(crate) const UPLOAD_TOO_LARGE: &str = "upload.too_large";
/// `upload.unsupported_type`.
pub(crate) const UPLOAD_UNSUPPORTED_TYPE: &str = "upload.unsupported_type";
/// `upload.url_expired`.
pub(crate) const UPLOAD_URL_EXPIRED: &str = "upload.url_expired";

/// `user.discord_id_taken`.
pub(crate) const USER_DISCORD_ID_TAKEN: &str = "user.discord_id_taken";
/// `user.erase_own_account`.
pub(crate) const USER_ERASE_OWN_ACCOUNT: &str = "user.erase_own_account";
/// `user.not_found`.
pub(crate) const USER_NOT_FOUND: &str = "user.not_found";
/// `user.username_taken`.
pub(crate) const USER_USERNAME_TAKEN: &str = "user.username_taken";

/// `user_id.invalid`.
pub(crate) const USER_ID_INVALID: &str = "user_id.invalid";

/// `webhook.delivery_not_found`.
pub(crate) const WEBHOOK_DELIVERY_NOT_FOUND: &str = "webhook.delivery_not_found";
/// `webhook.delivery_pending`.
pub(crate) const WEBHOOK_DELIVERY_PENDING: &str = "webhook.delivery_pending";
/// `webhook.limit_reached`.
pub(crate) const WEBHOOK_LIMIT_REACHED: &str = "webhook.limit_reached";
/// `webhook.not_found`.
pub(crate) const WEBHOOK_NOT_FOUND: &str = "webhook.not_found";

/// Every code above.
#[cfg(test)]
pub(crate) const ALL: &[&str] = &[
    ADMIN_LAST_SUPERUSER,
    ADMIN_PROFILES_CONFLICT,
    ADMIN_PROFILES_DOESNT_EXIST,
    ADMIN_PROFILES_DOESNT_EXIST_OR_NOT_EDITABLE,
    ADMIN_PROFILES_OWN_PROFILE,
    ADMIN_PROFILES_SECOND_ADMIN_APPROVAL,
    ADMIN_USER_DOESNT_EXIST,
    AUTH_ACCOUNT_ERASED,
    AUTH_EMAIL_MISSING,
    AUTH_FORBIDDEN,
    AUTH_INVALID_TOKEN,
    AUTH_MISSING_TOKEN,
    AUTH_SUPERUSER_REQUIRED,
    AUTH_UNAUTHORIZED,
    AUTH_USER_GONE,
    AVATAR_UPLOAD_TRIES_EXHAUSTED,
    DISCORD_NOT_CONFIGURED,
    DISCORD_RATE_LIMITED,
    DISCORD_UNAUTHORIZED,
    DISCORD_UNAVAILABLE,
    DISCORD_USER_NOT_FOUND,
    HTTP_ERROR,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_NOT_FOUND,
    INVITATION_ACCEPT_RATE_LIMITED,
    INVITATION_ALREADY_MEMBER,
    INVITATION_BLOCKED,
    INVITATION_CONFLICT,
    INVITATION_EMAIL_MISMATCH,
    INVITATION_EMAIL_UNVERIFIED,
    INVITATION_EXPIRED,
    INVITATION_EXTERNAL_MEMBER,
    INVITATION_NOT_FOUND,
    INVITATION_NOT_PENDING,
    INVITATION_OPEN_LINK,
    INVITATION_PREVIEW_RATE_LIMITED,
    INVITATION_REJECTED,
    INVITATION_REVOKED,
    INVITATION_USED_UP,
    INVITATION_WOULD_WIDEN,
    INVITATION_WRONG_PERSON,
    NOTE_INVALID,
    ORGANIZATION_BEYOND_OWN_TERM,
    ORGANIZATION_CONFLICT,
    ORGANIZATION_FORBIDDEN,
    ORGANIZATION_LAST_ADMIN,
    ORGANIZATION_LOGO_UPLOAD_TRIES_EXHAUSTED,
    ORGANIZATION_MEMBER_NOT_FOUND,
    ORGANIZATION_NOT_FOUND,
    ORGANIZATION_NOT_MEMBER,
    ORGANIZATION_OUT_OF_SCOPE,
    ORGANIZATION_ROLE_NOT_ALLOWED,
    ORGANIZATION_ZONE_NAME_TAKEN,
    ORGANIZATION_ZONE_NOT_FOUND,
    PHOTO_ALREADY_DECIDED,
    PHOTO_CONFLICT,
    PHOTO_DISCORD_NOT_FETCHED,
    PHOTO_DISCORD_NOT_LINKED,
    PHOTO_NO_PENDING_VERIFICATION,
    PHOTO_NOT_FOUND,
    PHOTO_OWN_VERIFICATION,
    PHOTO_REJECTED_FINAL,
    PICTURE_FORBIDDEN,
    PROFILE_KEY_UNAVAILABLE,
    QUOTA_EMAILS_PER_ORGANIZATION_PER_HOUR,
    QUOTA_EMAILS_PER_RECIPIENT_PER_DAY,
    QUOTA_EXCEEDED,
    QUOTA_ORGANIZATIONS_PER_USER_PER_DAY,
    QUOTA_PENDING_INVITATIONS_PER_ORGANIZATION,
    REASON_INVALID,
    REASON_MISSING,
    REQUEST_BODY_TIMEOUT,
    REQUEST_BODY_TOO_LARGE,
    REQUEST_MALFORMED,
    REQUEST_MALFORMED_QUERY,
    REQUEST_UNSUPPORTED_MEDIA_TYPE,
    REQUEST_VALIDATION,
    RESOURCE_PROFILE_DOESNT_EXIST_OR_NOT_EDITABLE,
    RESOURCE_PROFILE_EXISTS,
    RESOURCE_PROFILE_REJECTED_FINAL,
    SERVICE_INTERNAL,
    SERVICE_UNAVAILABLE,
    STATE_INVALID,
    STORAGE_FAILED,
    STORAGE_MISSING,
    STORAGE_UNAVAILABLE,
    UPLOAD_BUSY,
    UPLOAD_CONTENT_MISMATCH,
    UPLOAD_CONTENT_TYPE_MISMATCH,
    UPLOAD_DIMENSIONS,
    UPLOAD_IN_PROGRESS,
    UPLOAD_NOT_FOUND,
    UPLOAD_SIGNATURE_INVALID,
    UPLOAD_TICKET_INVALID,
    UPLOAD_TOO_LARGE,
    UPLOAD_UNSUPPORTED_TYPE,
    UPLOAD_URL_EXPIRED,
    USER_DISCORD_ID_TAKEN,
    USER_ERASE_OWN_ACCOUNT,
    USER_NOT_FOUND,
    USER_USERNAME_TAKEN,
    USER_ID_INVALID,
    WEBHOOK_DELIVERY_NOT_FOUND,
    WEBHOOK_DELIVERY_PENDING,
    WEBHOOK_LIMIT_REACHED,
    WEBHOOK_NOT_FOUND,
];

/// Codes no operation documents, and why: bare statuses the middleware
/// renders (no handler answers with them by design) and the 500 that is
/// always a bug, never a promise.
#[cfg(test)]
pub(crate) const UNDOCUMENTED: &[&str] = &[
    // A 401/403 not raised by the service's own checks (e.g. a wrapped
    // library's bare status); the service's own carry a specific code.
    AUTH_UNAUTHORIZED,
    AUTH_FORBIDDEN,
    // Any other bare error status.
    HTTP_ERROR,
    // Another method on a documented path: the path's operations are the contract.
    HTTP_METHOD_NOT_ALLOWED,
    // A quota the mapping does not know by name (each known one has its code).
    QUOTA_EXCEEDED,
    // Always a bug.
    SERVICE_INTERNAL,
];
