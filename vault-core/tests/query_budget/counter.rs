//! The statement counter of the query-budget tests: a [`tracing_subscriber::Layer`] that counts
//! sqlx's `sqlx::query` events per probe span (see the suite's module documentation).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Instrument, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Name of the spans that delimit one measurement.
const PROBE: &str = "query_budget_probe";

/// The probe number, kept in the extensions of a probe span.
struct ProbeId(u64);

/// Reads the `summary` and `db.statement` fields of a statement event.
#[derive(Default)]
struct StatementText(String);

impl Visit for StatementText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" && self.0.is_empty() {
            self.0 = value.to_string();
        } else if field.name() == "db.statement" && !value.trim().is_empty() {
            self.0 = value.trim().to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "summary" && self.0.is_empty() {
            self.0 = format!("{value:?}");
        }
    }
}

/// Reads the `probe` field of a probe span.
struct ProbeField(Option<u64>);

impl Visit for ProbeField {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "probe" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}

/// Records the `sqlx::query` events under each probe span.
struct StatementCounter;

/// Statements seen so far, by probe number.
fn statements() -> &'static Mutex<HashMap<u64, Vec<String>>> {
    static STATEMENTS: OnceLock<Mutex<HashMap<u64, Vec<String>>>> = OnceLock::new();
    STATEMENTS.get_or_init(Mutex::default)
}

impl<S> Layer<S> for StatementCounter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        // Only what the counter needs: sqlx's statement events and the probe spans.
        metadata.target().starts_with("sqlx::query") || metadata.name() == PROBE
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != PROBE {
            return;
        }
        let mut field = ProbeField(None);
        attrs.record(&mut field);
        if let (Some(probe), Some(span)) = (field.0, ctx.span(id)) {
            span.extensions_mut().insert(ProbeId(probe));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !event.metadata().target().starts_with("sqlx::query") {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(ProbeId(probe)) = span.extensions().get::<ProbeId>() {
                let mut text = StatementText::default();
                event.record(&mut text);
                statements()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(*probe)
                    .or_default()
                    .push(text.0);
                return;
            }
        }
    }
}

/// Installs the counter as the process-wide subscriber (once per test binary).
pub(crate) fn install_counter() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(StatementCounter);
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this test binary");
    });
}

/// Runs `future` under a fresh probe span; returns its output and the statements it executed.
pub(crate) async fn measure<F: Future>(future: F) -> (F::Output, Vec<String>) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let probe = NEXT.fetch_add(1, Ordering::Relaxed);
    let output = future
        .instrument(tracing::info_span!("query_budget_probe", probe))
        .await;
    let executed = statements()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&probe)
        .unwrap_or_default();
    (output, executed)
}
