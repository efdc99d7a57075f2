//! Argon2id password hashing off the async runtime, with bounded concurrency.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU; running them on `spawn_blocking`
//! keeps the runtime responsive, and the semaphore keeps a login flood from exhausting memory.
//!
//! Memory bound: each permit owns one reusable 19 MiB block array, allocated on first use and
//! kept, so at most `max_concurrent * 19 MiB` of argon2 memory ever exists. Letting argon2
//! allocate per hash left the freed buffers in glibc's per-thread arenas of the blocking pool
//! (400 logins grew the process by 439 MiB).

use std::sync::{Arc, Mutex};

use argon2::password_hash::{
    Output, ParamsString, PasswordHash, PasswordVerifier, Salt, SaltString,
};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

/// Length of the stored hash output (argon2's default).
const OUTPUT_LEN: usize = 32;

/// One argon2 working area: `MEMORY_KIB` blocks of 1 KiB.
type Blocks = Vec<Block>;

fn new_blocks() -> Blocks {
    vec![Block::default(); MEMORY_KIB as usize]
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Working areas of idle permits; never more than the number of permits.
    blocks: Arc<Mutex<Vec<Blocks>>>,
    /// Verified against when the email is unknown, so that case costs the same as a wrong
    /// password and cannot be told apart by timing.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .unwrap_or_else(|_| unreachable!("constant argon2 parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str, blocks: &mut [Block]) -> Result<String> {
    let internal = |e: &dyn std::fmt::Display| Error::Internal(format!("password hashing: {e}"));
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt_string = SaltString::encode_b64(&salt).map_err(|e| internal(&e))?;
    let mut out = [0u8; OUTPUT_LEN];
    let argon2 = argon2();
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .map_err(|e| internal(&e))?;
    let hash = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|e| internal(&e))?,
        salt: Some(salt_string.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| internal(&e))?),
    };
    Ok(hash.to_string())
}

/// Recomputes with our own working area when the stored hash uses our parameters; any other
/// hash (other parameters, from an older release) goes through argon2's allocating path.
fn verify_blocking(password: &str, hash: &str, blocks: &mut [Block]) -> Result<bool> {
    let parsed =
        PasswordHash::new(hash).map_err(|e| Error::Internal(format!("stored hash: {e}")))?;
    let ours = argon2();
    let same_params = parsed.algorithm == ARGON2ID_IDENT
        && parsed
            .version
            .is_none_or(|v| v == u32::from(Version::V0x13))
        && Params::try_from(&parsed).is_ok_and(|p| {
            (p.m_cost(), p.t_cost(), p.p_cost())
                == (
                    ours.params().m_cost(),
                    ours.params().t_cost(),
                    ours.params().p_cost(),
                )
        });
    if let (true, Some(salt), Some(expected)) = (same_params, parsed.salt, parsed.hash)
        && expected.len() == OUTPUT_LEN
    {
        return verify_with(password, salt, expected, blocks);
    }
    Ok(ours.verify_password(password.as_bytes(), &parsed).is_ok())
}

fn verify_with(
    password: &str,
    salt: Salt<'_>,
    expected: Output,
    blocks: &mut [Block],
) -> Result<bool> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| Error::Internal(format!("stored salt: {e}")))?;
    let mut out = [0u8; OUTPUT_LEN];
    argon2()
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
        .map_err(|e| Error::Internal(format!("password verification: {e}")))?;
    // `Output` compares in constant time.
    Ok(Output::new(&out).is_ok_and(|computed| computed == expected))
}

impl PasswordHasher {
    /// Builds the hasher; computes the dummy hash now (one hash, on the calling thread).
    pub fn new(max_concurrent: usize) -> Result<Self> {
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let dummy = hash_blocking(&String::from_utf8_lossy(&random), &mut new_blocks())?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            blocks: Arc::new(Mutex::new(Vec::new())),
            dummy_hash: dummy.into(),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move |blocks| hash_blocking(&password, blocks))
            .await
    }

    /// Checks `password` against `hash`, or against the dummy hash when `hash` is `None`
    /// (unknown user): then the answer is always false but takes as long.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let password = password.to_owned();
        let matches = self
            .run(move |blocks| verify_blocking(&password, &hash, blocks))
            .await?;
        Ok(matches && known)
    }

    /// Runs `job` on the blocking pool with a permit and that permit's working area.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut [Block]) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password hasher closed".to_owned()))?;
        // Holding a permit, an idle area exists unless fewer were ever needed (or one was lost
        // to a panic): then this allocates the permit's area, once.
        let taken = self.idle_blocks().pop();
        let (blocks, result) = tokio::task::spawn_blocking(move || {
            let mut blocks = taken.unwrap_or_else(new_blocks);
            let result = job(&mut blocks);
            (blocks, result)
        })
        .await
        .map_err(|e| Error::Internal(format!("password task failed: {e}")))?;
        self.idle_blocks().push(blocks);
        result
    }

    fn idle_blocks(&self) -> std::sync::MutexGuard<'_, Vec<Blocks>> {
        self.blocks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = PasswordHasher::new(2).unwrap();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("correct horse", None).await.unwrap());
        // Working areas are reused: never more than the permits.
        assert!(hasher.idle_blocks().len() <= 2);
    }

    #[tokio::test]
    async fn hashes_of_argon2s_own_path_still_verify() {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let standard = argon2()
            .hash_password(b"pw one two", &salt)
            .unwrap()
            .to_string();
        let hasher = PasswordHasher::new(1).unwrap();
        assert!(hasher.verify("pw one two", Some(&standard)).await.unwrap());
        assert!(
            !hasher
                .verify("pw one three", Some(&standard))
                .await
                .unwrap()
        );
        // Other parameters take the fallback path.
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let weak = other
            .hash_password(b"pw one two", &salt)
            .unwrap()
            .to_string();
        assert!(hasher.verify("pw one two", Some(&weak)).await.unwrap());
    }
}
