//! Benchmarks of Vault: criterion benches in `benches/`, the HTTP load bench
//! (`benches/load.sh`, binary `vault-load`) and the fault scripts (`benches/faults/`, binary
//! `vault-faults`), whose parts live here.

pub mod baseline;
pub mod client;
pub mod faults;
pub mod pgbench;
pub mod seed;
pub mod wrk;
