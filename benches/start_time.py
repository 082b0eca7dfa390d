#!/usr/bin/env python3
"""Start-up time: spawns a server binary on a free 127.0.0.1 port and polls it in a tight loop until
GET /healthz is answered; the time from spawn to that answer, repeated --runs times.

    python3 benches/start_time.py target/release/hyperjwt --runs 10

benches/footprint.sh runs it. The binary gets the current environment plus HOST and PORT, and runs
in the current directory (so a .env there would be read). Prints one line per run and a final
"START key=value ..." line with min and median in ms. Standard library only.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def first_answer(port, started, limit=10.0):
    """Polls until a full status line arrives from GET /healthz; returns seconds since `started`."""
    while time.perf_counter() - started < limit:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - started
        except (ConnectionRefusedError, ConnectionResetError):
            pass
        # Polling without a pause would take a core from the starting server on a small machine.
        time.sleep(0.0002)
    raise TimeoutError(f"no answer within {limit} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    # SIGTERM (the calling script cleaning up) unwinds through `finally`, which stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    times = []
    for run in range(1, args.runs + 1):
        port = free_port()
        env = dict(os.environ, HOST="127.0.0.1", PORT=str(port))
        started = time.perf_counter()
        server = subprocess.Popen(
            [args.binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            elapsed = first_answer(port, started)
        finally:
            server.terminate()
            server.wait()
        times.append(elapsed * 1000)
        print(f"run {run}: {times[-1]:.2f} ms", flush=True)
    print(
        f"START runs={len(times)} min_ms={min(times):.2f} median_ms={statistics.median(times):.2f} "
        f"max_ms={max(times):.2f}"
    )


if __name__ == "__main__":
    main()
