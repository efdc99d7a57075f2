//! The API suites' harness: `api_tests!` runs each test on both backends; `app` serves one.

use crate::common::{Backend, TestApp, spawn_app};

/// Expands each listed `async fn name(backend)` of the crate root into `sqlite::name` and
/// `postgres::name` tests.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::common::Backend::Postgres).await;
                }
            )*
        }
    };
}

pub async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app(backend, |_| {}).await
}
