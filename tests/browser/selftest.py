#!/usr/bin/env python3
"""Checks the harness itself against pages in selftest/: a passing page (with a cross-origin read
the browser must refuse), a page that logs a console error, and a page that never finishes.
Exit 0 when the harness tells each apart; run as `python3 tests/browser/selftest.py`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import Chromium, StaticSite  # noqa: E402

ROOT = Path(__file__).parent / "selftest"


def main() -> int:
    failures = []
    with StaticSite(ROOT) as site, StaticSite(ROOT) as other, Chromium() as browser:
        # The refused read logs a CORS error: expected here, so allowed.
        ok = browser.run(site.url("ok.html", other=other.origin), timeout=20,
                         allow_console_errors=[r"blocked by CORS policy"])
        print(ok.to_json())
        if not ok.passed:
            failures.append("ok.html did not pass")
        elif not ok.result["crossOrigin"].startswith("refused"):
            failures.append("the cross-origin read was not refused")

        logged = browser.run(site.url("console-error.html"), timeout=20)
        if logged.passed or not any("something went wrong" in e for e in logged.console_errors):
            failures.append(f"console-error.html was not failed for its console error: {logged.to_json()}")

        never = browser.run(site.url("never-done.html"), timeout=2)
        if never.passed or not never.error or "within 2" not in never.error:
            failures.append(f"never-done.html was not failed on the timeout: {never.to_json()}")
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"browser harness self-test: {3 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
