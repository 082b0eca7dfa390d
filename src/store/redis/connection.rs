//! Connections to Redis: [`Stream`], one TCP connection asked one command at a time (the
//! hand-shake, and the dedicated connection that blocks on the revocation stream), and [`Pipeline`],
//! one connection shared by every request, which writes whatever commands are waiting in one go
//! and hands the replies back in order (RESP replies come in the order of the commands), at most
//! [`MAX_WAITING`] of them, and gives up on the whole connection once one goes unanswered too long.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use super::error::Error;
use super::resp::{self, Parser, Value};
use crate::config::RedisUrl;

/// How long one command may take before the request that needed it gets 503 (and the shared
/// connection is dropped: [`Pipeline`]).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one connection attempt may take, hand-shake included.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// One connection, one command at a time.
pub struct Stream {
    tcp: TcpStream,
    buf: Vec<u8>,
    parser: Parser,
}

impl Stream {
    /// Connects to `url`, authenticates, selects the database and sees Redis answer a `PING`, all
    /// within `timeout`. A frozen Redis (`SIGSTOP`, a stalled host) still completes TCP
    /// hand-shakes from its kernel's accept queue: only an answer shows it is working.
    pub async fn connect(url: &RedisUrl, timeout: Duration) -> Result<Self, Error> {
        tokio::time::timeout(timeout, Self::open(url, timeout))
            .await
            .map_err(|_| Error::Timeout)?
    }

    async fn open(url: &RedisUrl, timeout: Duration) -> Result<Self, Error> {
        let tcp = TcpStream::connect((url.host.as_str(), url.port))
            .await
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
        stream.ok(&["PING"], timeout).await?;
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

    /// Hands the connection to a task that pipelines every caller's commands over it; a command
    /// not answered within `timeout` ends the connection (see [`Pipeline`]).
    pub fn pipeline(self, timeout: Duration) -> Pipeline {
        let (requests, incoming) = mpsc::unbounded_channel();
        let alive = Arc::new(AtomicBool::new(true));
        let room = Arc::new(Semaphore::new(MAX_WAITING));
        tokio::spawn(run_pipeline(self, incoming, Arc::clone(&alive)));
        Pipeline {
            requests,
            alive,
            room,
            timeout,
        }
    }
}

/// Commands one connection may have waiting for their replies (queued or sent). Beyond it a
/// command fails at once ([`Error::Busy`]) instead of queueing behind a connection that is not
/// keeping up: a healthy Redis answers this many pipelined commands in a few milliseconds, and
/// with the default `MAX_CONNECTIONS` (1024, one command in flight per request) it is never
/// reached while Redis answers.
pub const MAX_WAITING: usize = 1024;

/// A command waiting for its reply, holding one of the connection's [`MAX_WAITING`] places.
struct Pending {
    frame: Vec<u8>,
    waiter: Waiter,
}

/// Where a command's reply goes, and when the connection must give up on it.
struct Waiter {
    reply: oneshot::Sender<Result<Value, Error>>,
    deadline: Instant,
    _place: OwnedSemaphorePermit,
}

/// A connection shared by many callers (see the module docs). Once it breaks it stays broken:
/// [`Pipeline::is_alive`] says so, and the owner makes a new one.
///
/// It breaks when the oldest command waiting has had no reply for the `timeout` it was made
/// with: Redis is frozen, stalled or cut off, and every command behind it would wait as long.
/// All of them then fail at once with [`Error::Timeout`], and the next command connects again.
/// A write to the socket is bounded by the same deadline.
pub struct Pipeline {
    requests: mpsc::UnboundedSender<Pending>,
    alive: Arc<AtomicBool>,
    room: Arc<Semaphore>,
    timeout: Duration,
}

impl Pipeline {
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed) && !self.requests.is_closed()
    }

    /// Queues one command; its reply (or the connection's failure) arrives on the receiver, within
    /// the connection's timeout. [`Error::Busy`] at once when [`MAX_WAITING`] are waiting.
    pub fn send(&self, frame: Vec<u8>) -> Result<Answer, Error> {
        let place = Arc::clone(&self.room)
            .try_acquire_owned()
            .map_err(|_| Error::Busy)?;
        let (reply, answer) = oneshot::channel();
        let waiter = Waiter {
            reply,
            deadline: Instant::now() + self.timeout,
            _place: place,
        };
        self.requests
            .send(Pending { frame, waiter })
            .map_err(|_| Error::Closed)?;
        Ok(answer)
    }
}

/// Where a queued command's reply arrives.
pub type Answer = oneshot::Receiver<Result<Value, Error>>;

/// Writes the waiting commands in one write, matches replies to them in order, and on any error
/// or a missed deadline fails every command still waiting (none of them can be known to have been
/// applied or not: a frozen Redis may still run them when it resumes).
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
    let mut waiting: VecDeque<Waiter> = VecDeque::new();
    let mut out = Vec::new();
    // Armed for the oldest waiting command's deadline; idle (far away) while none waits.
    let idle = || Instant::now() + Duration::from_secs(86_400);
    let expiry = tokio::time::sleep_until(idle());
    tokio::pin!(expiry);
    let failure = loop {
        let oldest = waiting.front().map(|w| w.deadline);
        if let Some(deadline) = oldest.filter(|d| *d != expiry.deadline()) {
            expiry.as_mut().reset(deadline);
        }
        tokio::select! {
            pending = incoming.recv() => {
                let Some(first) = pending else { break None };
                let mut next = Some(first);
                while let Some(Pending { frame, waiter }) = next {
                    out.extend_from_slice(&frame);
                    waiting.push_back(waiter);
                    next = incoming.try_recv().ok();
                }
                let deadline = waiting.front().map_or_else(idle, |w| w.deadline);
                match tokio::time::timeout_at(deadline, writer.write_all(&out)).await {
                    Ok(Ok(())) => out.clear(),
                    Ok(Err(e)) => break Some(Error::Io(e)),
                    Err(_) => break Some(Error::Timeout),
                }
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
            () = &mut expiry, if oldest.is_some() => break Some(Error::Timeout),
        }
    };
    alive.store(false, Ordering::Relaxed);
    incoming.close();
    let timed_out = matches!(failure, Some(Error::Timeout));
    if let Some(failure) = failure {
        log::warn!("redis: connection dropped: {failure}");
    }
    while let Ok(pending) = incoming.try_recv() {
        waiting.push_back(pending.waiter);
    }
    for waiter in waiting {
        let error = if timed_out {
            Error::Timeout
        } else {
            Error::Closed
        };
        let _ = waiter.reply.send(Err(error));
    }
}

/// Gives each complete reply in `buf` to the oldest waiting command (freeing its place).
fn hand_out(
    buf: &mut Vec<u8>,
    parser: &mut Parser,
    waiting: &mut VecDeque<Waiter>,
) -> Result<(), Error> {
    let mut at = 0;
    while let Some((value, used)) = parser.next(&buf[at..]).map_err(Error::Protocol)? {
        at += used;
        let waiter = waiting
            .pop_front()
            .ok_or(Error::Protocol(resp::ProtocolError(
                "a reply nobody asked for",
            )))?;
        // A caller that gave up waiting has dropped its receiver; the reply is simply discarded.
        let _ = waiter.reply.send(Ok(value));
    }
    buf.drain(..at);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A peer that accepts connections and never answers, as a frozen Redis does (its kernel
    /// still completes the hand-shake), and the accepted end, for a test to answer from.
    async fn frozen_peer() -> (TcpListener, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    }

    /// A pipeline over a connection to `listener`, giving up on a command after `timeout`.
    async fn pipeline_to(listener: &TcpListener, timeout: Duration) -> (Pipeline, TcpStream) {
        let addr = listener.local_addr().unwrap();
        let (tcp, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let stream = Stream {
            tcp: tcp.unwrap(),
            buf: Vec::new(),
            parser: Parser::default(),
        };
        (stream.pipeline(timeout), accepted.unwrap().0)
    }

    fn ping() -> Vec<u8> {
        let mut frame = Vec::new();
        resp::command(&mut frame, &["PING"]);
        frame
    }

    #[tokio::test]
    async fn connecting_to_a_peer_that_never_answers_times_out() {
        let (_listener, port) = frozen_peer().await;
        let url = RedisUrl::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
        let start = Instant::now();
        let result = Stream::connect(&url, Duration::from_millis(200)).await;
        assert!(matches!(result, Err(Error::Timeout)), "{:?}", result.err());
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn an_unanswered_command_drops_the_connection_and_every_command_on_it() {
        let (listener, _) = frozen_peer().await;
        let timeout = Duration::from_millis(200);
        let (pipeline, _peer) = pipeline_to(&listener, timeout).await;
        let start = Instant::now();
        let first = pipeline.send(ping()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let later: Vec<Answer> = (0..50).map(|_| pipeline.send(ping()).unwrap()).collect();
        // All of them fail together, when the first one's time is up.
        assert!(matches!(first.await.unwrap(), Err(Error::Timeout)));
        let failed_at = start.elapsed();
        assert!(
            failed_at >= timeout && failed_at < timeout * 5,
            "{failed_at:?}"
        );
        for answer in later {
            assert!(matches!(answer.await.unwrap(), Err(Error::Timeout)));
        }
        assert!(start.elapsed() < timeout * 5, "{:?}", start.elapsed());
        assert!(!pipeline.is_alive());
        assert!(matches!(pipeline.send(ping()), Err(Error::Closed)));
    }

    #[tokio::test]
    async fn commands_waiting_on_one_connection_are_bounded() {
        let (listener, _) = frozen_peer().await;
        let (pipeline, mut peer) = pipeline_to(&listener, Duration::from_secs(30)).await;
        let mut answers: VecDeque<Answer> = (0..MAX_WAITING)
            .map(|_| pipeline.send(ping()).unwrap())
            .collect();
        // One more is refused at once, and the connection is not harmed by it.
        assert!(matches!(pipeline.send(ping()), Err(Error::Busy)));
        assert!(pipeline.is_alive());
        // A reply frees the place of the command it answers.
        peer.write_all(b"+PONG\r\n").await.unwrap();
        let first = answers.pop_front().unwrap().await.unwrap().unwrap();
        assert_eq!(first, Value::Simple("PONG".into()));
        answers.push_back(pipeline.send(ping()).unwrap());
        assert!(matches!(pipeline.send(ping()), Err(Error::Busy)));
        // A caller that gave up still holds its place until its command is answered (or the
        // connection dropped): the command is on the wire either way.
        drop(answers.pop_front());
        assert!(matches!(pipeline.send(ping()), Err(Error::Busy)));
    }

    #[tokio::test]
    async fn a_write_the_peer_never_reads_is_bounded_too() {
        let (listener, _) = frozen_peer().await;
        let timeout = Duration::from_millis(300);
        let (pipeline, _peer) = pipeline_to(&listener, timeout).await;
        // Far more than the two sockets' buffers hold: the write can't finish.
        let mut frame = Vec::new();
        resp::command(&mut frame, &[&b"ECHO"[..], &vec![b'x'; 32 << 20]]);
        let start = Instant::now();
        let answer = pipeline.send(frame).unwrap();
        assert!(matches!(answer.await.unwrap(), Err(Error::Timeout)));
        assert!(start.elapsed() < timeout * 5, "{:?}", start.elapsed());
        assert!(!pipeline.is_alive());
    }
}
