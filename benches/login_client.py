#!/usr/bin/env python3
"""A second client logging in during a login flood: one keep-alive connection from its own loopback
address (--source, 127.0.0.2 by default; every address in 127.0.0.0/8 is this host), one POST /login
after another for --seconds, each answer timed from the request's first byte to its last.

    python3 benches/login_client.py 127.0.0.1:5000 --seconds 8
    python3 benches/login_client.py 127.0.0.1:5000 --source 127.0.0.3 --user user1 --password password1

It does not pause between logins and does not wait out Retry-After: each attempt's fate (200, or
503 at once or after the server's bounded wait) is what is measured. benches/load-test.sh runs it
beside wrk's flood from 127.0.0.1 (the overload part). Standard library only. The last line is
machine-readable: "LOGINS key=value ...", with the attempts, the answers by status, and p50/p99/max
of the time to a 200 and of every attempt (`-` when there were none).
"""

import argparse
import http.client
import json
import math
import time


def percentile(values, fraction):
    """The value at `fraction` of the sorted `values` (nearest rank), or None."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(max(1, math.ceil(fraction * len(ordered))), len(ordered))
    return ordered[rank - 1]


def ms(value):
    return "-" if value is None else f"{value * 1000:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("addr", help="host:port of the server")
    parser.add_argument("--source", default="127.0.0.2", help="local address to connect from")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--user", default="user2")
    parser.add_argument("--password", default="password2")
    parser.add_argument("--timeout", type=float, default=30.0, help="per attempt, seconds")
    args = parser.parse_args()

    host, port = args.addr.rsplit(":", 1)
    body = json.dumps({"username": args.user, "password": args.password})
    headers = {"Content-Type": "application/json"}
    statuses = {}
    ok_times, all_times = [], []
    errors = 0
    connection = None
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        if connection is None:
            connection = http.client.HTTPConnection(
                host, int(port), timeout=args.timeout, source_address=(args.source, 0)
            )
        started = time.monotonic()
        try:
            connection.request("POST", "/login", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            # Closed by the server (a cap) or timed out: counted, and a fresh connection next time.
            errors += 1
            connection.close()
            connection = None
            time.sleep(0.01)
            continue
        elapsed = time.monotonic() - started
        statuses[response.status] = statuses.get(response.status, 0) + 1
        all_times.append(elapsed)
        if response.status == 200:
            ok_times.append(elapsed)
        if response.will_close:
            connection.close()
            connection = None
    if connection is not None:
        connection.close()

    other = sum(n for status, n in statuses.items() if status not in (200, 429, 503))
    print(
        "LOGINS "
        f"attempts={len(all_times) + errors} s200={statuses.get(200, 0)} s429={statuses.get(429, 0)} "
        f"s503={statuses.get(503, 0)} s_other={other} errors={errors} "
        f"ok_p50_ms={ms(percentile(ok_times, 0.5))} ok_p99_ms={ms(percentile(ok_times, 0.99))} "
        f"ok_max_ms={ms(max(ok_times) if ok_times else None)} "
        f"all_p50_ms={ms(percentile(all_times, 0.5))} all_p99_ms={ms(percentile(all_times, 0.99))}"
    )


if __name__ == "__main__":
    main()
