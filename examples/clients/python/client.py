#!/usr/bin/env python3
"""A hyperjwt client in Python with `requests`: log in, call protected routes, refresh the access
token when it expires, log out.

    pip install requests
    python3 client.py --base-url https://auth.example.com --username alice   # asks for the password

As a library:

    from client import HyperjwtClient
    api = HyperjwtClient("https://auth.example.com")
    api.login("alice", password)
    print(api.get("/protected").json())    # refreshes the access token once if it has expired
    api.logout()

The tokens live in this object's memory only. Every error answer of hyperjwt is JSON
`{"msg": ...}`; `ApiError` carries the status, that message and the `WWW-Authenticate` header.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import requests


class ApiError(Exception):
    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        try:
            self.msg = response.json().get("msg", "")
        except ValueError:
            self.msg = response.text
        self.www_authenticate = response.headers.get("WWW-Authenticate")
        self.retry_after = response.headers.get("Retry-After")
        super().__init__(f"{self.status}: {self.msg}")


class HyperjwtClient:
    def __init__(self, base_url: str, verify: bool | str = True, timeout: float = 10.0) -> None:
        """`verify` is requests' own: True (the system CAs), or a CA bundle's path."""
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.verify = verify
        self.timeout = timeout
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.refreshes = 0

    def _request(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            # RFC 6750 §2.1: the token goes in the Authorization header, never in the URL.
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs)

    def login(self, username: str, password: str) -> None:
        response = self._request("POST", "/login", json={"username": username, "password": password})
        if response.status_code != 200:
            # 401 wrong credentials; 429 and 503 say how long to wait in Retry-After.
            raise ApiError(response)
        tokens = response.json()
        self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]

    def refresh(self) -> None:
        response = self._request("POST", "/refresh", token=self.refresh_token)
        if response.status_code != 200:
            raise ApiError(response)
        tokens = response.json()
        self.access_token = tokens["access_token"]
        # With JWT_REFRESH_ROTATION=true the server also sends a new refresh token, and the old
        # one is spent: keep the new one, or the next refresh ends the whole session.
        self.refresh_token = tokens.get("refresh_token", self.refresh_token)
        self.refreshes += 1

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET with the access token; on `Token has expired`, refreshes once and tries again."""
        response = self._request("GET", path, token=self.access_token, **kwargs)
        if response.status_code == 401 and self._expired(response) and self.refresh_token:
            self.refresh()
            response = self._request("GET", path, token=self.access_token, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response)
        return response

    @staticmethod
    def _expired(response: requests.Response) -> bool:
        try:
            return response.json().get("msg") == "Token has expired"
        except ValueError:
            return False

    def logout(self) -> None:
        """Ends this session: the access token's and, named in the body, the refresh token's."""
        body = {"refresh_token": self.refresh_token} if self.refresh_token else None
        response = self._request("POST", "/logout", token=self.access_token or self.refresh_token, json=body)
        if response.status_code == 401 and self._expired(response) and self.refresh_token:
            # An expired access token can't authenticate the logout; the refresh token can.
            response = self._request("POST", "/logout", token=self.refresh_token, json=body)
        if response.status_code != 200:
            raise ApiError(response)
        self.access_token = self.refresh_token = None

    def logout_all(self) -> None:
        """Ends every session of this user, on every device."""
        response = self._request("POST", "/logout/all", token=self.access_token or self.refresh_token)
        if response.status_code != 200:
            raise ApiError(response)
        self.access_token = self.refresh_token = None


def main() -> int:
    parser = argparse.ArgumentParser(description="log in, call /protected, log out")
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--cacert", help="CA bundle to verify the server's certificate with")
    args = parser.parse_args()
    password = getpass.getpass() if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")

    api = HyperjwtClient(args.base_url, verify=args.cacert or True)
    try:
        api.login(args.username, password)
        print("logged in")
        print("GET /protected:", api.get("/protected").json())
        api.logout()
        print("logged out")
    except ApiError as e:
        print(f"refused: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
