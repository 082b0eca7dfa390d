#!/usr/bin/env python3
"""Regenerates tests/interop/flask_jwt_extended_tokens.json: tokens minted by Flask-JWT-Extended 4.x.

Not run by CI (the Rust test reads the committed JSON and needs no Python). To regenerate:

    python3 -m venv /tmp/fjwt && /tmp/fjwt/bin/pip install flask-jwt-extended
    /tmp/fjwt/bin/python tests/interop/make_flask_fixtures.py > tests/interop/flask_jwt_extended_tokens.json
"""
import datetime
import json
import sys
from importlib.metadata import version

from flask import Flask, jsonify
from flask_jwt_extended import (JWTManager, create_access_token, create_refresh_token, decode_token,
                                set_access_cookies, set_refresh_cookies)

SECRET = "hyperjwt-interop-fixture-secret-0123456789"


def app_with(**config):
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = SECRET
    app.config.update(config)
    JWTManager(app)
    return app


def main():
    out = {
        "generator": f"flask-jwt-extended {version('flask-jwt-extended')}, PyJWT {version('pyjwt')}",
        "secret": SECRET,
    }
    # Default settings: 15-minute access tokens, 30-day refresh tokens.
    with app_with().app_context():
        access = create_access_token(identity="user1", fresh=True)
        refresh = create_refresh_token(identity="user1")
        out["default_access"] = {"token": access, "claims": decode_token(access)}
        out["default_refresh"] = {"token": refresh, "claims": decode_token(refresh)}
    # Cookie location with CSRF protection (the default there) adds a `csrf` claim. Long-lived, so a
    # black-box test can present them to a running server for decades.
    long = datetime.timedelta(days=365 * 50)
    with app_with(JWT_TOKEN_LOCATION=["headers", "cookies"], JWT_ACCESS_TOKEN_EXPIRES=long,
                  JWT_REFRESH_TOKEN_EXPIRES=long).app_context():
        access = create_access_token(identity="user1")
        refresh = create_refresh_token(identity="user2")
        out["long_access_with_csrf"] = {"token": access, "claims": decode_token(access)}
        out["long_refresh_with_csrf"] = {"token": refresh, "claims": decode_token(refresh)}
    # A whole cookie session as Flask-JWT-Extended starts one (its documented login view:
    # set_access_cookies, set_refresh_cookies), its Set-Cookie lines as its test client received them.
    # hyperjwt must take these cookies through its cookie path, with the CSRF cookies' values.
    app = app_with(JWT_TOKEN_LOCATION=["cookies"], JWT_ACCESS_TOKEN_EXPIRES=long,
                   JWT_REFRESH_TOKEN_EXPIRES=long)

    @app.post("/login")
    def login():
        response = jsonify(login=True)
        set_access_cookies(response, create_access_token(identity="user1"))
        set_refresh_cookies(response, create_refresh_token(identity="user1"))
        return response

    reply = app.test_client().post("/login")
    out["cookie_session"] = {"set_cookie": reply.headers.getlist("Set-Cookie")}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
