//! Capturing the ERROR log lines of the current thread, for tests that check what an adapter
//! logs (for instance that a 5xx is logged with the request id the client received).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The ERROR events seen since [`capture_errors`], as `(message, request_id)` pairs (empty
/// strings for a missing field).
#[derive(Clone, Default)]
pub struct ErrorLog(Arc<Mutex<Vec<(String, String)>>>);

impl ErrorLog {
    /// The events so far.
    pub fn events(&self) -> Vec<(String, String)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Routes this thread's events (at INFO and above, as the example servers log) to a fresh
/// [`ErrorLog`] until the guard drops. Use a current-thread runtime so that the whole request
/// runs on this thread.
pub fn capture_errors() -> (tracing::subscriber::DefaultGuard, ErrorLog) {
    let log = ErrorLog::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::INFO)
        .with(log.clone());
    (tracing::subscriber::set_default(subscriber), log)
}

#[derive(Default)]
struct Fields {
    message: String,
    request_id: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.request_id = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "request_id" => self.request_id = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for ErrorLog {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() == Level::ERROR {
            let mut fields = Fields::default();
            event.record(&mut fields);
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((fields.message, fields.request_id));
        }
    }
}
