//! HTTP helpers of the API suites: send a request, read the JSON error code.

use reqwest::StatusCode;
use serde_json::Value;

/// Status and JSON body (Null when the body is empty or not JSON).
pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}
