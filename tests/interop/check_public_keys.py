#!/usr/bin/env python3
"""Tokens a hyperjwt server signs with a public key (EdDSA, ES256, RS256) verified by Python's real
verifiers, with nothing but the server's JWKS URL:

- PyJWT's PyJWKClient: fetches /.well-known/jwks.json, picks the key by the token's kid (and fetches
  again when it meets a kid it has not seen: a rotation), verifies;
- Flask-JWT-Extended configured with that key as JWT_PUBLIC_KEY (PEM) and the algorithm, through a
  @jwt_required() route of its own.

    python3 tests/interop/check_public_keys.py --base-url http://127.0.0.1:5000 TOKEN [TOKEN...]
    python3 tests/interop/check_public_keys.py --jwks-file before.json TOKEN [TOKEN...]

With --jwks-file, PyJWT verifies with a JWKS saved earlier instead (jwt.PyJWKSet, no fetching):
a token signed after a rotation verifies with the set saved before it, because its key was
published as `next` first. Each token must verify (and a copy with one payload character changed must not). Needs
`pip install "pyjwt[crypto]" flask-jwt-extended`; tests/interop/public_keys.sh runs it through a
rotation. Prints one line per check and `interop: N passed, M failed`; exits 1 if any failed.
"""
import argparse
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from flask import Flask, jsonify
from flask_jwt_extended import JWTManager, get_jwt, get_jwt_identity, jwt_required

ALGORITHMS = ["EdDSA", "ES256", "RS256"]


def tampered(token):
    header, payload, signature = token.split(".")
    middle = len(payload) // 2
    swapped = "A" if payload[middle] != "A" else "B"
    return ".".join([header, payload[:middle] + swapped + payload[middle + 1:], signature])


def flask_app(alg, public_pem):
    app = Flask(__name__)
    app.config.update(
        JWT_ALGORITHM=alg,
        JWT_DECODE_ALGORITHMS=[alg],
        JWT_PUBLIC_KEY=public_pem,
        JWT_PRIVATE_KEY="unused: this app only verifies",
    )
    JWTManager(app)

    @app.get("/whoami")
    @jwt_required()
    def whoami():
        return jsonify(user=get_jwt_identity(), jti=get_jwt()["jti"])

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url")
    parser.add_argument("--jwks-file")
    parser.add_argument("tokens", nargs="+")
    args = parser.parse_args()
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
        if ok:
            passed += 1
        else:
            failed += 1

    if args.jwks_file:
        with open(args.jwks_file) as f:
            saved = jwt.PyJWKSet.from_json(f.read())
        for token in args.tokens:
            header = jwt.get_unverified_header(token)
            name = f"the JWKS saved before has the key of the {header['alg']} token {header['kid'][:8]}"
            try:
                key = saved[header["kid"]]
                claims = jwt.decode(token, key.key, algorithms=ALGORITHMS)
                check(name + ", and PyJWT verifies it with that", claims["sub"] == "user1", claims)
            except Exception as e:  # noqa: BLE001
                check(name, False, repr(e))
        print(f"interop: {passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)

    # One client for every token, as a service keeps one: a later token with a new kid makes it
    # fetch the set again.
    client = jwt.PyJWKClient(args.base_url + "/.well-known/jwks.json")
    for token in args.tokens:
        header = jwt.get_unverified_header(token)
        alg, kid = header["alg"], header.get("kid", "")
        label = f"{alg} kid {kid[:8]}"
        try:
            key = client.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS)
            check(f"PyJWKClient verifies the {label} token", claims["sub"] == "user1", claims)
        except Exception as e:  # noqa: BLE001: any failure is the finding
            check(f"PyJWKClient verifies the {label} token", False, repr(e))
            continue
        try:
            jwt.decode(tampered(token), key.key, algorithms=ALGORITHMS)
            check(f"PyJWT refuses the {label} token with its payload changed", False, "accepted")
        except jwt.InvalidTokenError:
            check(f"PyJWT refuses the {label} token with its payload changed", True)

        public_pem = key.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        app = flask_app(alg, public_pem).test_client()
        reply = app.get("/whoami", headers={"Authorization": f"Bearer {token}"})
        check(
            f"Flask-JWT-Extended (JWT_PUBLIC_KEY) accepts the {label} token",
            reply.status_code == 200 and reply.get_json()["user"] == "user1",
            f"{reply.status_code} {reply.get_data(as_text=True)}",
        )
        reply = app.get("/whoami", headers={"Authorization": f"Bearer {tampered(token)}"})
        check(
            f"Flask-JWT-Extended refuses the {label} token with its payload changed",
            reply.status_code in (401, 422),
            f"{reply.status_code} {reply.get_data(as_text=True)}",
        )

    print(f"interop: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
