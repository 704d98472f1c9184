//! The fault driver behind `benches/faults/*.sh` (see `vault_benches::faults`):
//!
//! ```text
//! vault-faults pg-outage <axum|poem> <outage seconds>   (VAULT_FAULT_PG_STOP, VAULT_FAULT_PG_START)
//! vault-faults kill9 <axum|poem> <sqlite|postgres> <kills> <clients> <min ms> <max ms>
//! vault-faults soak <axum|poem> <seconds>
//! ```
//!
//! The scripts build it with the example servers and pass the arguments; PostgreSQL runs use
//! a fresh database on `VAULT_TEST_POSTGRES_URL`. Exit status: 0 when every promise held, 2
//! when one broke, 1 when the run itself failed.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use vault_benches::faults::{kill9, outage, soak};

fn number(args: &[String], at: usize, name: &str) -> Result<u64> {
    let text = args.get(at).with_context(|| format!("missing <{name}>"))?;
    text.parse()
        .with_context(|| format!("<{name}> {text:?} is not a number"))
}

fn run(args: &[String]) -> Result<bool> {
    let adapter = args.get(1).cloned().unwrap_or_else(|| "axum".into());
    match args.first().map(String::as_str) {
        Some("pg-outage") => {
            let var = |name: &str| {
                std::env::var(name).with_context(|| format!("{name} (a shell command) is unset"))
            };
            outage::run(&outage::Options {
                adapter,
                stop: var("VAULT_FAULT_PG_STOP")?,
                start: var("VAULT_FAULT_PG_START")?,
                outage: Duration::from_secs(number(args, 2, "outage seconds")?),
            })
        }
        Some("kill9") => kill9::run(&kill9::Options {
            adapter,
            database: args.get(2).cloned().unwrap_or_else(|| "sqlite".into()),
            kills: usize::try_from(number(args, 3, "kills")?)?,
            clients: usize::try_from(number(args, 4, "clients")?)?,
            before_kill_ms: (number(args, 5, "min ms")?, number(args, 6, "max ms")?),
        }),
        Some("soak") => soak::run(&adapter, Duration::from_secs(number(args, 2, "seconds")?)),
        _ => bail!("usage: vault-faults pg-outage|kill9|soak <adapter> ... (see benches/faults/)"),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => {
            println!("\nevery promise held");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("\nSOME PROMISE BROKE (see FAILED above)");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
