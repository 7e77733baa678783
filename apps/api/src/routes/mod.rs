//! HTTP routes, one module per resource, named for its domain crate (as the
//! OpenAPI tags are). Handlers only extract and authenticate, call one use
//! case and map the result.

use crate::codes;
use crate::error::ApiError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

pub mod admin_users;
pub mod audit;
pub mod avatar;
pub mod dashboard;
pub mod events;
pub mod image_upload;
pub mod invitations;
pub mod organizations;
pub mod photo_verification;
pub mod privacy;
pub mod profile_verification;
pub mod service;
pub mod sidebar;
pub mod sign_in;
pub mod users;
pub mod webhooks;

/// Registers every route (and its OpenAPI path).
pub fn configure(cfg: &mut ServiceConfig) {
    service::configure(cfg);
    users::configure(cfg);
    avatar::configure(cfg);
    image_upload::configure(cfg);
    photo_verification::configure(cfg);
    privacy::configure(cfg);
    admin_users::configure(cfg);
    profile_verification::configure(cfg);
    organizations::configure(cfg);
    invitations::configure(cfg);
    events::configure(cfg);
    audit::configure(cfg);
    webhooks::configure(cfg);
    sidebar::configure(cfg);
}

/// Every documented path and its methods, so the fallback can tell a wrong
/// method (405 with `Allow`) from an unknown path (404).
#[derive(Clone, Debug, Default)]
pub struct KnownRoutes(Vec<(Vec<String>, Vec<String>)>);

impl KnownRoutes {
    /// Collects the paths of the generated OpenAPI document.
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let methods = [
                    (item.get.is_some(), "GET"),
                    (item.post.is_some(), "POST"),
                    (item.put.is_some(), "PUT"),
                    (item.patch.is_some(), "PATCH"),
                    (item.delete.is_some(), "DELETE"),
                ]
                .into_iter()
                .filter(|(present, _)| *present)
                .map(|(_, m)| m.to_owned())
                .collect();
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods allowed on `path`, if it is a known path.
    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let wanted: Vec<&str> = path.split('/').collect();
        let matches = |pattern: &[String]| {
            pattern.len() == wanted.len()
                && pattern.iter().zip(&wanted).all(|(p, w)| (p.starts_with('{') && !w.is_empty()) || p == w)
        };
        let methods: Vec<String> =
            self.0.iter().filter(|(p, _)| matches(p)).flat_map(|(_, m)| m.iter().cloned()).collect();
        (!methods.is_empty()).then_some(methods)
    }
}

/// The fallback: 405 with `Allow` for a known path, else 404.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let allowed = req.app_data::<KnownRoutes>().and_then(|known| known.allowed(req.path()));
    match allowed {
        Some(methods) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::HTTP_METHOD_NOT_ALLOWED,
            "Method not allowed",
            format!("{} is not allowed on {}; use {}", req.method(), req.path(), methods.join(", ")),
        )
        .with_allow(methods.join(", "))),
        None => {
            Err(ApiError::not_found(codes::HTTP_NOT_FOUND, format!("no route for {} {}", req.method(), req.path())))
        }
    }
}

/// `/docs` → `/docs/`, where the Swagger UI lives.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_report_their_methods_and_templates_match_one_segment() {
        let known = KnownRoutes(vec![
            (vec!["".into(), "user".into(), "get".into()], vec!["POST".into()]),
            (vec!["".into(), "picture".into(), "{userId}".into()], vec!["GET".into()]),
        ]);
        assert_eq!(known.allowed("/user/get"), Some(vec!["POST".to_owned()]));
        assert_eq!(known.allowed("/picture/42"), Some(vec!["GET".to_owned()]));
        assert_eq!(known.allowed("/picture/"), None);
        assert_eq!(known.allowed("/user/get/x"), None);
    }
}
