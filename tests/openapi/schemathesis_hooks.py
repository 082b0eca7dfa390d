"""schemathesis hooks for hyperjwt (loaded with SCHEMATHESIS_HOOKS=schemathesis_hooks).

Authentication: every case on a route that takes a bearer token gets the tokens of a session of
its own, fresh from `/login`, so a `/logout` or `/logout/all` that schemathesis sends does not leave
the next cases with a revoked token. `/refresh` gets the refresh token, the others the access token.

The logins come from 127.0.0.2, another client address than schemathesis's own requests (from
127.0.0.1): those include many failed logins, and once the per-address throttle answers them with
429, as it must, a login from the same address would be refused too, right password or not.
Linux routes all of 127.0.0.0/8 to the loopback, so no configuration is needed for it.

Environment: HYPERJWT_HOST, HYPERJWT_PORT (the server), HYPERJWT_USER, HYPERJWT_PASSWORD.
"""

import http.client
import json
import os

import schemathesis

SECURED = ["/protected", "/refresh", "/logout", "/logout/all"]


def login() -> dict:
    connection = http.client.HTTPConnection(
        os.environ["HYPERJWT_HOST"], int(os.environ["HYPERJWT_PORT"]), timeout=10,
        source_address=("127.0.0.2", 0),
    )
    try:
        body = json.dumps({"username": os.environ["HYPERJWT_USER"], "password": os.environ["HYPERJWT_PASSWORD"]})
        connection.request("POST", "/login", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"login for the test session failed: {response.status} {data[:200]!r}")
        return json.loads(data)
    finally:
        connection.close()


# refresh_interval=None: no caching, a new session for every case.
@schemathesis.auth(refresh_interval=None).apply_to(path=SECURED)
class FreshSession:
    def get(self, case, ctx):
        return login()

    def set(self, case, data, ctx):
        token = data["refresh_token"] if case.path == "/refresh" else data["access_token"]
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"
