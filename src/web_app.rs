//! Serves the built web app: files from `web/dist`, and `index.html` for client-side routes
//! such as `/meeting/abc-defg-hij`. Unknown `/api/...` paths never reach this; they get the
//! API's JSON 404.

use std::path::Path;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Html;
use tower_http::services::{ServeDir, ServeFile};

/// The fallback router for everything that is not API, WebSocket or operations.
pub fn router(web_dir: &Path) -> Router {
    let index = web_dir.join("index.html");
    if index.is_file() {
        let files = ServeDir::new(web_dir).fallback(ServeFile::new(index));
        Router::new().fallback_service(files)
    } else {
        tracing::warn!(dir = %web_dir.display(), "web app not built; serving a notice instead");
        Router::new().fallback(|| async {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(concat!(
                    "<!doctype html><title>Mini Meeting</title>",
                    "<p>The web app is not built. Run <code>./run.sh</code>, or ",
                    "<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, ",
                    "then reload. The API is at <a href=\"/api/docs\">/api/docs</a>.</p>"
                )),
            )
        })
    }
}
