#!/usr/bin/env python3
"""A browser session with tokens in HttpOnly cookies, in a real headless Chromium (docs/cookies.md).

Starts the hyperjwt binary with JWT_TOKEN_LOCATION=cookies and CORS_ORIGINS naming one page origin
(127.0.0.1, another port: cross-origin, same site), then drives Chromium through the harness in
tests/browser/ (harness.py):

1. pages/app.html?phase=login on the allowed origin: login, document.cookie has the csrf_* cookies
   and not the token cookies, GET /protected, POST /logout without (and with a wrong) X-CSRF-TOKEN
   is refused, POST /refresh with the refresh cookie, GET /protected with the new access cookie;
2. pages/other.html on an origin off the allow-list, same site (127.0.0.1, a third port): it can't
   read anything, and its state-changing requests never pass the preflight or are refused; it also
   sets a cookie of its own for the host, theme=café (non-ASCII bytes), which must hide nothing;
3. the same page cross-site (http://localhost:port): SameSite=Strict keeps the cookies at home;
4. pages/app.html?phase=logout: the session survived, POST /logout ends it and deletes the cookies.

The server's access log is checked too: what the other pages' requests did on the server's side.

    python3 tests/browser_cookies/run.py --binary target/release/hyperjwt [--insecure-cookies]

Needs Chromium (apt-get install -y chromium) and websocket-client (tests/browser/requirements.txt).
Prints each page's report and `browser cookies: N passed, M failed`; exits 0 only if all passed.
Secure cookies are kept on (the default): Chromium treats http://127.0.0.1 as potentially
trustworthy and stores Secure cookies from it. --insecure-cookies runs with JWT_COOKIE_SECURE=false,
for a browser that does not.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "browser"))
from harness import Chromium, StaticSite  # noqa: E402

SECRET = "browser-cookie-test-secret-0123456789abcdef"
# What Chromium logs for a request the page expected it to refuse.
CORS_REFUSED = r"blocked by CORS policy"


class Server:
    """The hyperjwt binary on 127.0.0.1, a free port; its stderr collected; stopped by its PID."""

    def __init__(self, binary, env):
        self.process = subprocess.Popen(
            [binary], env={"PATH": os.environ.get("PATH", ""), "HOST": "127.0.0.1", "PORT": "0", **env},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.address = None
        ready = threading.Event()

        def read():
            for line in self.process.stderr:
                self.lines.append(line.rstrip("\n"))
                found = re.search(r"listening on (http://\S+)", line)
                if found and not self.address:
                    self.address = found.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(15) or not self.address:
            self.stop()
            raise RuntimeError("the server did not start: " + "\n".join(self.lines))

    def access_log(self, since):
        """The `METHOD /path STATUS` of each access-log line from index `since` on."""
        time.sleep(0.5)  # the logger writes in batches
        found = []
        for line in self.lines[since:]:
            m = re.search(r"\b(GET|HEAD|POST|OPTIONS) (/\S*) (\d{3}) [\d.]+ms", line)
            if m:
                found.append(" ".join(m.groups()))
        return found

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/hyperjwt")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--insecure-cookies", action="store_true",
                    help="JWT_COOKIE_SECURE=false, for a browser that refuses Secure cookies over http://127.0.0.1")
    args = ap.parse_args()

    results = []

    def why(page):
        """A failed page's error, or the steps it failed."""
        steps = page.result.get("steps", []) if isinstance(page.result, dict) else []
        return page.error or page.console_errors or [s["name"] for s in steps if not s.get("ok")]

    def check(name, ok, detail=""):
        results.append(bool(ok))
        print(f"{'PASS' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"))

    pages = HERE / "pages"
    with StaticSite(pages) as app, StaticSite(pages) as other, \
            StaticSite(pages, host="localhost") as cross_site:
        env = {
            "JWT_SECRET_KEY": SECRET,
            "JWT_TOKEN_LOCATION": "cookies",
            "CORS_ORIGINS": app.origin,
        }
        if args.insecure_cookies:
            env["JWT_COOKIE_SECURE"] = "false"
        server = Server(args.binary, env)
        try:
            print(f"server {server.address}; allowed page origin {app.origin}; "
                  f"other origin {other.origin} (same site); {cross_site.origin} (cross-site)")
            with Chromium() as browser:
                def page(site, name, allow=(), **query):
                    result = browser.run(site.url(name, api=server.address, **query),
                                         timeout=args.timeout, allow_console_errors=list(allow))
                    print(result.to_json())
                    return result

                start = len(server.lines)
                login = page(app, "app.html", phase="login")
                check("allowed origin: login, cookies, CSRF refusals, refresh", login.passed, why(login))
                seen = server.access_log(start)
                check("the server saw the page's calls, preflights included",
                      "OPTIONS /refresh 204" in seen and "POST /refresh 200" in seen
                      and seen.count("POST /logout 401") == 2, seen)

                start = len(server.lines)
                same_site = page(other, "other.html", allow=[CORS_REFUSED])
                check("origin off the allow-list (same site) gets nothing", same_site.passed, why(same_site))
                seen = server.access_log(start)
                # Same site: the browser sends the cookies, the server answers, the browser hides
                # the answer (no Access-Control-Allow-Origin for this origin). The custom header's
                # preflight is refused, so that request never leaves; the no-cors one lacks it.
                check("on the server: its read answered but hidden, its preflight refused, its "
                      "header-less POST refused", seen == ["GET /protected 200", "OPTIONS /logout 403",
                                                           "POST /logout 401"], seen)

                start = len(server.lines)
                cross = page(cross_site, "other.html", allow=[CORS_REFUSED])
                check("origin off the allow-list (cross-site) gets nothing", cross.passed, why(cross))
                seen = server.access_log(start)
                # Cross-site, SameSite=Strict keeps every cookie home: the read has no token at all.
                check("on the server: no cookie reached it from the other site",
                      seen == ["GET /protected 401", "OPTIONS /logout 403", "POST /logout 401"], seen)

                start = len(server.lines)
                logout = page(app, "app.html", phase="logout")
                check("allowed origin: session intact, logout, cookies deleted", logout.passed, why(logout))
                seen = server.access_log(start)
                check("the server saw the logout", "POST /logout 200" in seen, seen)
        finally:
            server.stop()
    failed = results.count(False)
    print(f"browser cookies: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
