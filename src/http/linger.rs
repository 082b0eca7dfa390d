//! Lingering close: a request body that was not read to its end is read and discarded, up to a
//! bound in bytes and time, before the connection lets go of it.
//!
//! Why: when a handler answers early (413 for a body over `MAX_BODY_BYTES`, 415, 404, ...) without
//! reading the body, hyper closes the connection while the client may still be writing it. Closing
//! a socket with unread data makes the kernel send a reset, which destroys the answer before the
//! client reads it: Python's `requests` sees `BrokenPipeError` instead of the 413. nginx solves this
//! with its "lingering close", and so do we: the wrapper service hands every request body to its
//! handler inside a [`LingeringBody`]; if the handler drops it unfinished, the rest is drained in a
//! background task (at most `LINGER_BYTES`, for at most `LINGER_TIMEOUT`) while the answer goes
//! out. Past either bound the body is dropped and hyper closes the connection.
//!
//! A request that sent `Expect: 100-continue` is never drained: the client is waiting for our
//! permission to send the body, and the early answer tells it not to.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{self, HeaderMap};

/// How much of an unread body to drain, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linger {
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl Linger {
    /// The lingering for a request with these headers: none for `Expect: 100-continue`, nor for a
    /// declared length that is over the bound anyway.
    pub fn for_request(self, headers: &HeaderMap) -> Option<Linger> {
        let expects_continue = headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let declared_too_long = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|len| len > self.max_bytes as u64);
        (!expects_continue && !declared_too_long && self.max_bytes > 0).then_some(self)
    }
}

/// A request body that, dropped before its end, drains the rest in the background.
///
/// The bounds are on the type because its `Drop` moves the body into a spawned task.
#[derive(Debug)]
pub struct LingeringBody<B: Body + Unpin + Send + 'static> {
    /// `None` only once dropped.
    inner: Option<B>,
    finished: bool,
    linger: Option<Linger>,
}

impl<B: Body + Unpin + Send + 'static> LingeringBody<B> {
    pub fn new(inner: B, linger: Option<Linger>) -> Self {
        LingeringBody {
            inner: Some(inner),
            finished: false,
            linger,
        }
    }
}

impl<B: Body + Unpin + Send + 'static> Body for LingeringBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.finished = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.finished || self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl<B: Body + Unpin + Send + 'static> Drop for LingeringBody<B> {
    fn drop(&mut self) {
        let (Some(inner), Some(linger)) = (self.inner.take(), self.linger) else {
            return;
        };
        if self.finished || inner.is_end_stream() {
            return;
        }
        // Outside a tokio runtime (a host driving the service by hand) there is nothing to drain
        // on; the body is simply dropped.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(inner, linger));
        }
    }
}

/// Reads and discards `body` until its end, `linger.max_bytes`, or `linger.timeout`.
async fn drain<B: Body + Unpin>(mut body: B, linger: Linger) {
    let deadline = tokio::time::Instant::now() + linger.timeout;
    let mut drained: usize = 0;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                drained = drained.saturating_add(frame.data_ref().map_or(0, |d| {
                    use hyper::body::Buf;
                    d.remaining()
                }));
                if drained > linger.max_bytes {
                    log::debug!(
                        "lingering close: more than {} body bytes; closing",
                        linger.max_bytes
                    );
                    return;
                }
            }
            Ok(None) => return,
            Ok(Some(Err(_))) => return,
            Err(_) => {
                log::debug!(
                    "lingering close: body not finished within {:?}; closing",
                    linger.timeout
                );
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::header::HeaderValue;
    use tokio::sync::mpsc;

    const LINGER: Linger = Linger {
        max_bytes: 1024,
        timeout: Duration::from_secs(5),
    };

    /// A body fed by a channel, so a test sees when the reading side stops.
    struct ChannelBody(mpsc::Receiver<Bytes>);

    impl Body for ChannelBody {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.get_mut()
                .0
                .poll_recv(cx)
                .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
        }
    }

    fn channel_body(linger: Option<Linger>) -> (mpsc::Sender<Bytes>, LingeringBody<ChannelBody>) {
        let (tx, rx) = mpsc::channel(1);
        (tx, LingeringBody::new(ChannelBody(rx), linger))
    }

    /// Sends 256-byte chunks until the body's reader is gone (or `cap` bytes); returns bytes sent.
    async fn feed(tx: &mpsc::Sender<Bytes>, cap: usize) -> usize {
        let mut sent = 0;
        while sent < cap && tx.send(Bytes::from(vec![0u8; 256])).await.is_ok() {
            sent += 256;
        }
        sent
    }

    #[test]
    fn no_lingering_for_expect_continue_or_a_declared_length_over_the_bound() {
        let mut headers = HeaderMap::new();
        assert_eq!(LINGER.for_request(&headers), Some(LINGER));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1024"));
        assert_eq!(LINGER.for_request(&headers), Some(LINGER));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1025"));
        assert_eq!(LINGER.for_request(&headers), None);
        let mut continued = HeaderMap::new();
        continued.insert(header::EXPECT, HeaderValue::from_static("100-Continue"));
        assert_eq!(LINGER.for_request(&continued), None);
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_passes_through_unchanged() {
        let body = LingeringBody::new(Full::new(Bytes::from_static(b"abc")), Some(LINGER));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "abc");
    }

    #[tokio::test]
    async fn an_unfinished_body_dropped_is_still_read_up_to_the_bound() {
        let (tx, body) = channel_body(Some(LINGER));
        drop(body);
        // The drain task keeps reading; the writer is refused only past 1024 bytes.
        let sent = feed(&tx, 8192).await;
        assert!((1024..=2048).contains(&sent), "{sent}");
    }

    #[tokio::test]
    async fn without_lingering_a_dropped_body_is_closed_at_once() {
        let (tx, body) = channel_body(None);
        drop(body);
        assert_eq!(feed(&tx, 8192).await, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn draining_stops_at_the_timeout() {
        let (tx, body) = channel_body(Some(LINGER));
        drop(body);
        assert_eq!(feed(&tx, 256).await, 256);
        tokio::time::sleep(LINGER.timeout + Duration::from_secs(1)).await;
        // The drain gave up: the reader is gone.
        assert_eq!(feed(&tx, 8192).await, 0);
    }
}
