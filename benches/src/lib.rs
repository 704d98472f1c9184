//! Benchmarks of Vault: criterion benches in `benches/`, and the HTTP load bench
//! (`benches/load.sh`, binary `vault-load`) whose parts live here.

pub mod baseline;
pub mod client;
pub mod pgbench;
pub mod seed;
pub mod wrk;
