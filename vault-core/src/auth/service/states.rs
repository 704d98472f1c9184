//! The per-user state cache: each user's [`TokenState`] (revocation and the public account
//! fields) kept for `token_state_ttl`, so that verifying an access token and answering
//! `GET /auth/me` cost no database round trip on the hot path, while revocation and profile
//! changes still take effect on every instance within that bound (at once on the instance that
//! made them). `None` values (deleted users) are cached too. It holds domain values only and
//! is bounded in bytes (`auth.token_state_cache`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::auth::model::TokenState;
use crate::auth::store::AuthStore;
use crate::config::CacheConfig;
use crate::error::Result;

/// Per-user states, each with the time it was read.
pub(super) struct TokenStates {
    /// `None` when `token_state_ttl` is zero or the cache is off.
    cache: Option<quick_cache::sync::Cache<Uuid, ReadState, StateWeight>>,
    ttl: Duration,
}

/// A user's state (`None`: no such user), when it was read, and what it weighs in the cache.
#[derive(Clone)]
struct ReadState {
    read_at: Instant,
    state: Option<Arc<TokenState>>,
    bytes: u64,
}

/// Bytes an entry costs beyond its strings: the key, the entry, the `TokenState` behind its
/// `Arc`, and the cache's slot and index for it.
const ENTRY_OVERHEAD: usize =
    std::mem::size_of::<(Uuid, ReadState)>() + std::mem::size_of::<TokenState>() + 128;

/// An average entry, for sizing the cache's index.
const TYPICAL_ENTRY: u64 = 400;

impl ReadState {
    fn new(read_at: Instant, state: Option<Arc<TokenState>>) -> Self {
        let strings = state.as_deref().map_or(0, |s| {
            s.user.username.len() + s.user.email.len() + s.user.display_name.len()
        });
        Self {
            read_at,
            state,
            bytes: u64::try_from(strings + ENTRY_OVERHEAD).unwrap_or(u64::MAX),
        }
    }
}

/// Weighs state entries by the bytes they hold.
#[derive(Clone)]
struct StateWeight;

impl quick_cache::Weighter<Uuid, ReadState> for StateWeight {
    fn weight(&self, _user: &Uuid, read: &ReadState) -> u64 {
        read.bytes
    }
}

impl TokenStates {
    /// States kept for `ttl` within `cache`'s budget; no cache when either is off.
    pub(super) fn new(ttl: Duration, cache: CacheConfig) -> Self {
        let cache = cache.budget().filter(|_| !ttl.is_zero()).map(|bytes| {
            let items = usize::try_from(bytes / TYPICAL_ENTRY).unwrap_or(usize::MAX);
            quick_cache::sync::Cache::with_weighter(items.max(1), bytes, StateWeight)
        });
        Self { cache, ttl }
    }

    /// The user's state, from the cache when it was read within the TTL, else from the store.
    ///
    /// # Errors
    /// The store's.
    pub(super) async fn get(
        &self,
        store: &dyn AuthStore,
        user_id: Uuid,
    ) -> Result<Option<Arc<TokenState>>> {
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&user_id)) {
            // Older entries are read afresh below (and replaced).
            if hit.read_at.elapsed() < self.ttl {
                return Ok(hit.state);
            }
        }
        let read_at = Instant::now();
        let state = store.token_state(user_id).await?.map(Arc::new);
        if let Some(cache) = &self.cache {
            cache.insert(user_id, ReadState::new(read_at, state.clone()));
        }
        Ok(state)
    }

    /// Forgets a user's state on this instance at once (other instances wait out the TTL).
    pub(super) fn forget(&self, user_id: Uuid) {
        if let Some(cache) = &self.cache {
            cache.remove(&user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::auth::model::User;
    use crate::auth::store::MockAuthStore;
    use crate::principal::Role;

    fn state_of(id: Uuid, name_len: usize) -> TokenState {
        TokenState {
            token_version: 0,
            user: User {
                id,
                username: "u".repeat(name_len),
                email: "someone@example.com".into(),
                display_name: "d".repeat(name_len),
                role: Role::User,
                is_active: true,
                created_at: crate::time::now(),
            },
        }
    }

    fn store_of_users(name_len: usize) -> MockAuthStore {
        let mut store = MockAuthStore::new();
        store
            .expect_token_state()
            .returning(move |id| Ok(Some(state_of(id, name_len))));
        store
    }

    /// However many users are read, and however long their names, the cache holds no more
    /// bytes than its budget, and still serves recent users.
    #[tokio::test]
    async fn states_are_bounded_in_bytes() {
        let budget = 64 * 1024;
        let states = TokenStates::new(Duration::from_secs(60), CacheConfig::bounded(budget));
        let store = store_of_users(150);
        let cache = states.cache.as_ref().expect("on");
        for _ in 0..2_000 {
            let id = Uuid::now_v7();
            let read = states.get(&store, id).await.expect("read");
            assert_eq!(read.expect("a user").user.id, id);
            assert!(cache.weight() <= budget, "{} bytes", cache.weight());
        }
        let held = cache.len();
        assert!(held > 10 && held < 2_000, "{held} entries");
        // Each entry weighs at least the strings it holds.
        assert!(cache.weight() >= (held * 300) as u64);
    }

    /// Within the TTL a state is read once; after it, again; `forget` drops it at once.
    #[tokio::test]
    async fn states_live_for_the_ttl_unless_forgotten() {
        let id = Uuid::now_v7();
        let mut store = MockAuthStore::new();
        store
            .expect_token_state()
            .with(eq(id))
            .times(3)
            .returning(move |id| Ok(Some(state_of(id, 3))));
        let states = TokenStates::new(Duration::from_millis(200), CacheConfig::bounded(1 << 20));
        states.get(&store, id).await.expect("first read");
        states.get(&store, id).await.expect("cached");
        tokio::time::sleep(Duration::from_millis(250)).await;
        states.get(&store, id).await.expect("read after the TTL");
        states.forget(id);
        states.get(&store, id).await.expect("read after forget");
    }

    /// A zero TTL or a switched-off cache reads the store every time.
    #[tokio::test]
    async fn no_cache_reads_every_time() {
        for (ttl, cache) in [
            (Duration::ZERO, CacheConfig::bounded(1 << 20)),
            (Duration::from_secs(60), CacheConfig::off()),
        ] {
            let id = Uuid::now_v7();
            let mut store = MockAuthStore::new();
            store
                .expect_token_state()
                .with(eq(id))
                .times(2)
                .returning(|_| Ok(None));
            let states = TokenStates::new(ttl, cache);
            assert!(states.cache.is_none());
            assert!(states.get(&store, id).await.expect("read").is_none());
            assert!(states.get(&store, id).await.expect("read").is_none());
        }
    }
}
