//! A TCP proxy on loopback that stands in for the network between an instance and Redis (not for
//! Redis: every byte goes to a real server): it can point new connections elsewhere (a managed
//! endpoint whose name moved to the new primary, [`Proxy::retarget`]), lose replies after the
//! server ran the commands ([`Proxy::drop_replies`]), slow every reply down
//! ([`Proxy::delay_replies`]), and cut every connection open now ([`Proxy::cut`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Default)]
struct Switches {
    drop_replies: AtomicBool,
    delay_ms: AtomicU64,
}

pub struct Proxy {
    pub port: u16,
    target: Arc<Mutex<SocketAddr>>,
    switches: Arc<Switches>,
    cut: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy to `target`, accepting on a free loopback port, on the current runtime.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = Arc::new(Mutex::new(target));
        let switches = Arc::new(Switches::default());
        let (cut, _) = watch::channel(0);
        let task = {
            let (target, switches, cut) = (target.clone(), switches.clone(), cut.clone());
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let to = *target.lock().unwrap();
                    let switches = switches.clone();
                    let cut = cut.subscribe();
                    tokio::spawn(async move {
                        if let Ok(server) = TcpStream::connect(to).await {
                            pump(client, server, switches, cut).await;
                        }
                    });
                }
            })
        };
        Proxy {
            port,
            target,
            switches,
            cut,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// New connections go to `to`; those open now stay where they are.
    pub fn retarget(&self, to: SocketAddr) {
        *self.target.lock().unwrap() = to;
    }

    /// While on, what the server sends is thrown away: it ran the commands, the client never hears.
    pub fn drop_replies(&self, on: bool) {
        self.switches.drop_replies.store(on, Ordering::SeqCst);
    }

    /// Every chunk the server sends waits this long first.
    pub fn delay_replies(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap();
        self.switches.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Closes every connection open now.
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

/// Copies both ways until either side closes or the connections are cut.
async fn pump(
    client: TcpStream,
    server: TcpStream,
    switches: Arc<Switches>,
    mut cut: watch::Receiver<u64>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_in, client_out) = client.into_split();
    let (server_in, server_out) = server.into_split();
    tokio::select! {
        () = forward(client_in, server_out, None) => {}
        () = forward(server_in, client_out, Some(&switches)) => {}
        _ = cut.changed() => {}
    }
}

/// Copies `from` to `to` until either closes; replies (`switches` given) are delayed or dropped
/// as the switches say.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    switches: Option<&Switches>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if let Some(switches) = switches {
            let delay = switches.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            if switches.drop_replies.load(Ordering::SeqCst) {
                continue;
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
