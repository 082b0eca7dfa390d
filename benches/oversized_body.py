#!/usr/bin/env python3
"""Does a client that writes a whole oversized body get to read the 413? Posts N-byte bodies to
/login with Python's http.client (what `requests` uses: no `Expect: 100-continue`, the body is
written in full before the answer is read) and counts what came back.

    python3 benches/oversized_body.py 127.0.0.1:5000 --sizes 1000000 5000000 --tries 10

Standard library only. Prints one line per size: how many tries got a 413 and which errors the
others got (BrokenPipeError, ConnectionResetError, ...).
"""

import argparse
import collections
import http.client


def one_try(host, port, size):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("POST", "/login", body=b"x" * size, headers={"Content-Type": "application/json"})
        return str(conn.getresponse().status)
    except OSError as e:
        return type(e).__name__
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addr", help="HOST:PORT")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--tries", type=int, default=10)
    args = parser.parse_args()
    host, port = args.addr.rsplit(":", 1)
    for size in args.sizes:
        outcomes = collections.Counter(one_try(host, int(port), size) for _ in range(args.tries))
        got = outcomes.pop("413", 0)
        others = ", ".join(f"{k} x{v}" for k, v in sorted(outcomes.items())) or "none"
        print(f"{size} bytes: 413 in {got} of {args.tries} tries; other outcomes: {others}")


if __name__ == "__main__":
    main()
