"""schemathesis hooks for hyperjwt (loaded with SCHEMATHESIS_HOOKS=schemathesis_hooks).

Authentication: every case on a route that takes a token gets the tokens of a session of its
own, fresh from `/login`, so a `/logout` or `/logout/all` that schemathesis sends does not leave
the next cases with a revoked token. `/refresh` gets the refresh token, the others the access token.

With HYPERJWT_COOKIES=1 (a server with `JWT_TOKEN_LOCATION=headers,cookies`), the login must also
set the four cookies of docs/cookies.md, and the cases take turns, one in three each:
- `Authorization: Bearer`, as with headers alone (the header wins over any cookie);
- the token cookie (`access_token_cookie`, or `refresh_token_cookie` for `/refresh`) and, for a
  `POST`, `X-CSRF-TOKEN` set to the matching `csrf_*` cookie, as a browser page sends them;
- the token cookie with whatever `X-CSRF-TOKEN` schemathesis generated, or none: a `POST` must
  then be refused (`Missing CSRF token`, `CSRF double submit tokens do not match`), as the
  description says.

The logins come from 127.0.0.2, another client address than schemathesis's own requests (from
127.0.0.1): those include many failed logins, and once the per-address throttle answers them with
429, as it must, a login from the same address would be refused too, right password or not.
Linux routes all of 127.0.0.0/8 to the loopback, so no configuration is needed for it.

`POST /introspect` authenticates as the client HYPERJWT_INTROSPECTION_CLIENT (`id:secret`, one of
the server's INTROSPECTION_CLIENTS) with HTTP Basic.

Environment: HYPERJWT_HOST, HYPERJWT_PORT (the server), HYPERJWT_USER, HYPERJWT_PASSWORD,
HYPERJWT_COOKIES (optional, `1` for cookie mode), HYPERJWT_INTROSPECTION_CLIENT.
"""

import base64
import http.client
import itertools
import json
import os
import threading

import schemathesis

SECURED = ["/protected", "/refresh", "/logout", "/logout/all"]
COOKIE_NAMES = {"access_token_cookie", "refresh_token_cookie", "csrf_access_token", "csrf_refresh_token"}
COOKIE_MODE = os.environ.get("HYPERJWT_COOKIES") == "1"

_turns = itertools.count()
_turns_lock = threading.Lock()


def next_turn() -> int:
    with _turns_lock:
        return next(_turns) % 3


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
        session = json.loads(data)
        cookies = {}
        for line in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            cookies[name] = rest.split(";", 1)[0]
        if COOKIE_MODE and set(cookies) != COOKIE_NAMES:
            raise RuntimeError(f"login in cookie mode set the cookies {sorted(cookies)}, not {sorted(COOKIE_NAMES)}")
        if not COOKIE_MODE and cookies:
            raise RuntimeError(f"login with headers alone set cookies: {sorted(cookies)}")
        session["cookies"] = cookies
        return session
    finally:
        connection.close()


# refresh_interval=None: no caching, a new session for every case.
@schemathesis.auth(refresh_interval=None).apply_to(path=SECURED)
class FreshSession:
    def get(self, case, ctx):
        return login()

    def set(self, case, data, ctx):
        refresh = case.path == "/refresh"
        case.headers = case.headers or {}
        turn = next_turn() if COOKIE_MODE else 0
        if turn == 0:
            token = data["refresh_token"] if refresh else data["access_token"]
            case.headers["Authorization"] = f"Bearer {token}"
            return
        for header in [h for h in case.headers if h.lower() == "authorization"]:
            del case.headers[header]
        cookies = data["cookies"]
        name = "refresh_token_cookie" if refresh else "access_token_cookie"
        case.cookies = case.cookies or {}
        case.cookies[name] = cookies[name]
        if turn == 1 and case.method.upper() == "POST":
            case.headers["X-CSRF-TOKEN"] = cookies["csrf_refresh_token" if refresh else "csrf_access_token"]


@schemathesis.auth(refresh_interval=None).apply_to(path="/introspect")
class IntrospectionClient:
    def get(self, case, ctx):
        client = os.environ["HYPERJWT_INTROSPECTION_CLIENT"].encode()
        return "Basic " + base64.b64encode(client).decode()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = data
