//! The `baseline` scenario's server: a bare handler of the same framework and runtime as the
//! example servers (no auth, no database, no middleware) answering `GET /api/auth/me` with a
//! fixed JSON body — the ceiling the other figures are read against.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use bytes::Bytes;

/// Serves `body` on `bind` with `framework` (`axum` or `poem`) until killed, after logging
/// `listening on http://ADDR` on stdout like the example servers do.
///
/// # Errors
/// An unknown framework or a failure to listen.
pub async fn serve(framework: &str, bind: SocketAddr, body: Bytes) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("listen on {bind}"))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    match framework {
        "axum" => {
            let app = axum::Router::new().route(
                "/api/auth/me",
                axum::routing::get(move || {
                    let body = body.clone();
                    async move { ([(http::header::CONTENT_TYPE, "application/json")], body) }
                }),
            );
            axum::serve(listener, app).await?;
        }
        "poem" => {
            drop(listener);
            let app = poem::Route::new().at(
                "/api/auth/me",
                poem::get(poem::endpoint::make_sync(move |_| {
                    poem::Response::builder()
                        .content_type("application/json")
                        .body(body.clone())
                })),
            );
            poem::Server::new(poem::listener::TcpListener::bind(addr))
                .run(app)
                .await?;
        }
        other => bail!("unknown framework {other:?}: axum or poem"),
    }
    Ok(())
}
