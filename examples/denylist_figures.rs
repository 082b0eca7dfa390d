//! Measures the denylist: heap memory for 100,000 live revocations, and durable revocations per
//! second with `DENYLIST_FILE` (append + fsync before acknowledging), one at a time and 64 at once.
//!
//!     cargo run --release --example denylist_figures [-- /path/on/the/disk/to/test]
//!
//! Memory is counted exactly by a counting global allocator, not estimated from RSS.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use hyperjwt::store::denylist::Denylist;

struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn jti(n: usize) -> String {
    // Random-looking UUID v4 text, as the server issues.
    let x = (n as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    let h = format!("{x:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

#[tokio::main]
async fn main() {
    let now = hyperjwt::jwt::now();
    let names: Vec<String> = (0..100_000).map(jti).collect();

    let before = ALLOCATED.load(Ordering::Relaxed);
    let list = Denylist::in_memory();
    for name in &names {
        list.revoke(name, now + 900, now)
            .await
            .expect("in-memory revoke");
    }
    let bytes = ALLOCATED.load(Ordering::Relaxed) - before;
    println!(
        "memory: {} live revocations use {:.2} MiB of heap ({:.1} bytes each)",
        list.len(),
        bytes as f64 / (1024.0 * 1024.0),
        bytes as f64 / list.len() as f64
    );
    drop(list);

    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("hyperjwt-denylist-figures-{}", std::process::id()))
        });
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let path = dir.join("denylist");
    let _ = std::fs::remove_file(&path);
    let list = Arc::new(Denylist::open(&path, now).expect("open the journal"));

    let sequential = 2_000;
    let started = Instant::now();
    for name in &names[..sequential] {
        list.revoke(name, now + 900, now)
            .await
            .expect("durable revoke");
    }
    let rate = sequential as f64 / started.elapsed().as_secs_f64();
    println!("fsync, 1 at a time: {sequential} revocations at {rate:.0}/s");

    let concurrent = 20_000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in names[sequential..sequential + concurrent].chunks(concurrent / 64) {
        let list = Arc::clone(&list);
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            for name in chunk {
                list.revoke(&name, now + 900, now)
                    .await
                    .expect("durable revoke");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let rate = concurrent as f64 / started.elapsed().as_secs_f64();
    println!("fsync, 64 concurrent: {concurrent} revocations at {rate:.0}/s (group commit)");
    let _ = std::fs::remove_dir_all(&dir);
}
