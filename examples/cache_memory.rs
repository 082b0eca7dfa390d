//! The memory of the memo of verified tokens (`src/jwt/cache.rs`) at its bound: live heap bytes,
//! counted by a global allocator, after it has been offered twice its capacity of real EdDSA access
//! tokens as the server signs them (~380 bytes each).
//!
//!     cargo run --release --example cache_memory               # JWT_VERIFIED_CACHE_SIZE's default, 10,000
//!     cargo run --release --example cache_memory -- 100000
//!
//! The figure is exact for this build (no timing): the bytes the cache holds, per entry and in all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};

use hyperjwt::jwt::{self, Algorithm, Claims, PrivateKey, TokenType, VerifiedCache};

/// Live heap bytes: every allocation adds its size, every free takes it back.
struct Live;

static LIVE: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Live {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        // SAFETY: as above, for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Live = Live;

fn main() {
    let capacity: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |n| n.parse().expect("a number of tokens"));
    let (key, _) = PrivateKey::generate(Algorithm::EdDsa).expect("a key");
    let now = jwt::now();
    // Twice the capacity of distinct tokens, signed first so only the cache's bytes are counted.
    let tokens: Vec<String> = (0..capacity * 2)
        .map(|i| {
            let claims = Claims {
                sub: "user1".into(),
                iat: Some(now),
                nbf: Some(now),
                exp: Some(now + 900),
                jti: format!("{:08x}-7a43-4c1a-9b5e-2d6f8a1c3e47", i).into(),
                token_type: TokenType::Access,
                fresh: true,
                iss: None,
                aud: None,
                fam: Some("01939a1e-2f4b-7c3d-8e5f-6a7b8c9d0e1f".into()),
                csrf: None,
            };
            jwt::sign_with(&key, &claims).expect("signs")
        })
        .collect();
    let token_len = tokens.iter().map(String::len).sum::<usize>() / tokens.len();
    let before = LIVE.load(Ordering::Relaxed);
    let cache = VerifiedCache::new(capacity);
    for token in &tokens {
        cache.insert(token, now + 900, now);
    }
    let bytes = LIVE.load(Ordering::Relaxed) - before;
    println!(
        "capacity {} (JWT_VERIFIED_CACHE_SIZE={capacity}): {} tokens held of {} offered, {token_len} bytes each",
        cache.capacity(),
        cache.len(),
        tokens.len()
    );
    println!(
        "live heap: {bytes} bytes = {:.1} MiB, {:.0} bytes per entry",
        bytes as f64 / (1024.0 * 1024.0),
        bytes as f64 / cache.len() as f64
    );
}
