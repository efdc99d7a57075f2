//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth_routes, health_routes, meeting_routes, user_routes};
use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(title = "Mini Meeting API", description = "REST API of Mini Meeting. Errors are always \
        `{\"error\":{\"code\",\"message\"}}`; `code` is stable."),
    paths(
        auth_routes::register,
        auth_routes::login,
        auth_routes::refresh,
        auth_routes::logout,
        user_routes::me,
        meeting_routes::create,
        meeting_routes::list,
        meeting_routes::get,
        meeting_routes::end,
        meeting_routes::participants,
        meeting_routes::host_actions,
        meeting_routes::guest,
        health_routes::healthz,
        health_routes::readyz,
        health_routes::metrics,
        health_routes::openapi,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "users", description = "Users"),
        (name = "meetings", description = "Meetings and their participants"),
        (name = "operations", description = "Probes, metrics, documentation"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the operations refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
