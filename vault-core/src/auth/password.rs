//! argon2id hashing off the async executor, bounded by a semaphore, with a dummy hash so that
//! unknown users cost the same time as wrong passwords.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::config::PasswordHashParams;
use crate::error::{Error, Result};

/// Hashes and verifies passwords. Cheap to share; each operation takes one permit, so at most
/// `concurrency` hashes run at once whatever the request load.
#[derive(Debug)]
pub struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
    params: PasswordHashParams,
    permits: Arc<Semaphore>,
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
            None,
        )
        .map_err(|e| Error::Config(format!("argon2 parameters: {e}")))?;
        Ok(Self {
            argon: Arc::new(Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                argon_params,
            )),
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
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
        let salt = SaltString::encode_b64(&salt).map_err(Error::internal)?;
        let password = password.to_owned();
        let argon = Arc::clone(&self.argon);
        self.blocking(move || {
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(Error::internal)
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
        let argon = Arc::clone(&self.argon);
        let matches = self
            .blocking(move || {
                let parsed = PasswordHash::new(&hash).map_err(Error::internal)?;
                Ok(argon.verify_password(password.as_bytes(), &parsed).is_ok())
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

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(Error::internal)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
