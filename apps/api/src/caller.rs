//! Who is calling: the `Authenticated` and `Superuser` extractors. They read
//! the bearer token, have [`crate::auth`] verify it and the user use cases
//! sign the caller in (provisioning on first sight); verification itself
//! knows nothing of requests or of the application state.

use crate::codes;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use shared_kernel::Actor;
use users::Identity;

/// The authenticated caller, provisioned on first sight.
#[derive(Clone, Copy, Debug)]
pub struct Authenticated(pub Actor);

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized(codes::AUTH_MISSING_TOKEN, "send `Authorization: Bearer <token>`"))?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized(codes::AUTH_INVALID_TOKEN, "the Authorization header is not text"))?;
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_owned())
        }
        _ => {
            Err(ApiError::unauthorized(codes::AUTH_MISSING_TOKEN, "the Authorization header must be `Bearer <token>`"))
        }
    }
}

/// A caller whose token is verified but who is not signed in yet: for a
/// route whose use case signs in over the read that answers it
/// (`/user/get`, `/user/update`, `/user/status`), which then reports the
/// caller with [`record`].
#[derive(Clone, Debug)]
pub struct Verified(pub Identity);

impl Verified {
    fn extract(req: &HttpRequest) -> impl Future<Output = Result<(Self, web::Data<AppState>), ApiError>> + 'static {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        async move {
            let state =
                state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state is not registered")))?;
            let identity = state.auth.verify(&token?).await.map_err(ApiError::from)?;
            Ok((Verified(identity), state))
        }
    }
}

impl FromRequest for Verified {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = Self::extract(req);
        Box::pin(async move { Ok(verified.await?.0) })
    }
}

/// Names the signed-in caller in the request's log span.
pub fn record(actor: &Actor) {
    tracing::Span::current().record("user_id", actor.user_id.get());
}

impl FromRequest for Authenticated {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = Verified::extract(req);
        Box::pin(async move {
            let (Verified(identity), state) = verified.await?;
            let actor = state.users.sign_in(&identity).await.map_err(ApiError::from)?;
            record(&actor);
            Ok(Authenticated(actor))
        })
    }
}

/// The authenticated caller, who must be a superuser (else 403 `auth.superuser_required`).
#[derive(Clone, Copy, Debug)]
pub struct Superuser(pub Actor);

impl FromRequest for Superuser {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let Authenticated(actor) = authenticated.await?;
            if !actor.is_superuser() {
                return Err(ApiError::forbidden(codes::AUTH_SUPERUSER_REQUIRED, "only a superuser may do this").into());
            }
            Ok(Superuser(actor))
        })
    }
}
