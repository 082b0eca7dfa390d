//! How cost grows with the data: the denylist at 0, 10k, 100k and 1M live revocations (ns per
//! lookup, heap, a whole `/protected` request, start-up replay of the journal), durable revocations
//! per second with `DENYLIST_FILE` (append + fsync before acknowledging, one at a time and 64 at
//! once), a `USERS_FILE` of 10k and 100k users (load time, heap), and the failed-login tables at
//! their 10,000-key cap.
//!
//!     cargo run --release --example scaling [-- /a/directory/on/the/disk/to/test]
//!
//! Heap is counted exactly by a counting global allocator (live bytes), not estimated from RSS.
//! Times are wall-clock medians of a few repetitions on whatever machine runs it: compare rows of
//! one run with each other (docs/benchmarks.md), not with another machine's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http_body_util::Empty;
use hyper::Request;
use hyper::body::Bytes;
use hyper::service::Service;
use hyperjwt::auth::throttle::FailureCounter;
use hyperjwt::jwt::TokenType;
use hyperjwt::store::denylist::Denylist;
use hyperjwt::store::users::UserStore;
use hyperjwt::{App, Config};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Random-looking UUID v4 text, as the server issues for `jti`.
fn jti(n: usize) -> String {
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

/// The median of `runs` timings of `f`, divided by `per` (operations per timing).
fn median_ns(runs: usize, per: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2].as_nanos() as f64 / per as f64
}

fn denylist(now: i64) {
    println!(
        "denylist: live revocations -> heap, lookup (hit / miss), GET /protected, journal replay"
    );
    let config = Config::with_secret("scaling-figures-secret-0123456789abcdef").expect("config");
    let dir = std::env::temp_dir().join(format!("hyperjwt-scaling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    for n in [0, 10_000, 100_000, 1_000_000] {
        let names: Vec<String> = (0..n).map(jti).collect();
        let before = LIVE.load(Ordering::Relaxed);
        let list = Denylist::in_memory();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            for name in &names {
                list.revoke(name, now + 900, now).await.expect("revoke");
            }
        });
        let heap = LIVE.load(Ordering::Relaxed) - before;
        let probes: Vec<String> = (0..10_000).map(|i| jti(i * 97 % n.max(1))).collect();
        let misses: Vec<String> = (0..10_000).map(|i| jti(n + 1 + i)).collect();
        let hit = median_ns(7, probes.len(), || {
            for p in &probes {
                black_box(list.is_revoked(p));
            }
        });
        let miss = median_ns(7, misses.len(), || {
            for p in &misses {
                black_box(list.is_revoked(p));
            }
        });

        // A whole request through the service with this denylist (the token itself not revoked).
        let app = App::new(&config, UserStore::demo(), list).expect("app");
        let token = app
            .state()
            .tokens
            .issue("user1", TokenType::Access, true)
            .expect("token");
        let bearer = format!("Bearer {token}");
        let request = || {
            Request::get("/protected")
                .header("authorization", &bearer)
                .body(Empty::<Bytes>::new())
                .expect("request")
        };
        let protected = median_ns(7, 10_000, || {
            for _ in 0..10_000 {
                let future = pin!(app.call(request()));
                let Poll::Ready(Ok(response)) =
                    future.poll(&mut Context::from_waker(Waker::noop()))
                else {
                    panic!("/protected answers at once");
                };
                black_box(response);
            }
        });

        // The journal as the server writes it, `<exp> <32 hex digits>` per line, replayed and
        // compacted by `Denylist::open` as at start-up.
        let path = dir.join(format!("denylist-{n}"));
        let mut text = String::with_capacity(n * 48);
        for name in &names {
            text.push_str(&format!("{} {}\n", now + 900, name.replace('-', "")));
        }
        std::fs::write(&path, text).expect("write the journal");
        let started = Instant::now();
        let replayed = Denylist::open(&path, now).expect("replay");
        let replay = started.elapsed();
        assert_eq!(replayed.len(), n);
        drop(replayed);
        let _ = std::fs::remove_file(&path);
        println!(
            "  {n:>9}: heap {:>7.2} MiB, lookup {hit:>5.1} / {miss:>5.1} ns, /protected {:>6.0} ns, replay {:>8.1} ms",
            mib(heap),
            protected,
            replay.as_secs_f64() * 1000.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Durable revocations per second: each appended and fsynced before it is acknowledged, one at a
/// time, then 64 at once (group commit: one fsync covers every append queued meanwhile).
fn journal_throughput(now: i64) {
    println!("DENYLIST_FILE: fsynced revocations per second");
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("hyperjwt-scaling-fsync-{}", std::process::id()))
        });
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let path = dir.join("denylist");
    let _ = std::fs::remove_file(&path);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let list = std::sync::Arc::new(Denylist::open(&path, now).expect("open the journal"));
        let sequential = 2_000;
        let started = Instant::now();
        for n in 0..sequential {
            list.revoke(&jti(n), now + 900, now)
                .await
                .expect("durable revoke");
        }
        let rate = sequential as f64 / started.elapsed().as_secs_f64();
        println!("  1 at a time: {sequential} revocations at {rate:.0}/s");
        let concurrent = 20_000;
        let started = Instant::now();
        let tasks: Vec<_> = (0..64)
            .map(|task| {
                let list = std::sync::Arc::clone(&list);
                tokio::spawn(async move {
                    for n in (sequential + task..sequential + concurrent).step_by(64) {
                        list.revoke(&jti(n), now + 900, now)
                            .await
                            .expect("durable revoke");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        let rate = concurrent as f64 / started.elapsed().as_secs_f64();
        println!("  64 at once:  {concurrent} revocations at {rate:.0}/s (group commit)");
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The journal with 100,000 ended sessions (family lines, as `/logout` and reuse detection write
/// them): its size on disk, and how long start-up takes to replay and compact it.
fn families(now: i64) {
    println!("DENYLIST_FILE with ended sessions (families): size, replay");
    let dir = std::env::temp_dir().join(format!("hyperjwt-scaling-fam-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    for n in [10_000, 100_000] {
        let path = dir.join(format!("families-{n}"));
        // `f <until> <32 hex digits>`, the family line the server writes.
        let mut text = String::with_capacity(n * 48);
        for i in 0..n {
            text.push_str(&format!(
                "f {} {}\n",
                now + 2_592_000,
                jti(i).replace('-', "")
            ));
        }
        std::fs::write(&path, &text).expect("write the journal");
        let started = Instant::now();
        let replayed = Denylist::open(&path, now).expect("replay");
        let replay = started.elapsed();
        assert!(replayed.is_family_revoked(&jti(7)));
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        println!(
            "  {n:>9}: {:.2} MiB on disk after compaction, replay {:.1} ms",
            size as f64 / (1024.0 * 1024.0),
            replay.as_secs_f64() * 1000.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn users() {
    println!("USERS_FILE: users -> load time, heap");
    let dir = std::env::temp_dir().join(format!("hyperjwt-scaling-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    // Any well-formed cost-4 hash: loading checks the form, it runs no bcrypt (except one dummy
    // hash at the file's cost, made once).
    let hash = bcrypt::hash("pw", 4).expect("hash");
    for n in [10_000, 100_000] {
        let path = dir.join(format!("users-{n}.json"));
        let entries: Vec<String> = (0..n).map(|i| format!("\"user{i}\": \"{hash}\"")).collect();
        std::fs::write(&path, format!("{{{}}}", entries.join(",\n"))).expect("write");
        let before = LIVE.load(Ordering::Relaxed);
        let started = Instant::now();
        let store = UserStore::load(&path).expect("load");
        let load = started.elapsed();
        let heap = LIVE.load(Ordering::Relaxed) - before;
        let lookup = median_ns(7, 10_000, || {
            for i in 0..10_000 {
                black_box(store.contains(&format!("user{}", i * 7 % n)));
            }
        });
        println!(
            "  {n:>9}: load {:>7.1} ms, heap {:>6.2} MiB, contains {lookup:>5.0} ns (with the name's format!)",
            load.as_secs_f64() * 1000.0,
            mib(heap)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn throttle() {
    println!("failed-login table (10,000-key cap): ns per failure below the cap / at it, new keys");
    let window = Duration::from_secs(900);
    let table = FailureCounter::new(5, window, 10_000);
    let t = Instant::now();
    let below = median_ns(1, 9_000, || {
        for i in 0..9_000u32 {
            table.fail(&i, t);
        }
    });
    // Full: every new key now evicts one (nothing has expired, so the oldest window goes).
    for i in 9_000..10_000u32 {
        table.fail(&i, t);
    }
    let at_cap = median_ns(1, 2_000, || {
        for i in 10_000..12_000u32 {
            table.fail(&i, t);
        }
    });
    println!(
        "  below the cap {below:.0} ns, at the cap {at_cap:.0} ns, {} keys kept",
        table.len()
    );
}

fn main() {
    let now = hyperjwt::jwt::now();
    denylist(now);
    journal_throughput(now);
    families(now);
    users();
    throttle();
}
