//! The REST API as the web client uses it: accounts and meetings.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{BenchError, Result};

/// Tokens of a signed-in user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub access_token: String,
    pub refresh_token: String,
}

/// A meeting as the API returns it; fields we do not model stay in `extra`.
#[derive(Clone, Debug, Deserialize)]
pub struct Meeting {
    pub code: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
struct AuthBody {
    user: UserBody,
    access_token: String,
    refresh_token: String,
}

#[derive(Deserialize)]
struct UserBody {
    id: i64,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorFields,
}

#[derive(Deserialize)]
struct ErrorFields {
    code: String,
    message: String,
}

/// A small client for `/api`. Cheap to clone (shares the connection pool).
#[derive(Clone, Debug)]
pub struct ApiClient {
    base_url: String,
    http: reqwest::Client,
}

impl ApiClient {
    /// `base_url`: the server's HTTP address, e.g. `http://127.0.0.1:8080`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /api/auth/register` (202, the same for a new and a taken address), then
    /// [`login`](Self::login) with the same credentials, as the web client does. A taken
    /// address with another password therefore fails here with `invalid_credentials`.
    pub async fn register(&self, email: &str, password: &str, name: &str) -> Result<Session> {
        let body = json!({"email": email, "password": password, "name": name});
        check(
            self.request(Method::POST, "/api/auth/register", None)
                .json(&body)
                .send()
                .await?,
        )
        .await?;
        self.login(email, password).await
    }

    /// `POST /api/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session> {
        let body = json!({"email": email, "password": password});
        let auth: AuthBody = self
            .send(
                self.request(Method::POST, "/api/auth/login", None)
                    .json(&body),
            )
            .await?;
        Ok(auth.into())
    }

    /// `POST /api/meetings` (201).
    pub async fn create_meeting(&self, token: &str, title: &str) -> Result<Meeting> {
        let body = json!({"title": title});
        self.send(
            self.request(Method::POST, "/api/meetings", Some(token))
                .json(&body),
        )
        .await
    }

    /// `GET /api/meetings/{code}`.
    pub async fn get_meeting(&self, token: &str, code: &str) -> Result<Meeting> {
        self.send(self.request(Method::GET, &format!("/api/meetings/{code}"), Some(token)))
            .await
    }

    /// `POST /api/meetings/{code}/end`. Returns the body as JSON (`null` when empty).
    pub async fn end_meeting(&self, token: &str, code: &str) -> Result<Value> {
        let req = self.request(
            Method::POST,
            &format!("/api/meetings/{code}/end"),
            Some(token),
        );
        let resp = check(req.send().await?).await?;
        let text = resp.text().await?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET /api/meetings/{code}/participants`, as JSON (shape owned by the API).
    pub async fn participants(&self, token: &str, code: &str) -> Result<Value> {
        let path = format!("/api/meetings/{code}/participants");
        self.send(self.request(Method::GET, &path, Some(token)))
            .await
    }

    /// The signaling URL of this server (`ws://…/ws`).
    pub fn ws_url(&self) -> String {
        ws_url(&self.base_url)
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        Ok(check(req.send().await?).await?.json().await?)
    }
}

/// `http://host` -> `ws://host/ws`, `https://host` -> `wss://host/ws`.
pub fn ws_url(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let rest = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .unwrap_or_else(|| base.to_owned());
    format!("{rest}/ws")
}

/// Turns a non-2xx response into [`BenchError::Api`] with the server's code and message.
async fn check(resp: Response) -> Result<Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ErrorEnvelope>(&text) {
        Ok(e) => (e.error.code, e.error.message),
        Err(_) => (
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase()
                .replace(' ', "_"),
            text,
        ),
    };
    Err(BenchError::Api {
        status: status.as_u16(),
        code,
        message,
    })
}

impl From<AuthBody> for Session {
    fn from(a: AuthBody) -> Self {
        Session {
            user_id: a.user.id,
            access_token: a.access_token,
            refresh_token: a.refresh_token,
        }
    }
}

impl BenchError {
    /// The HTTP status of an API error.
    pub fn api_status(&self) -> Option<StatusCode> {
        match self {
            BenchError::Api { status, .. } => StatusCode::from_u16(*status).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_url_follows_the_scheme() {
        assert_eq!(ws_url("http://127.0.0.1:8080/"), "ws://127.0.0.1:8080/ws");
        assert_eq!(ws_url("https://meet.example"), "wss://meet.example/ws");
    }

    #[test]
    fn meeting_keeps_unknown_fields() {
        let m: Meeting = serde_json::from_str(
            r#"{"code":"abc-defg-hij","title":"t","status":"created","host_id":3}"#,
        )
        .unwrap();
        assert_eq!(m.code, "abc-defg-hij");
        assert_eq!(m.extra["host_id"], 3);
    }
}
