//! Seeding a running server through its public API, the way a real client fills it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};

use crate::client::Conn;

/// The password of every seeded account.
pub const PASSWORD: &str = "sturdy-quokka-2931";

/// The word searched by the `search` scenario: one resource in a hundred carries it.
pub const RARE_WORD: &str = "zeppelin";

/// How many distinct tags an owner's resources draw their three tags from.
const TAGS: usize = 50;

/// Filler words for bodies, so the full-text index holds realistic posting lists.
const WORDS: [&str; 16] = [
    "ownership",
    "borrow",
    "lifetime",
    "trait",
    "async",
    "future",
    "index",
    "query",
    "schema",
    "token",
    "vault",
    "note",
    "paper",
    "draft",
    "review",
    "summary",
];

/// Registers `username` and returns its access token.
///
/// # Errors
/// When the server refuses.
pub fn register(addr: SocketAddr, username: &str) -> Result<String> {
    let mut conn = Conn::connect(addr)?;
    let body = json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": PASSWORD,
    });
    let reply = conn
        .send("POST", "/api/auth/register", None, Some(&body))?
        .expect(201, "register")?;
    access_of(&reply)
}

/// Logs `username` in and returns a fresh access token.
///
/// # Errors
/// When the server refuses.
pub fn login(addr: SocketAddr, username: &str) -> Result<String> {
    let mut conn = Conn::connect(addr)?;
    let body = json!({"username": username, "password": PASSWORD});
    let reply = conn
        .send("POST", "/api/auth/token", None, Some(&body))?
        .expect(200, "login")?;
    access_of(&reply)
}

fn access_of(reply: &Value) -> Result<String> {
    reply["access"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no access token in {reply}"))
}

/// The body of resource number `i`: three tags out of [`TAGS`], filler words, and
/// [`RARE_WORD`] when `i` is a multiple of 100.
fn resource(i: usize) -> Value {
    let word = |k: usize| WORDS[(i / 7 + k * 5) % WORDS.len()];
    let mut body = format!(
        "Resource {i} on {} and {}, with a {} of the {}.",
        word(0),
        word(1),
        word(2),
        word(3)
    );
    if i % 100 == 0 {
        body.push_str(" Mentions the ");
        body.push_str(RARE_WORD);
        body.push('.');
    }
    json!({
        "kind": "note",
        "title": format!("Resource {i}: {}", word(4)),
        "body": body,
        "tags": [
            format!("tag{:02}", i % TAGS),
            format!("tag{:02}", (i / 3 + 17) % TAGS),
            format!("tag{:02}", (i / 11 + 31) % TAGS),
        ],
        "favorite": i % 10 == 0,
    })
}

/// Sends requests numbered `from..to` on `threads` keep-alive connections, `send(conn, i)`
/// sending number `i`; each number is sent once.
///
/// # Errors
/// The first refused request or I/O error.
fn spread<F>(addr: SocketAddr, from: usize, to: usize, threads: usize, send: F) -> Result<()>
where
    F: Fn(&mut Conn, usize) -> Result<()> + Send + Sync + 'static,
{
    let next = Arc::new(AtomicUsize::new(from));
    let send = Arc::new(send);
    let workers: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let next = Arc::clone(&next);
            let send = Arc::clone(&send);
            thread::spawn(move || -> Result<()> {
                let mut conn = Conn::connect(addr)?;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= to {
                        return Ok(());
                    }
                    send(&mut conn, i)?;
                }
            })
        })
        .collect();
    join_all(workers)
}

/// Creates resources numbered `from..to` for the holder of `token`, on `threads` keep-alive
/// connections.
///
/// # Errors
/// The first refused request or I/O error.
pub fn resources(
    addr: SocketAddr,
    token: &str,
    from: usize,
    to: usize,
    threads: usize,
) -> Result<()> {
    let token = token.to_string();
    spread(addr, from, to, threads, move |conn, i| {
        conn.send("POST", "/api/resources", Some(&token), Some(&resource(i)))?
            .expect(201, "create resource")
            .map(drop)
    })
}

/// Creates a deck named `name` for the holder of `token` and returns its id.
///
/// # Errors
/// When the server refuses.
pub fn deck(addr: SocketAddr, token: &str, name: &str) -> Result<String> {
    let mut conn = Conn::connect(addr)?;
    let body = json!({"name": name, "description": format!("{name}, seeded by the load bench")});
    let reply = conn
        .send("POST", "/api/decks", Some(token), Some(&body))?
        .expect(201, "create deck")?;
    id_of(&reply)
}

/// Creates `count` cards in `deck` for the holder of `token`, on `threads` keep-alive
/// connections, and returns their ids in creation order.
///
/// # Errors
/// The first refused request or I/O error.
pub fn cards(
    addr: SocketAddr,
    token: &str,
    deck: &str,
    count: usize,
    threads: usize,
) -> Result<Vec<String>> {
    let ids = Arc::new(Mutex::new(vec![String::new(); count]));
    let path = format!("/api/decks/{deck}/cards");
    let token = token.to_string();
    let filled = Arc::clone(&ids);
    spread(addr, 0, count, threads, move |conn, i| {
        let word = WORDS[i % WORDS.len()];
        let body = json!({
            "front": format!("Card {i}: what does {word} mean?"),
            "back": format!("The meaning of {word}, number {i}."),
        });
        let reply = conn
            .send("POST", &path, Some(&token), Some(&body))?
            .expect(201, "create card")?;
        let id = id_of(&reply)?;
        filled
            .lock()
            .map_err(|_| anyhow!("a seeding thread panicked"))?[i] = id;
        Ok(())
    })?;
    let ids = ids
        .lock()
        .map_err(|_| anyhow!("a seeding thread panicked"))?;
    Ok(ids.clone())
}

/// The answers of [`reviews`]' rounds, in turn: the first review of a card is `again`, so a
/// card reviewed once is in learning and due a minute later.
const RATINGS: [&str; 7] = ["again", "good", "good", "hard", "good", "easy", "good"];

/// Reviews each of `cards` (owned by the holder of `token`) `rounds` times through
/// `POST /api/cards/{id}/reviews`, round by round (round `r` answers `RATINGS[r % 7]`), on
/// `threads` keep-alive connections.
///
/// # Errors
/// The first refused request or I/O error.
pub fn reviews(
    addr: SocketAddr,
    token: &str,
    cards: &[String],
    rounds: usize,
    threads: usize,
) -> Result<()> {
    let token = token.to_string();
    let paths: Vec<String> = cards.iter().map(|id| review_path(id)).collect();
    let count = paths.len();
    spread(addr, 0, count * rounds, threads, move |conn, i| {
        let body = json!({
            "rating": RATINGS[(i / count) % RATINGS.len()],
            "duration_ms": 2_000 + (i % 7) * 500,
        });
        conn.send("POST", &paths[i % count], Some(&token), Some(&body))?
            .expect(201, "review card")
            .map(drop)
    })
}

/// The path of `POST /api/cards/{id}/reviews`.
pub fn review_path(card: &str) -> String {
    format!("/api/cards/{card}/reviews")
}

fn id_of(reply: &Value) -> Result<String> {
    reply["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no id in {reply}"))
}

/// Registers `users` accounts named `other000…` and gives each `each` resources.
///
/// # Errors
/// The first refused request or I/O error.
pub fn other_users(addr: SocketAddr, users: usize, each: usize, threads: usize) -> Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let next = Arc::clone(&next);
            thread::spawn(move || -> Result<()> {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= users {
                        return Ok(());
                    }
                    let name = format!("other{n:03}");
                    let token = register(addr, &name).with_context(|| name.clone())?;
                    resources(addr, &token, 0, each, 1)?;
                }
            })
        })
        .collect();
    join_all(workers)
}

/// Waits for every seeding thread; the first error (or panic) wins.
fn join_all(workers: Vec<thread::JoinHandle<Result<()>>>) -> Result<()> {
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow!("a seeding thread panicked"))??;
    }
    Ok(())
}
