//! In-process counters: the default backend, right for a single server instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use async_trait::async_trait;

use super::{gcra, Decision, Throttle};
use crate::config::Rate;
use crate::error::Result;

/// Counters in a mutex-protected map. Stale entries are swept as the map grows, so memory stays
/// proportional to the clients seen within one period.
#[derive(Debug)]
pub struct MemoryThrottle {
    started: Instant,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    tats: HashMap<String, u64>,
    next_sweep_len: usize,
}

impl Default for MemoryThrottle {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryThrottle {
    /// An empty set of counters.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            state: Mutex::new(State {
                tats: HashMap::new(),
                next_sweep_len: 1024,
            }),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn step(&self, key: &str, rate: Rate, commit: bool) -> Decision {
        let now = self.now_ms();
        // A poisoned lock only means another thread panicked mid-update of plain integers.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (decision, new_tat) = gcra(state.tats.get(key).copied(), now, rate);
        if commit {
            if let Some(tat) = new_tat {
                state.tats.insert(key.to_string(), tat);
            }
            if state.tats.len() >= state.next_sweep_len {
                // A tat in the past means the bucket is full again: the entry carries nothing.
                state.tats.retain(|_, tat| *tat > now);
                state.next_sweep_len = (state.tats.len() * 2).max(1024);
            }
        }
        decision
    }
}

#[async_trait]
impl Throttle for MemoryThrottle {
    async fn hit(&self, key: &str, rate: Rate) -> Result<Decision> {
        Ok(self.step(key, rate, true))
    }

    async fn peek(&self, key: &str, rate: Rate) -> Result<Decision> {
        Ok(self.step(key, rate, false))
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
}
