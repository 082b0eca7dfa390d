#!/usr/bin/env python3
"""The other direction of interoperability: tokens issued by a running hyperjwt server are accepted by
Flask-JWT-Extended (and plain PyJWT) configured with the same secret.

    python3 tests/interop/check_with_flask_jwt_extended.py --base-url http://127.0.0.1:5000 --secret KEY

Needs `pip install flask-jwt-extended` (which brings PyJWT); `.ci/run` installs it into a scratch
virtualenv and runs this against the release server. Prints one line per check and
`interop: N passed, M failed`; exits 1 if any check failed.
"""
import argparse
import json
import sys
import urllib.request

import jwt
from flask import Flask
from flask_jwt_extended import JWTManager, decode_token


def login(base_url, username, password):
    req = urllib.request.Request(
        base_url + "/login", method="POST",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--secret", required=True)
    args = ap.parse_args()

    results = []

    def check(name, ok, why=""):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}" + ("" if ok else f": {why}"))

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
