//! A minimal SMTP server on loopback for tests: accepts every message and
//! keeps it in memory. It speaks just enough of RFC 5321 for lettre
//! (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), without TLS or auth.

use std::sync::Arc;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

/// One received message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message as sent (headers and body).
    pub data: String,
}

/// A running sink; stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    // A watch, so that a test can wait for the mail it expects instead of
    // polling for it.
    messages: Arc<tokio::sync::watch::Sender<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let messages = Arc::new(tokio::sync::watch::Sender::new(Vec::new()));
        let store = messages.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    // A client that hangs up mid-session only loses its own message.
                    let _ = session(stream, store).await;
                });
            }
        });
        Ok(Self { port, messages, task })
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.messages.borrow().clone()
    }

    /// Waits, at most `limit`, until what was received satisfies `done`;
    /// whether it did.
    pub async fn wait_for(&self, limit: std::time::Duration, done: impl FnMut(&Vec<Received>) -> bool) -> bool {
        let mut received = self.messages.subscribe();
        tokio::time::timeout(limit, received.wait_for(done)).await.is_ok_and(|r| r.is_ok())
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn address(arg: &str) -> String {
    arg.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map_or(arg, |(a, _)| a).trim().to_owned()
}

async fn session(
    stream: tokio::net::TcpStream,
    store: Arc<tokio::sync::watch::Sender<Vec<Received>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut current = Received::default();
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 sink\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            current = Received { from: address(&line[10..]), ..Received::default() };
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            current.to.push(address(&line[8..]));
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            while let Some(body) = lines.next_line().await? {
                if body == "." {
                    break;
                }
                data.push_str(body.strip_prefix('.').unwrap_or(&body));
                data.push('\n');
            }
            current.data = data;
            let message = std::mem::take(&mut current);
            store.send_modify(|received| received.push(message));
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
