//! argon2id hashing on dedicated low-priority threads, with a dummy hash so that unknown users
//! cost the same time as wrong passwords.
//!
//! Hashes run on `concurrency` threads of their own rather than on the async executor or tokio's
//! blocking pool, for three reasons:
//!
//! - **Priority.** On Linux the hashing threads run `nice` steps below the server (see
//!   [`crate::config::HashingConfig::nice`]), so when a login flood and ordinary requests
//!   compete for the cores, the scheduler lets the executor threads in at once instead of after
//!   a full time slice of argon2: hashing gets the CPU time the other requests leave over.
//! - **Placement** (opt-in: [`crate::config::HashingConfig::pinned`]). With fewer hashing
//!   threads than CPUs, they can also be kept on the last `concurrency` of the CPUs the server
//!   may use. Left to move, the scheduler kept bouncing the busy hashing thread onto whichever
//!   CPU was serving requests at the moment: on two cores, `me`'s p99 during a login flood was
//!   ~2 ms against ~0.2 ms quiet; pinned, 0.16–0.35 ms, with more logins served too. Other
//!   threads may still use those CPUs; the load balancer just moves them away while hashing
//!   keeps them busy. It is off by default because where a process's threads run is the
//!   host's decision (CPU quotas, cpusets), not a library's.
//! - **Memory.** Each hash needs `memory_kib` of working memory (19 MiB by default). Allocating
//!   it per hash from `spawn_blocking` threads leaves glibc holding freed 19 MiB chunks in one
//!   arena per thread that ever hashed — hundreds of MiB of resident memory after a burst of
//!   logins. Each hashing thread instead keeps one buffer and reuses it, so the memory held for
//!   hashing is bounded by `concurrency × memory_kib`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex, PoisonError};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, OnceCell, Semaphore};

use crate::config::PasswordHashParams;
use crate::error::{Error, Result};

/// Length of the raw hash stored in the PHC string (argon2's default).
const OUTPUT_LEN: usize = 32;

/// Work for a hashing thread, given that thread's argon2 working memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes and verifies passwords. Cheap to share; each operation takes one permit, so at most
/// `concurrency` hashes run at once whatever the request load. The hashing threads end when
/// the hasher is dropped.
#[derive(Debug)]
pub struct PasswordHasher {
    argon_params: Params,
    params: PasswordHashParams,
    permits: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    dummy: OnceCell<String>,
}

impl PasswordHasher {
    /// A hasher with these parameters and at most `concurrency` hashes at a time, on threads
    /// of the server's own priority.
    ///
    /// # Errors
    /// [`Error::Config`] when argon2 refuses the parameters; [`Error::Internal`] when the OS
    /// refuses a thread.
    pub fn new(params: PasswordHashParams, concurrency: usize) -> Result<Self> {
        Self::with_nice(params, concurrency, 0)
    }

    /// Like [`Self::new`], with hashing threads `nice` steps below the priority of the thread
    /// that creates the hasher (Linux; see [`crate::config::HashingConfig::nice`]).
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn with_nice(params: PasswordHashParams, concurrency: usize, nice: i32) -> Result<Self> {
        Self::with_placement(params, concurrency, nice, false)
    }

    /// Like [`Self::with_nice`]; with `pinned`, the hashing threads are also kept on the last
    /// `concurrency` CPUs the creating thread may use, when that leaves at least one CPU
    /// without them (Linux; see [`crate::config::HashingConfig::pinned`]).
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn with_placement(
        params: PasswordHashParams,
        concurrency: usize,
        nice: i32,
        pinned: bool,
    ) -> Result<Self> {
        let argon_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(|e| Error::Config(format!("argon2 parameters: {e}")))?;
        let concurrency = concurrency.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let cpus = if pinned {
            Cpus::for_hashing(concurrency)
        } else {
            None
        };
        for n in 0..concurrency {
            let queue = Arc::clone(&queue);
            let cpus = cpus.clone();
            std::thread::Builder::new()
                .name(format!("vault-argon2-{n}"))
                .spawn(move || hashing_thread(&queue, nice, cpus.as_ref()))
                .map_err(Error::internal)?;
        }
        Ok(Self {
            argon_params,
            params,
            permits: Arc::new(Semaphore::new(concurrency)),
            jobs,
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

    /// Runs `work` on a hashing thread, with that thread's argon2 memory, once a permit is
    /// free. The permit travels with the job, so at most `concurrency` jobs are ever queued or
    /// running, and a request that gives up while waiting costs no hashing at all.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Box::new(move |blocks| {
                let _permit = permit;
                // The caller may have gone away; then nobody wants the result.
                let _ = done.send(work(blocks));
            }))
            .map_err(|_| Error::Internal("the password hashing threads have stopped".into()))?;
        result
            .await
            .map_err(|_| Error::Internal("a password hashing job panicked".into()))?
    }
}

/// The body of a hashing thread: lowers its priority, then runs jobs until the hasher is
/// dropped, reusing one argon2 buffer throughout.
fn hashing_thread(queue: &Mutex<mpsc::Receiver<Job>>, nice: i32, cpus: Option<&Cpus>) {
    lower_priority(nice);
    if let Some(cpus) = cpus {
        cpus.keep_calling_thread();
    }
    let mut blocks = Vec::new();
    loop {
        // A poisoned lock only means another thread panicked while waiting; the queue is fine.
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        // A panicking job drops its result sender (its caller gets an error); the thread and
        // its buffer carry on.
        if catch_unwind(AssertUnwindSafe(|| job(&mut blocks))).is_err() {
            tracing::error!("a password hashing job panicked");
        }
    }
}

/// The CPUs hashing threads are kept on (Linux; elsewhere never made).
#[derive(Clone)]
struct Cpus {
    #[cfg(target_os = "linux")]
    set: rustix::thread::CpuSet,
}

impl Cpus {
    /// The last `concurrency` of the CPUs the calling thread may run on, or `None` when that
    /// would be all of them (or they cannot be read).
    fn for_hashing(concurrency: usize) -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            use rustix::thread::{sched_getaffinity, CpuSet};
            let allowed = sched_getaffinity(None).ok()?;
            let usable: Vec<usize> = (0..CpuSet::MAX_CPU)
                .filter(|&cpu| allowed.is_set(cpu))
                .collect();
            let first = usable.len().checked_sub(concurrency).filter(|&n| n > 0)?;
            let mut set = CpuSet::new();
            for &cpu in &usable[first..] {
                set.set(cpu);
            }
            Some(Self { set })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = concurrency;
            None
        }
    }

    /// Restricts the calling thread to these CPUs (a warning if the OS refuses).
    fn keep_calling_thread(&self) {
        #[cfg(target_os = "linux")]
        if let Err(error) = rustix::thread::sched_setaffinity(None, &self.set) {
            tracing::warn!(%error, "could not keep a password hashing thread on its CPUs");
        }
    }
}

/// Lowers the calling thread's scheduling priority by `nice` steps (Linux, where `nice` values
/// are per thread); elsewhere does nothing.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice > 0 {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let lowered = getpriority_process(me)
            .and_then(|current| setpriority_process(me, (current + nice).min(19)));
        if let Err(error) = lowered {
            tracing::warn!(%error, "could not lower the priority of a password hashing thread");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
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

    fn small() -> PasswordHashParams {
        PasswordHashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    /// However many hashes run, at most `concurrency` memory buffers ever exist, each reused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_buffers_are_bounded_by_concurrency() {
        let hasher = Arc::new(PasswordHasher::new(small(), 2).unwrap());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..12 {
            let hasher = Arc::clone(&hasher);
            tasks.spawn(async move {
                hasher.hash(&format!("password-{i}")).await.unwrap();
                hasher
                    .blocking(|blocks| Ok((blocks.as_ptr() as usize, blocks.len())))
                    .await
                    .unwrap()
            });
        }
        let mut buffers = std::collections::HashSet::new();
        while let Some(done) = tasks.join_next().await {
            let (address, len) = done.unwrap();
            // The probe may land on the other thread before that one has hashed anything (an
            // empty buffer); a thread that has hashed keeps its whole buffer.
            if len == 0 {
                continue;
            }
            assert_eq!(len, 1024, "a hashing thread's buffer is kept between jobs");
            buffers.insert(address);
        }
        assert!(
            (1..=2).contains(&buffers.len()),
            "{} buffers",
            buffers.len()
        );
    }

    /// Hashing threads run `nice` steps below the thread that made the hasher; the executor's
    /// own threads keep their priority.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_a_lower_priority() {
        use rustix::process::getpriority_process;
        let own = getpriority_process(None).unwrap();
        let nice_of_hashing_thread = |hasher: PasswordHasher| async move {
            hasher
                .blocking(|_| Ok(getpriority_process(Some(rustix::thread::gettid())).unwrap()))
                .await
                .unwrap()
        };
        let lowered = PasswordHasher::with_nice(small(), 1, 7).unwrap();
        assert_eq!(nice_of_hashing_thread(lowered).await, (own + 7).min(19));
        let same = PasswordHasher::new(small(), 1).unwrap();
        assert_eq!(nice_of_hashing_thread(same).await, own);
        assert_eq!(getpriority_process(None).unwrap(), own);
        let hash = PasswordHasher::with_nice(small(), 1, 19)
            .unwrap()
            .hash("sturdy-quokka-2931")
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
    }

    /// Pinned hashing threads run on the last `concurrency` usable CPUs when that leaves some
    /// CPU free of them; otherwise (and unpinned) they may use every CPU the creator may.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn pinned_hashing_threads_keep_to_the_last_cpus() {
        use rustix::thread::{sched_getaffinity, CpuSet};
        let cpus_of = |set: &CpuSet| -> Vec<usize> {
            (0..CpuSet::MAX_CPU)
                .filter(|&cpu| set.is_set(cpu))
                .collect()
        };
        let usable = cpus_of(&sched_getaffinity(None).unwrap());
        let cpus_of_hashing_thread = |hasher: PasswordHasher| async move {
            hasher
                .blocking(move |_| Ok(cpus_of(&sched_getaffinity(None).unwrap())))
                .await
                .unwrap()
        };
        let pinned = PasswordHasher::with_placement(small(), 1, 0, true).unwrap();
        let expected = if usable.len() > 1 {
            usable[usable.len() - 1..].to_vec()
        } else {
            usable.clone()
        };
        assert_eq!(cpus_of_hashing_thread(pinned).await, expected);
        // As many threads as CPUs: nothing to keep free, so no pinning.
        let everywhere = PasswordHasher::with_placement(small(), usable.len(), 0, true).unwrap();
        assert_eq!(cpus_of_hashing_thread(everywhere).await, usable);
        let unpinned = PasswordHasher::with_nice(small(), 1, 0).unwrap();
        assert_eq!(cpus_of_hashing_thread(unpinned).await, usable);
        // The creating thread keeps its own CPUs.
        assert_eq!(cpus_of(&sched_getaffinity(None).unwrap()), usable);
    }

    /// A job that panics fails its own caller only; the thread keeps serving.
    #[tokio::test]
    async fn a_panicking_job_does_not_stop_the_hashing_thread() {
        let hasher = PasswordHasher::new(small(), 1).unwrap();
        let failed = hasher
            .blocking::<()>(|_| panic!("simulated bug in a hashing job"))
            .await
            .unwrap_err();
        assert!(matches!(failed, Error::Internal(_)), "{failed:?}");
        let hash = hasher.hash("sturdy-quokka-2931").await.unwrap();
        assert!(hasher
            .verify("sturdy-quokka-2931", Some(&hash))
            .await
            .unwrap());
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
