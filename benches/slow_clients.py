#!/usr/bin/env python3
"""Slow clients ("slowloris"): N connections that each send a request line, then trickle header bytes
one at a time and never finish the head. A server with a header read timeout must close them; this
reports when it did. A closed connection is replaced at once, so N are open or opening throughout.

    python3 benches/slow_clients.py 127.0.0.1:5000 --connections 300 --seconds 15
    python3 benches/slow_clients.py 127.0.0.1:5000 --connections 5000 --sources many --timeout 3

--sources picks the source addresses: `one` binds every connection to 127.0.0.2 (a single abusive
client beside wrk on 127.0.0.1), `many` spreads them over 127.1.0.1, 127.1.0.2, ... one address per
connection (every address in 127.0.0.0/8 is this host). Connects are non-blocking and everything
runs on one selectors loop, so thousands of connections cost one process; RLIMIT_NOFILE is raised
as far as the hard limit allows.

A lifetime runs from the connect() call (time spent in the server's accept queue counts) to the
moment we saw the server close. Closes within AT_ONCE_S (0.1 s) of connecting are counted apart
(`closed_at_once`: refused, or closed at once to make room); the rest are `closed_later` (cut by the
header timeout, or closed to make room after a while). With --timeout T[,T2...], `cut_by_timeout`
counts the later ones closed within [T - 0.05 s, T + --margin] of one of the timeouts, and
`over_timeout` those that lived longer than the longest T + --margin, open ones at the end included.

benches/load-test.sh runs it while wrk measures /protected. Standard library only. The last line of
output is machine-readable: "SLOW key=value ...", lifetimes in seconds (min, median, p99, max; `-`
when there were none), the CPU this process used per second of wall time, and the age of the oldest
connection still open at the end.
"""

import argparse
import errno
import resource
import selectors
import socket
import statistics
import time

REQUEST_LINE = b"GET /protected HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
AT_ONCE_S = 0.1
# Linux: bind() only picks the address; the port is chosen at connect() by the 4-tuple.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

CONNECTING, OPEN = "connecting", "open"


def source_address(sources, index):
    if sources == "one":
        return "127.0.0.2"
    # 127.1.0.1 .. 127.1.0.254, 127.1.1.1 .. : one address per connection slot.
    return f"127.1.{(index // 254) % 256}.{index % 254 + 1}"


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return soft


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Conn:
    __slots__ = ("sock", "index", "started", "state")

    def __init__(self, sock, index, started):
        self.sock = sock
        self.index = index
        self.started = started
        self.state = CONNECTING


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addr", help="HOST:PORT")
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to keep it up")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between bytes")
    parser.add_argument("--sources", choices=("one", "many"), default="one",
                        help="one: all from 127.0.0.2; many: one 127.1.x.y address per connection")
    parser.add_argument("--timeout", help="the server's header timeout(s) in seconds, e.g. 3 or 3,1 "
                        "(a shorter one applied under pressure): counts cuts and overruns")
    parser.add_argument("--margin", type=float, default=0.5, help="slack allowed over --timeout")
    args = parser.parse_args()
    timeouts = [float(t) for t in args.timeout.split(",")] if args.timeout else []
    host, port = args.addr.rsplit(":", 1)
    target = (host, int(port))
    fd_limit = raise_fd_limit(args.connections + 64)
    if fd_limit != resource.RLIM_INFINITY and fd_limit < args.connections + 16:
        parser.error(f"RLIMIT_NOFILE is {fd_limit}: too low for {args.connections} connections")

    selector = selectors.EpollSelector() if hasattr(selectors, "EpollSelector") else selectors.DefaultSelector()
    started = time.monotonic()
    cpu_started = time.process_time()
    deadline = started + args.seconds
    conns = {}  # fd -> Conn
    attempts = 0  # connect() calls
    established = 0  # connects that completed
    answered = 0  # the server sent something (e.g. a 408) before closing
    connect_failures = 0
    failure_kinds = {}
    lifetimes = []
    pending_reopen = []  # connection slots to reopen (indexes)

    def open_one(index):
        nonlocal attempts, connect_failures
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source_address(args.sources, index), 0))
            attempts += 1
            now = time.monotonic()
            code = sock.connect_ex(target)
        except OSError as e:
            sock.close()
            connect_failures += 1
            failure_kinds[errno.errorcode.get(e.errno, str(e.errno))] = failure_kinds.get(
                errno.errorcode.get(e.errno, str(e.errno)), 0) + 1
            return False
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            connect_failures += 1
            name = errno.errorcode.get(code, str(code))
            failure_kinds[name] = failure_kinds.get(name, 0) + 1
            return False
        conn = Conn(sock, index, now)
        conns[sock.fileno()] = conn
        selector.register(sock, selectors.EVENT_WRITE, conn)
        return True

    def forget(conn):
        selector.unregister(conn.sock)
        del conns[conn.sock.fileno()]
        conn.sock.close()

    def closed_by_server(conn, now):
        forget(conn)
        lifetimes.append(now - conn.started)
        pending_reopen.append(conn.index)

    def connected(conn, now):
        nonlocal established, connect_failures
        code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code != 0:
            forget(conn)
            connect_failures += 1
            name = errno.errorcode.get(code, str(code))
            failure_kinds[name] = failure_kinds.get(name, 0) + 1
            pending_reopen.append(conn.index)
            return
        established += 1
        try:
            conn.sock.send(REQUEST_LINE)
        except OSError:
            closed_by_server(conn, now)
            return
        conn.state = OPEN
        selector.modify(conn.sock, selectors.EVENT_READ, conn)

    # Ramp: the first N connections spread over one interval so they don't all time out in the
    # same instant; after that a closed slot is reopened at once.
    next_index = 0
    next_tick = started + args.interval
    while (now := time.monotonic()) < deadline:
        due = args.connections if args.interval <= 0 else min(
            args.connections, int(args.connections * (now - started) / args.interval) + 1)
        while next_index < due:
            if not open_one(next_index):
                pending_reopen.append(next_index)
            next_index += 1
        reopen, pending_reopen[:] = list(pending_reopen), []
        for index in reopen:
            if not open_one(index):
                # Could not even start a connect (e.g. out of ports): try again next round.
                pending_reopen.append(index)
        wait = min(next_tick, deadline) - now
        if next_index < args.connections:
            wait = min(wait, args.interval / max(1, args.connections) * 16)
        if pending_reopen:
            wait = min(wait, 0.01)
        for key, _ in selector.select(timeout=max(0.0, wait)):
            conn = key.data
            if conn.sock.fileno() not in conns:
                continue
            now = time.monotonic()
            if conn.state == CONNECTING:
                connected(conn, now)
                continue
            try:
                data = conn.sock.recv(4096)
            except OSError:
                data = b""
            if data:
                answered += 1
            closed_by_server(conn, now)
        if time.monotonic() >= next_tick:
            next_tick += args.interval
            for conn in [c for c in conns.values() if c.state == OPEN]:
                try:
                    conn.sock.send(b"a")
                except OSError:
                    closed_by_server(conn, time.monotonic())

    end = time.monotonic()
    cpu_used = time.process_time() - cpu_started
    still_open = [end - c.started for c in conns.values() if c.state == OPEN]
    still_connecting = [end - c.started for c in conns.values() if c.state == CONNECTING]
    for conn in list(conns.values()):
        conn.sock.close()

    def fmt(values, pick):
        return f"{pick(values):.2f}" if values else "-"

    at_once = sum(1 for t in lifetimes if t < AT_ONCE_S)
    later = [t for t in lifetimes if t >= AT_ONCE_S]
    over = cut = "-"
    if timeouts:
        over = sum(1 for t in lifetimes + still_open if t > max(timeouts) + args.margin)
        cut = sum(1 for t in later if any(x - 0.05 <= t <= x + args.margin for x in timeouts))
    failures = ",".join(f"{k}:{v}" for k, v in sorted(failure_kinds.items())) or "-"
    print(
        f"SLOW sources={args.sources} connections={args.connections} attempts={attempts} "
        f"established={established} closed={len(lifetimes)} closed_at_once={at_once} "
        f"closed_later={len(later)} cut_by_timeout={cut} answered_before_close={answered} "
        f"connect_failures={connect_failures} failure_kinds={failures} "
        f"lifetime_min_s={fmt(lifetimes, min)} lifetime_median_s={fmt(lifetimes, statistics.median)} "
        f"lifetime_p99_s={fmt(lifetimes, lambda v: percentile(v, 0.99))} "
        f"lifetime_max_s={fmt(lifetimes, max)} later_median_s={fmt(later, statistics.median)} "
        f"over_timeout={over} open_at_end={len(still_open)} oldest_open_s={fmt(still_open, max)} "
        f"connecting_at_end={len(still_connecting)} oldest_connecting_s={fmt(still_connecting, max)} "
        f"cpu_per_s={cpu_used / (end - started):.2f}"
    )


if __name__ == "__main__":
    main()
