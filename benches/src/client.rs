//! A small blocking HTTP/1.1 client with keep-alive, for seeding a server through its API and
//! for the fault drivers: tens of thousands of requests on a few connections, so no port runs
//! out of `TIME_WAIT`.

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

/// A response: status, body text and the headers the load drivers look at.
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// The `Content-Type` header, empty when absent.
    pub content_type: String,
    /// Whether the server said `Connection: close` (the connection cannot be reused).
    pub close: bool,
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
        Self::connect_with_timeout(addr, Duration::from_secs(60))
    }

    /// Connects to `addr`; a response that takes longer than `timeout` to read is an error.
    ///
    /// # Errors
    /// When the connection fails.
    pub fn connect_with_timeout(addr: SocketAddr, timeout: Duration) -> Result<Self> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connect to {addr}"))?;
        stream.set_read_timeout(Some(timeout))?;
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
        let content_type = (!body.is_empty()).then_some("application/json");
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("authorization", value.as_str()))
            .collect();
        self.request(method, path, &headers, content_type, body.as_bytes())
    }

    /// Sends a request with these extra headers and a body of `content_type` (none when
    /// `None`) and reads the response, which must carry a `Content-Length`. The reply's
    /// [`Reply::content_type`] is kept.
    ///
    /// # Errors
    /// I/O errors and malformed responses.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Reply> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(content_type) = content_type {
            head.push_str(&format!("content-type: {content_type}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;

        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {line:?}"))?;
        let mut length = None;
        let mut content_type = String::new();
        let mut close = false;
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
                let value = value.trim();
                if name == "content-length" {
                    length = Some(value.parse::<usize>()?);
                } else if name == "content-type" {
                    content_type = value.to_string();
                } else if name == "connection" {
                    close = value.eq_ignore_ascii_case("close");
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
            content_type,
            close,
        })
    }
}
