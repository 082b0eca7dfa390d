#!/usr/bin/env python3
"""Runs examples/clients/python/client.py against a running hyperjwt whose access tokens live 1 s
(JWT_ACCESS_TOKEN_EXPIRES=1): login, /protected, the token expires and the client refreshes it by
itself, logout, and the logged-out session is refused. tests/deploy/clients.sh starts the server.

    python3 tests/deploy/check_python_client.py --base-url URL --username U --password P
"""

import argparse
import base64
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "clients" / "python"))
from client import ApiError, HyperjwtClient  # noqa: E402


def exp_of(token):
    """The `exp` claim of a JWT, read without checking it (only to know whether it has passed)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"))

    api = HyperjwtClient(args.base_url)
    try:
        api.login(args.username, "not the password")
        check("a wrong password is refused", False, "login succeeded")
    except ApiError as e:
        check("a wrong password is refused", (e.status, e.msg) == (401, "Invalid username or password"), e)

    api.login(args.username, args.password)
    check("login", bool(api.access_token and api.refresh_token))
    body = api.get("/protected").json()
    check("GET /protected", body == {"logged_in_as": args.username}, body)

    # The access token lives 1 s; exp is whole seconds, so 2.1 s is past it whatever the phase.
    time.sleep(2.1)
    body = api.get("/protected").json()
    check("GET /protected after expiry: refreshed once, then answered",
          body == {"logged_in_as": args.username} and api.refreshes == 1, (body, api.refreshes))

    old_access, old_refresh = api.access_token, api.refresh_token
    api.logout()
    check("logout", api.access_token is None)
    for name, token in [("access", old_access), ("refresh", old_refresh)]:
        stale = HyperjwtClient(args.base_url)
        stale.access_token = token
        try:
            stale.get("/protected")
            check(f"the logged-out {name} token is refused", False, "accepted")
        except ApiError as e:
            wanted = {"Only non-refresh tokens are allowed"} if name == "refresh" else {"Token has been revoked"}
            # The access token lives 1 s: on a loaded machine it may expire before this check, and
            # expiry is checked before revocation. "Expired" is right only once its exp has passed
            # by our clock after the answer (the server's check came before that).
            if name == "access" and time.time() >= exp_of(token):
                wanted.add("Token has expired")
            check(f"the logged-out {name} token is refused", e.status == 401 and e.msg in wanted, e)
    stale = HyperjwtClient(args.base_url)
    stale.refresh_token = old_refresh
    try:
        stale.refresh()
        check("the logged-out refresh token can't refresh", False, "refreshed")
    except ApiError as e:
        check("the logged-out refresh token can't refresh",
              (e.status, e.msg, e.www_authenticate) == (401, "Token has been revoked", 'Bearer error="invalid_token"'), e)

    failed = results.count(False)
    print(f"python client: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
