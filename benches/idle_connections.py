#!/usr/bin/env python3
"""Idle keep-alive connections: opens N connections, makes one request on each (GET /healthz, HTTP/1.1
keep-alive), then holds them all open and idle. For measuring what idle connections cost a server.

    python3 benches/idle_connections.py 127.0.0.1:5000 --connections 5000 --hold 10

benches/footprint.sh runs it and reads the server's RSS while the connections are held. Prints
"OPENED n" once every connection has had its answer (the moment to measure), then after --hold
seconds a final "IDLE key=value ..." line saying how many the server still kept open. Needs a file
descriptor limit above N (ulimit -n). Standard library only.
"""

import argparse
import socket
import sys
import time


def request(sock, host):
    """One keep-alive request; returns once the whole answer (head + Content-Length body) is read."""
    sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before answering")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk


def still_open(sock):
    """True if the peer has not closed: a non-blocking read finds nothing to read rather than EOF."""
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addr", help="HOST:PORT")
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--hold", type=float, default=10.0, help="seconds to hold them open")
    args = parser.parse_args()
    host, port = args.addr.rsplit(":", 1)

    socks, failures, first_error = [], 0, None
    started = time.monotonic()
    for _ in range(args.connections):
        try:
            sock = socket.create_connection((host, int(port)), timeout=10)
            request(sock, args.addr)
            socks.append(sock)
        except OSError as error:
            failures += 1
            first_error = first_error or repr(error)
    opened_in = time.monotonic() - started
    print(f"OPENED {len(socks)}", flush=True)
    time.sleep(args.hold)
    alive = sum(still_open(sock) for sock in socks)
    print(
        f"IDLE opened={len(socks)} failed={failures} opened_in_s={opened_in:.2f} "
        f"still_open_after_hold={alive} hold_s={args.hold:g}"
        + (f" first_error={first_error!r}" if first_error else ""),
        flush=True,
    )
    for sock in socks:
        sock.close()
    sys.exit(0 if failures == 0 and alive == len(socks) else 1)


if __name__ == "__main__":
    main()
