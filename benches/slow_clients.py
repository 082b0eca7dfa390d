#!/usr/bin/env python3
"""Slow clients ("slowloris"): N connections that each send a request line, then trickle header bytes
one at a time and never finish the head. A server with a header read timeout must close them; this
reports when it did. Cut-off connections are replaced at once, so N stay open throughout.

    python3 benches/slow_clients.py 127.0.0.1:5000 --connections 300 --seconds 15

benches/load-test.sh runs it while wrk measures /protected. Standard library only. The last line of
output is machine-readable: "SLOW key=value ...", lifetimes in seconds from connect to the server's
close (min, median, max), and the age of the oldest connection still open at the end.
"""

import argparse
import selectors
import socket
import statistics
import time

REQUEST_LINE = b"GET /protected HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addr", help="HOST:PORT")
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to keep it up")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between bytes")
    args = parser.parse_args()
    host, port = args.addr.rsplit(":", 1)
    target = (host, int(port))

    selector = selectors.DefaultSelector()
    started = time.monotonic()
    deadline = started + args.seconds
    opened = 0
    answered = 0  # the server sent something (e.g. a 408) before closing
    connect_failures = 0
    lifetimes = []

    def open_one():
        nonlocal opened, connect_failures
        try:
            sock = socket.create_connection(target, timeout=5)
            sock.sendall(REQUEST_LINE)
        except OSError:
            connect_failures += 1
            return
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, time.monotonic())
        opened += 1

    def cut_off(sock, opened_at):
        selector.unregister(sock)
        sock.close()
        lifetimes.append(time.monotonic() - opened_at)
        if time.monotonic() < deadline:
            open_one()

    # Spread the first connections over one interval so they don't all time out in the same instant.
    for i in range(args.connections):
        open_one()
        time.sleep(args.interval / args.connections)

    next_tick = time.monotonic()
    while (now := time.monotonic()) < deadline:
        for key, _ in selector.select(timeout=max(0.0, min(next_tick, deadline) - now)):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if data:
                answered += 1
            cut_off(key.fileobj, key.data)
        if time.monotonic() >= next_tick:
            next_tick += args.interval
            for key in list(selector.get_map().values()):
                try:
                    key.fileobj.send(b"a")
                except OSError:
                    cut_off(key.fileobj, key.data)

    end = time.monotonic()
    still_open = [end - key.data for key in selector.get_map().values()]
    for key in list(selector.get_map().values()):
        key.fileobj.close()

    def fmt(values, pick):
        return f"{pick(values):.2f}" if values else "-"

    print(
        f"SLOW opened={opened} cut_off={len(lifetimes)} answered_before_close={answered} "
        f"connect_failures={connect_failures} "
        f"lifetime_min_s={fmt(lifetimes, min)} lifetime_median_s={fmt(lifetimes, statistics.median)} "
        f"lifetime_max_s={fmt(lifetimes, max)} open_at_end={len(still_open)} "
        f"oldest_open_s={fmt(still_open, max)}"
    )


if __name__ == "__main__":
    main()
