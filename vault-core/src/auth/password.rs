//! argon2id hashing off the async executor, bounded by a semaphore, with a dummy hash so that
//! unknown users cost the same time as wrong passwords.
//!
//! Each hash needs `memory_kib` of working memory (19 MiB by default). Allocating it per hash
//! from `spawn_blocking` threads leaves glibc holding freed 19 MiB chunks in one arena per
//! thread that ever hashed — hundreds of MiB of resident memory after a burst of logins. So
//! the buffers are pooled: at most `concurrency` exist, each reused hash after hash, and the
//! memory held for hashing is bounded by `concurrency × memory_kib`.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::config::PasswordHashParams;
use crate::error::{Error, Result};

/// Length of the raw hash stored in the PHC string (argon2's default).
const OUTPUT_LEN: usize = 32;

/// Hashes and verifies passwords. Cheap to share; each operation takes one permit, so at most
/// `concurrency` hashes run at once whatever the request load.
#[derive(Debug)]
pub struct PasswordHasher {
    argon_params: Params,
    params: PasswordHashParams,
    permits: Arc<Semaphore>,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    dummy: OnceCell<String>,
}

impl PasswordHasher {
    /// A hasher with these parameters and at most `concurrency` hashes at a time.
    ///
    /// # Errors
    /// [`Error::Config`] when argon2 refuses the parameters.
    pub fn new(params: PasswordHashParams, concurrency: usize) -> Result<Self> {
        let argon_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(|e| Error::Config(format!("argon2 parameters: {e}")))?;
        Ok(Self {
            argon_params,
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            buffers: Arc::new(Mutex::new(Vec::new())),
            dummy: OnceCell::new(),
        })
    }

    /// Hashes a password into PHC format with a fresh random salt.
    ///
    /// # Errors
    /// [`Error::Internal`] if the OS random generator or argon2 fails.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(Error::internal)?;
        let password = password.to_owned();
        let params = self.argon_params.clone();
        self.blocking(move |blocks| {
            let raw = compute(&params, password.as_bytes(), &salt, blocks)?;
            let salt = SaltString::encode_b64(&salt).map_err(Error::internal)?;
            let phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(Error::internal)?,
                salt: Some(salt.as_salt()),
                hash: Some(raw),
            };
            Ok(phc.to_string())
        })
        .await
    }

    /// Verifies `password` against `hash`; with no hash (unknown user), verifies against a dummy
    /// hash of the same cost and returns `false`, so both cases take the same time.
    ///
    /// # Errors
    /// [`Error::Internal`] if hashing fails or a stored hash is corrupt.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let (hash, known) = match hash {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash().await?.to_owned(), false),
        };
        let password = password.to_owned();
        let matches = self
            .blocking(move |blocks| {
                let parsed = PasswordHash::new(&hash).map_err(Error::internal)?;
                if parsed.algorithm != Algorithm::Argon2id.ident()
                    || parsed
                        .version
                        .is_some_and(|v| v != u32::from(Version::V0x13))
                {
                    return Err(Error::Internal(format!(
                        "unsupported password hash {}",
                        parsed.algorithm
                    )));
                }
                let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
                    return Err(Error::Internal("password hash without salt or hash".into()));
                };
                let stored = Params::try_from(&parsed).map_err(Error::internal)?;
                let params = Params::new(
                    stored.m_cost(),
                    stored.t_cost(),
                    stored.p_cost(),
                    Some(expected.len()),
                )
                .map_err(Error::internal)?;
                let mut salt_bytes = [0u8; 64];
                let salt = salt.decode_b64(&mut salt_bytes).map_err(Error::internal)?;
                let computed = compute(&params, password.as_bytes(), salt, blocks)?;
                // `Output` compares in constant time.
                Ok(computed == expected)
            })
            .await?;
        Ok(known && matches)
    }

    /// Whether a stored hash was made with other parameters than the configured ones (it is
    /// then re-hashed at the next successful login).
    pub fn needs_rehash(&self, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm.as_str() != "argon2id"
            || params.m_cost() != self.params.memory_kib
            || params.t_cost() != self.params.iterations
            || params.p_cost() != self.params.parallelism
    }

    async fn dummy_hash(&self) -> Result<&str> {
        self.dummy
            .get_or_try_init(|| self.hash("vault-dummy-password-for-unknown-users"))
            .await
            .map(String::as_str)
    }

    /// Runs `work` on the blocking pool with a pooled argon2 memory buffer, once a permit is
    /// free.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        let buffers = Arc::clone(&self.buffers);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // A permit is held, so at most `concurrency` buffers are out at once; a poisoned
            // lock only means another hash panicked, the buffers themselves are fine.
            let mut blocks = buffers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop()
                .unwrap_or_default();
            let result = work(&mut blocks);
            buffers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(blocks);
            result
        })
        .await
        .map_err(Error::internal)?
    }
}

/// argon2id of `password` and `salt` with `params`, in `blocks` (grown when too small).
fn compute(
    params: &Params,
    password: &[u8],
    salt: &[u8],
    blocks: &mut Vec<Block>,
) -> Result<Output> {
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    let mut out = vec![0u8; params.output_len().unwrap_or(OUTPUT_LEN)];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..needed])
        .map_err(Error::internal)?;
    Output::new(&out).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes computed in pooled memory are ordinary PHC argon2id strings: the argon2 crate's
    /// own verifier accepts ours, and ours accepts its (hashes stored before the pool existed).
    #[tokio::test]
    async fn pooled_hashes_are_interchangeable_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let params = PasswordHashParams::default();
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(
                params.memory_kib,
                params.iterations,
                params.parallelism,
                None,
            )
            .unwrap(),
        );
        let hasher = PasswordHasher::new(params, 2).unwrap();

        let ours = hasher.hash("sturdy-quokka-2931").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(reference
            .verify_password(b"sturdy-quokka-2931", &parsed)
            .is_ok());
        assert!(reference
            .verify_password(b"sturdy-quokka-2932", &parsed)
            .is_err());

        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = reference
            .hash_password(b"sturdy-quokka-2931", &salt)
            .unwrap()
            .to_string();
        assert!(hasher
            .verify("sturdy-quokka-2931", Some(&theirs))
            .await
            .unwrap());
        assert!(!hasher
            .verify("sturdy-quokka-2932", Some(&theirs))
            .await
            .unwrap());
        let argon2i = theirs.replace("$argon2id$", "$argon2i$");
        assert!(hasher
            .verify("sturdy-quokka-2931", Some(&argon2i))
            .await
            .is_err());
    }

    /// However many hashes run, at most `concurrency` memory buffers ever exist.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_buffers_are_bounded_by_concurrency() {
        let hasher = Arc::new(
            PasswordHasher::new(
                PasswordHashParams {
                    memory_kib: 1024,
                    iterations: 1,
                    parallelism: 1,
                },
                2,
            )
            .unwrap(),
        );
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..12 {
            let hasher = Arc::clone(&hasher);
            tasks.spawn(async move { hasher.hash(&format!("password-{i}")).await });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap().unwrap();
        }
        let pooled = hasher.buffers.lock().unwrap();
        assert!((1..=2).contains(&pooled.len()), "{} buffers", pooled.len());
        assert!(pooled.iter().all(|b| b.len() == 1024));
    }

    #[tokio::test]
    async fn hashes_with_argon2id_at_owasp_minimum_and_verifies() {
        let hasher = PasswordHasher::new(PasswordHashParams::default(), 1).unwrap();
        let hash = hasher.hash("sturdy-quokka-2931").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher
            .verify("sturdy-quokka-2931", Some(&hash))
            .await
            .unwrap());
        assert!(!hasher
            .verify("sturdy-quokka-2932", Some(&hash))
            .await
            .unwrap());
        assert!(!hasher.verify("sturdy-quokka-2931", None).await.unwrap());
        assert!(!hasher.needs_rehash(&hash));
        let stronger = PasswordHasher::new(
            PasswordHashParams {
                memory_kib: 19_456,
                iterations: 3,
                parallelism: 1,
            },
            1,
        )
        .unwrap();
        assert!(stronger.needs_rehash(&hash));
    }
}
