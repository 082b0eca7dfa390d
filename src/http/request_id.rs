//! `X-Request-Id` (docs/http.md §2): every response carries one, and every log line of the request
//! names it. A client's or proxy's id is kept when it is sane (1 to 128 bytes of `A-Z a-z 0-9 . _ :
//! -`, [`crate::logger::is_sane`]) and sent once; anything else (empty, too long, other bytes, two
//! of them) is replaced by one of ours, so what reaches the logs and the echo is always harmless.
//!
//! Ours are `<16 hex digits>-<12 hex digits>`: a random prefix drawn once per process, then a
//! counter. Cheap by construction: no system call and no allocation per request. Each thread
//! reserves `BLOCK` (1,024) counter values at a time (one shared atomic add per block), and writes its
//! ids side by side into one buffer of its own, which the response headers share by reference
//! count (two allocations per buffer of about a thousand ids).
//!
//! A client's id is copied into that buffer too, not shared with the request: a header value
//! sharing hyper's read buffer would keep hyper from reusing it for the connection's next request
//! (an 8 KiB buffer and two more allocations per request, `benches/allocations.rs`).

use std::cell::RefCell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{BufMut, BytesMut};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};

use crate::logger::{RequestId, is_sane};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Counter values (and ids) a thread takes at a time.
const BLOCK: u64 = 1024;
/// `<16 hex>-<12 hex>`.
const ID_LEN: usize = 16 + 1 + 12;
/// The size of a thread's id buffer: a block's worth of our ids.
const BUFFER_BYTES: usize = ID_LEN * BLOCK as usize;

/// The request's id: as the response header, and as the logs keep it.
pub struct Assigned {
    pub header: HeaderValue,
    pub log: RequestId,
}

/// The id for a request with `headers`: the client's, if sane and alone, else a new one.
pub fn assign(headers: &HeaderMap) -> Assigned {
    let mut sent = headers.get_all(X_REQUEST_ID).iter();
    if let (Some(value), None) = (sent.next(), sent.next()) {
        // Checked before it is copied, so a refused id (of any length) takes no room in the buffer.
        if is_sane(value.as_bytes()) {
            if let Some(kept) = assigned(value.as_bytes()) {
                return kept;
            }
        }
    }
    generate()
}

/// `id` copied into this thread's buffer, as the response header and the logs' id, which share
/// those bytes. `None` if it is not sane.
fn assigned(id: &[u8]) -> Option<Assigned> {
    let bytes = BLOCK_OF_THREAD.with(|block| {
        let buffer = &mut block.borrow_mut().buffer;
        if buffer.capacity() < id.len() {
            *buffer = BytesMut::with_capacity(BUFFER_BYTES.max(id.len()));
        }
        buffer.put_slice(id);
        buffer.split().freeze()
    });
    let log = RequestId::new(bytes.clone())?;
    // Sane ids are visible ASCII: always a valid header value; `from_maybe_shared` keeps the bytes.
    let header = HeaderValue::from_maybe_shared(bytes).ok()?;
    Some(Assigned { header, log })
}

/// The per-process random prefix, as hex.
fn prefix() -> &'static [u8; 16] {
    static PREFIX: OnceLock<[u8; 16]> = OnceLock::new();
    PREFIX.get_or_init(|| {
        use ring::rand::{SecureRandom, SystemRandom};
        let mut random = [0u8; 8];
        if SystemRandom::new().fill(&mut random).is_err() {
            // No randomness: the process id and the start time still tell processes apart.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            random[..4].copy_from_slice(&std::process::id().to_be_bytes());
            random[4..].copy_from_slice(&nanos.to_be_bytes());
        }
        let mut hex = [0u8; 16];
        hex.copy_from_slice(crate::bytes::hex(&random).as_bytes());
        hex
    })
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// One thread's reserved counter values and the buffer its ids are written into.
struct Block {
    next: u64,
    end: u64,
    buffer: BytesMut,
}

thread_local! {
    static BLOCK_OF_THREAD: RefCell<Block> =
        RefCell::new(Block { next: 0, end: 0, buffer: BytesMut::new() });
}

fn generate() -> Assigned {
    let counter = BLOCK_OF_THREAD.with(|block| {
        let mut block = block.borrow_mut();
        if block.next == block.end {
            block.next = NEXT.fetch_add(BLOCK, Ordering::Relaxed);
            block.end = block.next + BLOCK;
        }
        block.next += 1;
        block.next - 1
    });
    let mut id = [0u8; ID_LEN];
    id[..16].copy_from_slice(prefix());
    id[16] = b'-';
    for (i, digit) in id[17..].iter_mut().enumerate() {
        let shift = 4 * (11 - i);
        *digit = b"0123456789abcdef"[((counter >> shift) & 0xf) as usize];
    }
    // Hex digits and '-' always make a sane id; the fallback only keeps this free of panics.
    assigned(&id).unwrap_or_else(|| Assigned {
        header: HeaderValue::from_static("-"),
        log: RequestId::new(bytes::Bytes::from_static(b"-")).expect("'-' is a sane id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_REQUEST_ID, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_sane_id_is_echoed_and_others_are_replaced() {
        let kept = assign(&headers(&[b"abc-123"]));
        assert_eq!(kept.header, "abc-123");
        assert_eq!(kept.log.as_str(), "abc-123");
        for sent in [
            &[&b"has space"[..]][..],
            &[&b"x".repeat(129)[..]],
            &[b"\"quoted\""],
            &[b"a", b"b"],
            &[],
        ] {
            let replaced = assign(&headers(sent));
            assert_eq!(replaced.header.len(), ID_LEN, "{sent:?}");
            assert_eq!(replaced.log.as_str(), replaced.header.to_str().unwrap());
        }
    }

    #[test]
    fn generated_ids_share_a_prefix_and_never_repeat() {
        let ids: Vec<String> = (0..3 * BLOCK)
            .map(|_| generate().log.as_str().to_string())
            .collect();
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        let prefix = std::str::from_utf8(prefix()).unwrap();
        for id in &ids {
            let (head, counter) = id.split_once('-').unwrap();
            assert_eq!(head, prefix);
            assert_eq!(counter.len(), 12);
            assert!(counter.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        // Another thread reserves its own block.
        let other = std::thread::spawn(|| generate().log.as_str().to_string())
            .join()
            .unwrap();
        assert!(!unique.contains(&other));
    }
}
