//! The server serves the built web app: files, `index.html` for client-side routes, and JSON
//! errors (never the app) under `/api`.

mod common;

use common::{Backend, TestServer};

#[tokio::test]
async fn serves_the_web_app_with_a_client_side_route_fallback() {
    let dir = std::env::temp_dir().join(format!("mm-web-{}", common::rand_suffix()));
    std::fs::create_dir_all(dir.join("web/assets")).unwrap();
    std::fs::write(
        dir.join("web/index.html"),
        "<!doctype html><div id=root></div>",
    )
    .unwrap();
    std::fs::write(dir.join("web/assets/app.js"), "console.log(1)").unwrap();
    let s = TestServer::start_on(Backend::Sqlite, &dir).await;
    let http = reqwest::Client::new();

    let page = http
        .get(format!("{}/meeting/abc-defg-hij", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("id=root"));

    let js = http
        .get(format!("{}/assets/app.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );

    let api = http
        .get(format!("{}/api/nothing-here", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    s.stop().await;
}

#[tokio::test]
async fn without_a_build_it_says_how_to_make_one() {
    let s = TestServer::start(Backend::Sqlite).await;
    let res = reqwest::get(format!("{}/dashboard", s.base)).await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("npm run build"));
    s.stop().await;
}
