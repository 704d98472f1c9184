//! A small blocking HTTP/1.1 client with keep-alive, for seeding a server through its API:
//! tens of thousands of requests on a few connections, so no port runs out of `TIME_WAIT`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// One keep-alive connection.
pub struct Conn {
    addr: SocketAddr,
    stream: BufReader<TcpStream>,
}

/// A response: status and body text.
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Body text.
    pub body: String,
}

impl Reply {
    /// The body as JSON, if the status is `expected`.
    ///
    /// # Errors
    /// Another status, or a body that is not JSON.
    pub fn expect(self, expected: u16, what: &str) -> Result<Value> {
        if self.status != expected {
            bail!("{what}: status {} ({})", self.status, self.body);
        }
        serde_json::from_str(&self.body).with_context(|| format!("{what}: body is not JSON"))
    }
}

impl Conn {
    /// Connects to `addr`.
    ///
    /// # Errors
    /// When the connection fails.
    pub fn connect(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connect to {addr}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            addr,
            stream: BufReader::new(stream),
        })
    }

    /// Sends a request (a JSON body when `body` is given) and reads the response, which must
    /// carry a `Content-Length` (Vault's JSON responses do).
    ///
    /// # Errors
    /// I/O errors and malformed responses.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("content-type: application/json\r\n");
        }
        if let Some(token) = bearer {
            head.push_str(&format!("authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;

        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {line:?}"))?;
        let mut length = None;
        loop {
            line.clear();
            if self.stream.read_line(&mut line)? == 0 {
                bail!("connection closed in the middle of a response");
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "content-length" {
                    length = Some(value.trim().parse::<usize>()?);
                } else if name == "transfer-encoding" {
                    bail!("chunked responses are not supported by the seeding client");
                }
            }
        }
        let mut bytes = vec![0; length.unwrap_or(0)];
        self.stream.read_exact(&mut bytes)?;
        Ok(Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}
