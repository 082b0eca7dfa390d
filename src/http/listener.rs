//! The listening socket: bound as `TcpListener::bind` binds (every address the name resolves to,
//! in turn, until one works), but with a longer queue of connections the kernel has completed and
//! the accept loop has not yet taken.
//!
//! Why the queue matters: when it is full, Linux drops the last packet of a client's handshake, and
//! the client's kernel tries again only after a second, then three, then seven. Under a burst of
//! connects (a flood of slow clients reconnecting as they are cut, `benches/load-test.sh`'s slow
//! part) a legitimate new client then waits seconds before the server even sees it. The 128 that
//! `TcpListener::bind` gave (as `ss -ltn` showed) is raised to the most Linux usually allows
//! (`net.core.somaxconn`, 4,096 by default since Linux 5.4; the kernel silently caps a larger
//! request at it).

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, lookup_host};

/// Connections the kernel may hold for the accept loop.
const BACKLOG: u32 = 4096;

/// A listener on `address` (`host:port`, or a socket address).
pub async fn bind(address: impl tokio::net::ToSocketAddrs) -> io::Result<TcpListener> {
    let mut last_error = None;
    for addr in lookup_host(address).await? {
        match listen_on(addr) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

fn listen_on(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As std's and tokio's own bind do on Unix: a restart may bind while old connections linger
    // in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_a_free_port_and_accepts() {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        let (client, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        assert!(client.is_ok() && accepted.is_ok());
    }

    #[tokio::test]
    async fn a_port_in_use_is_an_error() {
        let first = bind("127.0.0.1:0").await.unwrap();
        let taken = first.local_addr().unwrap();
        assert_eq!(
            bind(taken).await.unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
    }

    #[tokio::test]
    async fn localhost_resolves_and_binds() {
        let listener = bind("localhost:0").await.unwrap();
        assert!(listener.local_addr().unwrap().ip().is_loopback());
    }

    /// The queue is what the kernel reports for the socket: `ss` shows a listener's backlog as its
    /// Send-Q, capped at `net.core.somaxconn`.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_queue_is_longer_than_tokios_default() {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(BACKLOG);
        let Ok(output) = std::process::Command::new("ss")
            .args(["-ltnH", &format!("sport = :{port}")])
            .output()
        else {
            println!("SKIPPED: ss (iproute2) not found; the backlog is not checked");
            return;
        };
        let text = String::from_utf8_lossy(&output.stdout);
        let send_q: u32 = text
            .split_whitespace()
            .nth(2)
            .and_then(|q| q.parse().ok())
            .unwrap_or_else(|| panic!("unexpected ss output: {text:?}"));
        assert_eq!(send_q, BACKLOG.min(somaxconn), "{text}");
    }
}
