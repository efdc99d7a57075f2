//! [`Account`]: a registered and signed-in user of the API suites, and [`register`] that makes one.

use reqwest::StatusCode;
use serde_json::json;

use super::TestApp;
use super::http::send;

pub struct Account {
    pub email: String,
    pub password: String,
    pub access: String,
    pub refresh: String,
    pub id: i64,
}

pub async fn register(app: &TestApp, name: &str) -> Account {
    let email = super::email();
    let password = "correct horse battery".to_owned();
    let (status, body) = send(
        app.client
            .post(app.url("/api/auth/register"))
            .json(&json!({"email": email, "password": password, "name": name})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = send(
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Account {
        email,
        password,
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        id: body["user"]["id"].as_i64().unwrap(),
    }
}
