#!/usr/bin/env python3
"""Sends exactly COUNT GET requests over one keep-alive connection and checks every answer is 200.

A fixed number of requests, where wrk runs for a fixed time: benches/request_instructions.sh
counts a server's instructions for N requests and needs N to be exact.

    python3 benches/keepalive_requests.py --port 8000 --path /protected --token TOKEN --count 1000
"""

import argparse
import http.client
import socket
import sys
import time


def wait_for(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/protected")
    parser.add_argument("--token")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--wait", type=float, default=30, help="seconds to wait for the server")
    args = parser.parse_args()
    wait_for(args.port, args.wait)
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
    for n in range(args.count):
        conn.request("GET", args.path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"request {n}: status {response.status}")
    conn.close()


if __name__ == "__main__":
    main()
