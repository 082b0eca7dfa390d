//! Connections to Redis: [`Stream`], one TCP connection asked one command at a time (the
//! hand-shake, and the dedicated connection that blocks on the revocation stream), and [`Pipeline`],
//! one connection shared by every request, which writes whatever commands are waiting in one go
//! and hands the replies back in order (RESP replies come in the order of the commands).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::error::Error;
use super::resp::{self, Parser, Value};
use crate::config::RedisUrl;

/// One connection, one command at a time.
pub struct Stream {
    tcp: TcpStream,
    buf: Vec<u8>,
    parser: Parser,
}

impl Stream {
    /// Connects to `url` within `timeout`, then authenticates and selects the database.
    pub async fn connect(url: &RedisUrl, timeout: Duration) -> Result<Self, Error> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect((url.host.as_str(), url.port)))
            .await
            .map_err(|_| Error::Timeout)?
            .map_err(Error::Io)?;
        tcp.set_nodelay(true).map_err(Error::Io)?;
        let mut stream = Stream {
            tcp,
            buf: Vec::with_capacity(16 * 1024),
            parser: Parser::default(),
        };
        if let Some(password) = &url.password {
            let mut auth: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &url.username {
                auth.push(user.as_bytes());
            }
            auth.push(password.as_bytes());
            stream.ok(&auth, timeout).await?;
        }
        if url.db != 0 {
            let db = url.db.to_string();
            stream.ok(&[b"SELECT", db.as_bytes()], timeout).await?;
        }
        Ok(stream)
    }

    /// Sends one command and waits (at most `timeout`) for its reply; an error reply is an error.
    pub async fn call<A: AsRef<[u8]>>(
        &mut self,
        args: &[A],
        timeout: Duration,
    ) -> Result<Value, Error> {
        let mut frame = Vec::new();
        resp::command(&mut frame, args);
        tokio::time::timeout(timeout, async {
            self.tcp.write_all(&frame).await.map_err(Error::Io)?;
            self.reply().await
        })
        .await
        .map_err(|_| Error::Timeout)?
        .and_then(Error::from_reply)
    }

    async fn ok<A: AsRef<[u8]>>(&mut self, args: &[A], timeout: Duration) -> Result<(), Error> {
        self.call(args, timeout).await.map(drop)
    }

    async fn reply(&mut self) -> Result<Value, Error> {
        loop {
            if let Some((value, used)) = self.parser.next(&self.buf).map_err(Error::Protocol)? {
                self.buf.drain(..used);
                return Ok(value);
            }
            if self.tcp.read_buf(&mut self.buf).await.map_err(Error::Io)? == 0 {
                return Err(Error::Closed);
            }
        }
    }

    /// Hands the connection to a task that pipelines every caller's commands over it.
    pub fn pipeline(self) -> Pipeline {
        let (requests, incoming) = mpsc::unbounded_channel();
        let alive = Arc::new(AtomicBool::new(true));
        tokio::spawn(run_pipeline(self, incoming, Arc::clone(&alive)));
        Pipeline { requests, alive }
    }
}

/// A command waiting for its reply.
struct Pending {
    frame: Vec<u8>,
    reply: oneshot::Sender<Result<Value, Error>>,
}

/// A connection shared by many callers (see the module docs). Once it breaks it stays broken:
/// [`Pipeline::is_alive`] says so, and the owner makes a new one.
pub struct Pipeline {
    requests: mpsc::UnboundedSender<Pending>,
    alive: Arc<AtomicBool>,
}

impl Pipeline {
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed) && !self.requests.is_closed()
    }

    /// Queues one command; its reply (or the connection's failure) arrives on the receiver.
    pub fn send(&self, frame: Vec<u8>) -> Result<Answer, Error> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Pending { frame, reply })
            .map_err(|_| Error::Closed)?;
        Ok(answer)
    }
}

/// Where a queued command's reply arrives.
pub type Answer = oneshot::Receiver<Result<Value, Error>>;

/// Writes the waiting commands in one write, matches replies to them in order, and on any error
/// fails every command still waiting (none of them can be known to have been applied or not).
async fn run_pipeline(
    stream: Stream,
    mut incoming: mpsc::UnboundedReceiver<Pending>,
    alive: Arc<AtomicBool>,
) {
    let Stream {
        tcp,
        mut buf,
        mut parser,
    } = stream;
    let (mut reader, mut writer) = tcp.into_split();
    let mut waiting: VecDeque<oneshot::Sender<Result<Value, Error>>> = VecDeque::new();
    let mut out = Vec::new();
    let failure = loop {
        tokio::select! {
            pending = incoming.recv() => {
                let Some(first) = pending else { break None };
                let mut next = Some(first);
                while let Some(Pending { frame, reply }) = next {
                    out.extend_from_slice(&frame);
                    waiting.push_back(reply);
                    next = incoming.try_recv().ok();
                }
                if let Err(e) = writer.write_all(&out).await {
                    break Some(Error::Io(e));
                }
                out.clear();
            }
            read = reader.read_buf(&mut buf) => {
                match read {
                    Ok(0) => break Some(Error::Closed),
                    Err(e) => break Some(Error::Io(e)),
                    Ok(_) => {}
                }
                if let Err(e) = hand_out(&mut buf, &mut parser, &mut waiting) {
                    break Some(e);
                }
            }
        }
    };
    alive.store(false, Ordering::Relaxed);
    incoming.close();
    if let Some(failure) = failure {
        log::warn!("redis: connection lost: {failure}");
    }
    while let Ok(pending) = incoming.try_recv() {
        waiting.push_back(pending.reply);
    }
    for reply in waiting {
        let _ = reply.send(Err(Error::Closed));
    }
}

/// Gives each complete reply in `buf` to the oldest waiting command.
fn hand_out(
    buf: &mut Vec<u8>,
    parser: &mut Parser,
    waiting: &mut VecDeque<oneshot::Sender<Result<Value, Error>>>,
) -> Result<(), Error> {
    let mut at = 0;
    while let Some((value, used)) = parser.next(&buf[at..]).map_err(Error::Protocol)? {
        at += used;
        let reply = waiting
            .pop_front()
            .ok_or(Error::Protocol(resp::ProtocolError(
                "a reply nobody asked for",
            )))?;
        // A caller that gave up waiting has dropped its receiver; the reply is simply discarded.
        let _ = reply.send(Ok(value));
    }
    buf.drain(..at);
    Ok(())
}
