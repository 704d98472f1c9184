//! In-process counters: the default backend, right for a single server instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::{gcra, gcra_refund, Decision, Throttle};
use crate::config::Rate;
use crate::error::Result;

/// What the map keys on: the first 128 bits of the SHA-256 of the caller's key, so an entry
/// has the same small size whatever key it counts.
type KeyDigest = [u8; 16];

/// Table bytes per bucket: a key digest, its theoretical arrival time, one control byte.
const BUCKET_BYTES: usize = std::mem::size_of::<(KeyDigest, u64)>() + 1;

/// How often, at most, a hit sweeps out entries whose budget is full again.
const SWEEP_EVERY_MS: u64 = 10_000;

/// The fewest entries a throttle may be limited to.
const MIN_ENTRIES: usize = 64;

/// Counters in a mutex-protected map of fixed-size entries, bounded by a number of entries.
///
/// Memory is bounded twice over:
/// - keys are stored as 128-bit digests, so a long key costs what a short one does;
/// - entries whose budget is full again carry nothing and are swept out at least every 10
///   seconds (on the next request), and the map never holds more than its maximum: when a new
///   key arrives at a full map, the entries closest to a full budget are evicted first (those
///   hold the least: one that spent a whole budget is the last to go). An evicted key starts
///   again with a full budget — a flood of new keys can make the throttle forget, never refuse
///   someone it has not counted.
///
/// [`MemoryThrottle::table_bytes`] tells the size of the table.
#[derive(Debug)]
pub struct MemoryThrottle {
    started: Instant,
    max_entries: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    tats: HashMap<KeyDigest, u64>,
    last_sweep: u64,
}

impl Default for MemoryThrottle {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryThrottle {
    /// An empty set of counters holding at most
    /// [`ThrottleConfig::memory_max_entries`](crate::config::ThrottleConfig::memory_max_entries)'s
    /// default.
    pub fn new() -> Self {
        Self::with_max_entries(crate::config::ThrottleConfig::default().memory_max_entries)
    }

    /// An empty set of counters holding at most `max_entries` keys (at least 64).
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            started: Instant::now(),
            max_entries: max_entries.max(MIN_ENTRIES),
            state: Mutex::new(State::default()),
        }
    }

    /// The most keys this throttle holds at once.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// How many keys are counted now.
    pub fn len(&self) -> usize {
        self.lock().tats.len()
    }

    /// Whether no key is counted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An upper bound of the bytes the counter table has allocated: its buckets (each a
    /// 16-byte key digest, an 8-byte time and a control byte) for the capacity it has grown
    /// to. Removals leave the table room to reuse, so it stays under about
    /// `max_entries × 120` bytes (typically half that).
    pub fn table_bytes(&self) -> usize {
        let capacity = self.lock().tats.capacity();
        if capacity == 0 {
            return 0;
        }
        // The table keeps at most 7 of 8 buckets full, has a power-of-two bucket count, and
        // one group (16) of control bytes more than it has buckets.
        let buckets = (capacity + capacity.div_ceil(7)).next_power_of_two();
        buckets * BUCKET_BYTES + 16
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update of plain integers.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn digest(key: &str) -> KeyDigest {
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&Sha256::digest(key.as_bytes())[..16]);
        digest
    }

    fn step(&self, key: &str, rate: Rate, commit: bool, now: u64) -> Decision {
        let digest = Self::digest(key);
        let mut state = self.lock();
        state.sweep_now_and_then(now);
        let (decision, new_tat) = gcra(state.tats.get(&digest).copied(), now, rate);
        if let (true, Some(tat)) = (commit, new_tat) {
            if !state.tats.contains_key(&digest) && state.tats.len() >= self.max_entries {
                state.make_room(now, self.max_entries);
            }
            state.tats.insert(digest, tat);
        }
        decision
    }

    fn give_back(&self, key: &str, rate: Rate, now: u64) {
        let digest = Self::digest(key);
        let mut state = self.lock();
        if let Some(&tat) = state.tats.get(&digest) {
            match gcra_refund(tat, now, rate) {
                Some(tat) => state.tats.insert(digest, tat),
                None => state.tats.remove(&digest),
            };
        }
    }
}

impl State {
    /// Drops the entries whose budget is full again (a theoretical arrival time not ahead of
    /// now carries nothing), at most every [`SWEEP_EVERY_MS`].
    fn sweep_now_and_then(&mut self, now: u64) {
        if now.saturating_sub(self.last_sweep) >= SWEEP_EVERY_MS {
            self.sweep(now);
        }
    }

    fn sweep(&mut self, now: u64) {
        self.last_sweep = now;
        self.tats.retain(|_, tat| *tat > now);
        // A burst of keys grows the table; give the memory back once they are gone.
        if self.tats.capacity() > 1024 && self.tats.len() * 4 < self.tats.capacity() {
            self.tats.shrink_to(self.tats.len() * 2);
        }
    }

    /// Frees room in a full map: first what is stale, then, if the map is still over seven
    /// eighths of `max_entries`, the entries with the earliest theoretical arrival times (the
    /// ones closest to a full budget) until it is not. Evicting an eighth at a time keeps the
    /// cost of the scan at O(1) per new key, amortized.
    fn make_room(&mut self, now: u64, max_entries: usize) {
        self.sweep(now);
        let keep = max_entries - max_entries / 8;
        if self.tats.len() < keep {
            return;
        }
        let excess = self.tats.len() - keep + 1;
        let mut tats: Vec<u64> = self.tats.values().copied().collect();
        let (_, threshold, _) = tats.select_nth_unstable(excess - 1);
        let threshold = *threshold;
        // Entries strictly below the threshold go; ties at it go until enough are gone.
        let mut at_threshold = excess - self.tats.values().filter(|t| **t < threshold).count();
        self.tats.retain(|_, tat| {
            if *tat < threshold {
                false
            } else if *tat == threshold && at_threshold > 0 {
                at_threshold -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[async_trait]
impl Throttle for MemoryThrottle {
    async fn hit(&self, key: &str, rate: Rate) -> Result<Decision> {
        Ok(self.step(key, rate, true, self.now_ms()))
    }

    async fn peek(&self, key: &str, rate: Rate) -> Result<Decision> {
        Ok(self.step(key, rate, false, self.now_ms()))
    }

    async fn refund(&self, key: &str, rate: Rate) -> Result<()> {
        self.give_back(key, rate, self.now_ms());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_per_key() {
        let throttle = MemoryThrottle::new();
        let rate = Rate::per_minute(2);
        assert_eq!(throttle.hit("a", rate).await.unwrap(), Decision::Allow);
        assert_eq!(throttle.peek("a", rate).await.unwrap(), Decision::Allow);
        assert_eq!(throttle.hit("a", rate).await.unwrap(), Decision::Allow);
        assert!(matches!(
            throttle.peek("a", rate).await.unwrap(),
            Decision::Deny { .. }
        ));
        assert!(matches!(
            throttle.hit("a", rate).await.unwrap(),
            Decision::Deny { .. }
        ));
        assert_eq!(throttle.hit("b", rate).await.unwrap(), Decision::Allow);
    }

    #[tokio::test]
    async fn a_refund_gives_one_request_back_to_that_key_only() {
        let throttle = MemoryThrottle::new();
        let rate = Rate::per_minute(2);
        for key in ["a", "b"] {
            for _ in 0..2 {
                assert_eq!(throttle.hit(key, rate).await.unwrap(), Decision::Allow);
            }
        }
        throttle.refund("a", rate).await.unwrap();
        throttle.refund("never-seen", rate).await.unwrap();
        assert_eq!(throttle.hit("a", rate).await.unwrap(), Decision::Allow);
        assert!(matches!(
            throttle.hit("a", rate).await.unwrap(),
            Decision::Deny { .. }
        ));
        assert!(matches!(
            throttle.hit("b", rate).await.unwrap(),
            Decision::Deny { .. }
        ));
        // Refunding everything leaves no entry behind, and no credit.
        for _ in 0..5 {
            throttle.refund("a", rate).await.unwrap();
        }
        assert_eq!(throttle.len(), 1, "only b is still counted");
        for _ in 0..2 {
            assert_eq!(throttle.hit("a", rate).await.unwrap(), Decision::Allow);
        }
        assert!(matches!(
            throttle.hit("a", rate).await.unwrap(),
            Decision::Deny { .. }
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_hits_never_overspend_a_budget() {
        let throttle = std::sync::Arc::new(MemoryThrottle::new());
        let rate = Rate::per_minute(10);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let throttle = std::sync::Arc::clone(&throttle);
                tokio::spawn(async move { throttle.hit("account", rate).await })
            })
            .collect();
        let mut allowed = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() == Decision::Allow {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 10);
    }

    #[test]
    fn long_keys_cost_what_short_keys_do() {
        let throttle = MemoryThrottle::new();
        let rate = Rate::per_minute(10);
        // 300 failed logins, each naming a different 1 MiB username.
        let mut name = "u".repeat(1 << 20);
        for i in 0..300u32 {
            name.replace_range(..4, &format!("{:04}", i));
            assert_eq!(throttle.step(&name, rate, true, 1_000), Decision::Allow);
        }
        assert_eq!(throttle.len(), 300);
        let bytes = throttle.table_bytes();
        assert!(
            bytes > 0 && bytes <= 512 * BUCKET_BYTES + 16,
            "{bytes} bytes"
        );
        assert!(bytes < 64 << 10, "{bytes} bytes for 300 MiB of keys");
    }

    #[test]
    fn stale_entries_are_swept_by_time() {
        let throttle = MemoryThrottle::new();
        let rate = Rate::per_minute(10);
        for i in 0..2_000 {
            throttle.step(&format!("client-{i}"), rate, true, 20_000);
        }
        assert_eq!(throttle.len(), 2_000);
        // Each entry is one interval (6 s) ahead; 10 s later all are full again, and the
        // next request, for any key, sweeps them.
        throttle.step("late", rate, true, 30_000);
        assert_eq!(throttle.len(), 1);
    }

    #[test]
    fn a_full_map_evicts_the_entries_closest_to_a_full_budget() {
        let throttle = MemoryThrottle::with_max_entries(100);
        let rate = Rate::per_minute(10);
        // The victim has spent its whole budget.
        for _ in 0..10 {
            assert_eq!(throttle.step("victim", rate, true, 0), Decision::Allow);
        }
        // A flood of fresh keys, each with one request, never grows the map past its bound.
        for i in 0..10_000 {
            throttle.step(&format!("flood-{i}"), rate, true, 1);
            assert!(throttle.len() <= 100);
        }
        assert!(
            throttle.table_bytes() <= 100 * 120,
            "{}",
            throttle.table_bytes()
        );
        // ...and the victim's spent budget was kept.
        assert!(matches!(
            throttle.step("victim", rate, true, 2),
            Decision::Deny { .. }
        ));
        // Newcomers are counted, not refused: the newest key was allowed and is still there.
        assert!(matches!(
            throttle.step("flood-9999", rate, false, 2),
            Decision::Allow
        ));
        assert!(throttle
            .lock()
            .tats
            .contains_key(&MemoryThrottle::digest("flood-9999")));
    }

    #[test]
    fn the_bound_has_a_floor() {
        assert_eq!(MemoryThrottle::with_max_entries(0).max_entries(), 64);
        assert_eq!(MemoryThrottle::with_max_entries(5_000).max_entries(), 5_000);
    }
}
