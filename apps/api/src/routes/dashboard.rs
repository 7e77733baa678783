//! The web dashboard: the static files of `apps/dashboard/`, embedded in the
//! binary with `include_bytes!` and served under `/dashboard/` with a strict
//! Content-Security-Policy. There is no build step: [`ASSETS`] lists every
//! file by hand, and a test fails when a file is added to the directory but
//! not to the table (or the other way round). One asset comes from outside:
//! the typed client's fetch wrapper, served as `api/usher-client.js`.
//!
//! - `GET /dashboard` → 308 to `/dashboard/`
//! - `GET /dashboard/` and `GET /dashboard/invite` → `index.html` (the
//!   invitation landing page is a screen of the same single-page app)
//! - `GET /dashboard/config.json` → how the page signs people in ([`super::sign_in`])
//! - `GET /dashboard/{file}` → the asset with its content type, or 404
//!
//! These routes stay out of the OpenAPI document: they are not part of the
//! API contract. A wrong method on them falls through to the fallback, which
//! answers 404 as for any path the OpenAPI document does not know.

use crate::codes;
use crate::error::ApiError;
use crate::settings::{Settings, StorageKind};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

/// One embedded file: its path below `apps/dashboard/` and its bytes.
pub type Asset = (&'static str, &'static [u8]);

/// Every file of `apps/dashboard/`, by path relative to that directory.
pub const ASSETS: &[Asset] = &[
    ("index.html", include_bytes!("../../../dashboard/index.html")),
    ("style.css", include_bytes!("../../../dashboard/style.css")),
    ("favicon.svg", include_bytes!("../../../dashboard/favicon.svg")),
    ("app.js", include_bytes!("../../../dashboard/app.js")),
    ("dom.js", include_bytes!("../../../dashboard/dom.js")),
    ("oidc.js", include_bytes!("../../../dashboard/oidc.js")),
    ("api/client.js", include_bytes!("../../../dashboard/api/client.js")),
    // The typed client's wrapper, which the dashboard's client builds on.
    (SHARED_CLIENT, include_bytes!("../../../../clients/typescript/index.js")),
    ("api/users.js", include_bytes!("../../../dashboard/api/users.js")),
    ("api/organizations.js", include_bytes!("../../../dashboard/api/organizations.js")),
    ("api/invitations.js", include_bytes!("../../../dashboard/api/invitations.js")),
    ("api/profiles.js", include_bytes!("../../../dashboard/api/profiles.js")),
    ("api/photos.js", include_bytes!("../../../dashboard/api/photos.js")),
    ("api/admin.js", include_bytes!("../../../dashboard/api/admin.js")),
    ("screens/signin.js", include_bytes!("../../../dashboard/screens/signin.js")),
    ("screens/me.js", include_bytes!("../../../dashboard/screens/me.js")),
    ("screens/photos.js", include_bytes!("../../../dashboard/screens/photos.js")),
    ("screens/users.js", include_bytes!("../../../dashboard/screens/users.js")),
    ("screens/kyc.js", include_bytes!("../../../dashboard/screens/kyc.js")),
    ("screens/profiles.js", include_bytes!("../../../dashboard/screens/profiles.js")),
    ("screens/profile-form.js", include_bytes!("../../../dashboard/screens/profile-form.js")),
    ("screens/org-shared.js", include_bytes!("../../../dashboard/screens/org-shared.js")),
    ("screens/orgs.js", include_bytes!("../../../dashboard/screens/orgs.js")),
    ("screens/org-admin.js", include_bytes!("../../../dashboard/screens/org-admin.js")),
    ("screens/org-admin/members.js", include_bytes!("../../../dashboard/screens/org-admin/members.js")),
    ("screens/org-admin/blocks.js", include_bytes!("../../../dashboard/screens/org-admin/blocks.js")),
    ("screens/org-admin/invitations.js", include_bytes!("../../../dashboard/screens/org-admin/invitations.js")),
    ("screens/org-admin/zones.js", include_bytes!("../../../dashboard/screens/org-admin/zones.js")),
    ("screens/org-admin/settings.js", include_bytes!("../../../dashboard/screens/org-admin/settings.js")),
    ("screens/org-admin/activity.js", include_bytes!("../../../dashboard/screens/org-admin/activity.js")),
    ("screens/org-admin/webhooks.js", include_bytes!("../../../dashboard/screens/org-admin/webhooks.js")),
    ("screens/invite.js", include_bytes!("../../../dashboard/screens/invite.js")),
];

/// Where the dashboard serves the typed client's fetch wrapper
/// (`clients/typescript/index.js`): the one asset from outside `apps/dashboard/`.
pub const SHARED_CLIENT: &str = "api/usher-client.js";

/// The embedded file at `path`, if there is one.
pub fn asset(path: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(p, _)| *p == path).map(|(_, bytes)| *bytes)
}

/// The content type of a dashboard file, from its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// The response headers of every dashboard file, computed once from settings.
#[derive(Clone, Debug)]
pub struct DashboardPolicy {
    csp: HeaderValue,
}

impl DashboardPolicy {
    /// The policy for this configuration: images may also come from the
    /// public storage origin, the Discord CDN and `data:` (the invitation QR
    /// code); uploads (`fetch` PUTs) may also go to the storage endpoint, and
    /// the sign-in to the identity provider's origin.
    pub fn from_settings(settings: &Settings, public_url: &str) -> Self {
        let mut img = vec!["'self'".to_owned()];
        let mut connect = vec!["'self'".to_owned()];
        match &settings.storage.kind {
            StorageKind::Local(_) => {
                // Upload URLs and file URLs name the public URL, which may be
                // another origin than the one the browser used for the page.
                if let Some(origin) = origin(public_url) {
                    img.push(origin.clone());
                    connect.push(origin);
                }
            }
            StorageKind::S3(s3) => {
                if let Some(origin) = origin(&s3.public_base_url) {
                    img.push(origin);
                }
                if let Some(origin) = origin(&s3.endpoint) {
                    connect.push(origin);
                }
            }
        }
        // The provider's token endpoint, which the page calls after the
        // redirect back (on the issuer's origin, as providers put it).
        if let Some(origin) = settings.auth.oidc.as_ref().and_then(|o| origin(&o.issuer)) {
            connect.push(origin);
        }
        img.push("https://cdn.discordapp.com".to_owned());

        // The invitation QR code: the server's SVG shown as an image, where
        // SVG can run no script and load nothing.
        img.push("data:".to_owned());
        img.dedup();
        connect.dedup();
        let csp = format!(
            "default-src 'self'; img-src {}; connect-src {}; frame-ancestors 'none'; base-uri 'none'; \
             form-action 'self'; object-src 'none'",
            img.join(" "),
            connect.join(" ")
        );
        // `origin` only lets through characters that are valid in a header.
        let csp = HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static(FALLBACK_CSP));
        Self { csp }
    }

    /// The Content-Security-Policy value.
    pub fn csp(&self) -> &HeaderValue {
        &self.csp
    }
}

/// The policy when the computed one cannot be a header (never expected).
const FALLBACK_CSP: &str = "default-src 'self'; img-src 'self' https://cdn.discordapp.com data:; frame-ancestors 'none'; \
                            base-uri 'none'; form-action 'self'; object-src 'none'";

/// `scheme://host[:port]` of an http(s) URL; `None` for anything else, or
/// when the host part holds a character that could break out of the policy.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    // Userinfo never belongs in a source expression.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    (!authority.is_empty() && authority.chars().all(safe)).then(|| format!("{scheme}://{}", authority.to_lowercase()))
}

/// Registers the dashboard routes (on the plain actix app: they are not in the OpenAPI document).
pub fn configure(cfg: &mut web::ServiceConfig) {
    // The sign-in configuration first: `{file:.+}` would take its path.
    cfg.configure(super::sign_in::configure);
    cfg.route("/dashboard", web::get().to(redirect))
        .route("/dashboard/", web::get().to(index))
        .route("/dashboard/invite", web::get().to(index))
        .route("/dashboard/{file:.+}", web::get().to(file));
}

async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/dashboard/")).finish()
}

async fn index(policy: web::Data<DashboardPolicy>) -> Result<HttpResponse, ApiError> {
    serve(&policy, "index.html")
}

async fn file(policy: web::Data<DashboardPolicy>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&policy, &path)
}

fn serve(policy: &DashboardPolicy, path: &str) -> Result<HttpResponse, ApiError> {
    let bytes =
        asset(path).ok_or_else(|| ApiError::not_found(codes::HTTP_NOT_FOUND, format!("no dashboard file {path:?}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type(path)))
        .insert_header((header::CONTENT_SECURITY_POLICY, policy.csp().clone()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        // Small files that change with the binary: always revalidate.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{S3Storage, Secret};
    use std::collections::BTreeSet;
    use std::path::Path;

    fn files_below(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("reading apps/dashboard") {
            let entry = entry.expect("a directory entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if entry.file_type().expect("a file type").is_dir() {
                files_below(&entry.path(), &rel, out);
            } else {
                out.insert(rel);
            }
        }
    }

    #[test]
    fn every_dashboard_file_is_embedded_and_nothing_else() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dashboard");
        let mut on_disk = BTreeSet::new();
        files_below(&dir, "", &mut on_disk);
        on_disk.insert(SHARED_CLIENT.to_owned());
        let listed: BTreeSet<String> = ASSETS.iter().map(|(p, _)| (*p).to_owned()).collect();
        assert_eq!(listed.len(), ASSETS.len(), "a file is listed twice in ASSETS");
        let missing: Vec<_> = on_disk.difference(&listed).collect();
        assert!(missing.is_empty(), "add these files to ASSETS in routes/dashboard.rs: {missing:?}");
        let stale: Vec<_> = listed.difference(&on_disk).collect();
        assert!(stale.is_empty(), "ASSETS lists files that do not exist: {stale:?}");
        for (path, _) in ASSETS {
            assert_ne!(content_type(path), "application/octet-stream", "{path} has no known content type");
        }
    }

    #[test]
    fn origins_keep_scheme_host_and_port_only() {
        assert_eq!(origin("https://cdn.example.com/bucket/x").as_deref(), Some("https://cdn.example.com"));
        assert_eq!(origin("http://127.0.0.1:8080").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(origin("HTTPS://User:pw@S3.Example.com:9000?x").as_deref(), Some("https://s3.example.com:9000"));
        assert_eq!(origin("ftp://x.example.com"), None);
        assert_eq!(origin("https://evil.com; script-src *"), None);
        assert_eq!(origin("https://"), None);
    }

    #[test]
    fn the_policy_names_the_storage_origins() {
        let mut settings = Settings::default();
        let local = DashboardPolicy::from_settings(&settings, "http://127.0.0.1:3000");
        let csp = local.csp().to_str().expect("ascii");
        assert!(
            csp.starts_with(
                "default-src 'self'; img-src 'self' http://127.0.0.1:3000 https://cdn.discordapp.com data:;"
            )
        );
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:3000;"));
        assert!(csp.contains("frame-ancestors 'none'; base-uri 'none'; form-action 'self'"));

        settings.storage.kind = StorageKind::S3(S3Storage {
            endpoint: "https://acct.r2.cloudflarestorage.com".into(),
            bucket: "usher".into(),
            region: "auto".into(),
            access_key_id: "id".into(),
            secret_access_key: Secret::new("secret"),
            public_base_url: "https://img.example.com/avatars".into(),
        });
        let s3 = DashboardPolicy::from_settings(&settings, "https://usher.example.com");
        let csp = s3.csp().to_str().expect("ascii");
        assert!(csp.contains("img-src 'self' https://img.example.com https://cdn.discordapp.com data:;"), "{csp}");
        assert!(csp.contains("connect-src 'self' https://acct.r2.cloudflarestorage.com;"), "{csp}");
    }
}
