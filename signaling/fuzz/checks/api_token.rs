//! The property the `api_token` fuzz target and `api/tests/fuzz_regressions.rs` both check:
//! any string presented as an access token is either accepted with claims for our issuer and
//! audience, or refused as `Unauthorized` / `TokenExpired`; nothing panics, nothing is an
//! internal error. The service is a real `TokenService` over the in-process cache.

use std::sync::OnceLock;

use mm_api::{ApiConfig, Cache, Error, Secret, TokenService};

/// The fixed key the seed tokens in the corpus are signed with (not a deployment key).
pub const FUZZ_KEY: &[u8; 32] = b"mini-meeting-fuzz-key-0123456789";

/// The token service every input goes through, and a runtime to drive it.
pub fn service() -> &'static (TokenService, tokio::runtime::Runtime) {
    static S: OnceLock<(TokenService, tokio::runtime::Runtime)> = OnceLock::new();
    S.get_or_init(|| {
        let config = ApiConfig::new(Secret::new(FUZZ_KEY.to_vec()).expect("32-byte key"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        (TokenService::new(&config, Cache::memory()), rt)
    })
}

/// Verifies `data` (lossily decoded: a header value is bytes) as an access token.
pub fn check(data: &[u8]) {
    let token = String::from_utf8_lossy(data);
    let (svc, rt) = service();
    match rt.block_on(svc.verify_access(&token)) {
        Ok(claims) => {
            assert_eq!(claims.iss, "mini-meeting");
            assert_eq!(claims.aud, "mini-meeting");
        }
        Err(Error::Unauthorized | Error::TokenExpired) => {}
        Err(e) => panic!("unexpected error for {token:?}: {e:?}"),
    }
}
