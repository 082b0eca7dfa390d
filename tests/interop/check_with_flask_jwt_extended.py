#!/usr/bin/env python3
"""The other direction of interoperability: tokens issued by a running hyperjwt server are accepted by
Flask-JWT-Extended (and plain PyJWT) configured with the same secret.

    python3 tests/interop/check_with_flask_jwt_extended.py --base-url http://127.0.0.1:5000 --secret KEY

With --cookies, the server runs with JWT_TOKEN_LOCATION=cookies and the check is of a browser
session instead: the cookies hyperjwt's /login sets (names, the csrf claim and its readable cookie)
are taken by a Flask-JWT-Extended app with JWT_TOKEN_LOCATION=["cookies"] through its own cookie
path, with its CSRF double submit: accepted with the right X-CSRF-TOKEN, refused with Flask's texts
without it or with a wrong one.

Needs `pip install flask-jwt-extended` (which brings PyJWT); `.ci/run` installs it into a scratch
virtualenv and runs this against the release server. Prints one line per check and
`interop: N passed, M failed`; exits 1 if any check failed.
"""
import argparse
import json
import sys
import urllib.request

import jwt
from flask import Flask, jsonify
from flask_jwt_extended import JWTManager, decode_token, get_csrf_token, get_jwt_identity, jwt_required


def login(base_url, username, password, cookies=None):
    """The JSON body of a /login; with `cookies` (a dict), also the cookies its answer set."""
    req = urllib.request.Request(
        base_url + "/login", method="POST",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        if cookies is not None:
            for line in resp.headers.get_all("Set-Cookie") or []:
                name, _, value = line.split(";")[0].partition("=")
                cookies[name] = value
        return json.load(resp)


def check_cookies(args, check):
    """hyperjwt's cookie session, continued by Flask-JWT-Extended through its cookie path."""
    cookies = {}
    login(args.base_url, "user1", "password1", cookies)
    expected = ["access_token_cookie", "csrf_access_token", "refresh_token_cookie", "csrf_refresh_token"]
    check("hyperjwt sets Flask-JWT-Extended's four cookie names", sorted(cookies) == sorted(expected),
          f"{sorted(cookies)}")
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=args.secret, JWT_TOKEN_LOCATION=["cookies"])
    JWTManager(app)

    @app.post("/api")
    @jwt_required()
    def api():
        return jsonify(user=get_jwt_identity())

    @app.post("/renew")
    @jwt_required(refresh=True)
    def renew():
        return jsonify(user=get_jwt_identity())

    with app.app_context():
        for kind in ("access", "refresh"):
            token = cookies.get(f"{kind}_token_cookie", "")
            try:
                same = get_csrf_token(token) == cookies.get(f"csrf_{kind}_token")
                check(f"Flask-JWT-Extended reads the {kind} token's csrf claim as the csrf_{kind}_token cookie",
                      same, f"{get_csrf_token(token)} vs {cookies.get(f'csrf_{kind}_token')}")
            except Exception as e:  # noqa: BLE001
                check(f"Flask-JWT-Extended reads the {kind} token's csrf claim", False, repr(e))

    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    for route, kind in (("/api", "access"), ("/renew", "refresh")):
        csrf = cookies.get(f"csrf_{kind}_token", "")
        other = cookies.get("csrf_refresh_token" if kind == "access" else "csrf_access_token", "")
        for header, status, msg in ((csrf, 200, None), (None, 401, "Missing CSRF token"),
                                    (other, 401, "CSRF double submit tokens do not match")):
            headers = {} if header is None else {"X-CSRF-TOKEN": header}
            reply = client.post(route, headers=headers)
            body = reply.get_json(silent=True) or {}
            ok = reply.status_code == status and (body.get("user") == "user1" if msg is None else body.get("msg") == msg)
            what = "the right" if msg is None else ("no" if header is None else "the wrong")
            check(f"Flask-JWT-Extended, {kind} cookie from hyperjwt with {what} X-CSRF-TOKEN: {status}"
                  + (f" {msg!r}" if msg else ""), ok, f"{reply.status_code} {body}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--cookies", action="store_true",
                    help="the server runs with JWT_TOKEN_LOCATION=cookies: check its cookie session")
    args = ap.parse_args()

    results = []

    def check(name, ok, why=""):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}" + ("" if ok else f": {why}"))

    if args.cookies:
        check_cookies(args, check)
        failed = results.count(False)
        print(f"interop (cookies): {len(results) - failed} passed, {failed} failed")
        return 1 if failed else 0

    tokens = login(args.base_url, "user1", "password1")
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = args.secret
    JWTManager(app)
    with app.app_context():
        for kind, fresh in [("access", True), ("refresh", False)]:
            token = tokens[f"{kind}_token"]
            try:
                claims = decode_token(token)
                check(f"Flask-JWT-Extended decodes hyperjwt's {kind} token",
                      claims["sub"] == "user1" and claims["type"] == kind and claims["fresh"] is fresh,
                      f"claims {claims}")
            except Exception as e:  # noqa: BLE001
                check(f"Flask-JWT-Extended decodes hyperjwt's {kind} token", False, repr(e))
            try:
                claims = jwt.decode(token, args.secret, algorithms=["HS256"],
                                    options={"require": ["exp", "iat", "nbf", "jti", "sub"]})
                check(f"PyJWT verifies hyperjwt's {kind} token", claims["sub"] == "user1", f"{claims}")
            except Exception as e:  # noqa: BLE001
                check(f"PyJWT verifies hyperjwt's {kind} token", False, repr(e))
            try:
                jwt.decode(token, args.secret + "x", algorithms=["HS256"])
                check(f"PyJWT refuses hyperjwt's {kind} token under another key", False, "accepted")
            except jwt.InvalidSignatureError:
                check(f"PyJWT refuses hyperjwt's {kind} token under another key", True)

    failed = results.count(False)
    print(f"interop: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
