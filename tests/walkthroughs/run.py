#!/usr/bin/env python3
"""Runs the walk-throughs of README.md and docs/ as pasted, and checks their relative links.

Every transcript block (a fenced block whose first line starts with `$ `) is run, one command at a
time, in one bash session per file, in a fresh temporary directory with the release binary on PATH
as `hyperjwt`. Each command's output (stdout and stderr, as a terminal shows them) must match the
lines the page shows under it, after both are normalised: tokens, bcrypt hashes, keys, UUIDs,
request ids, times, dates and durations become placeholders, so a page can show a real run. A line
`...` in a page stands for any number of lines.

What a reader does by hand, the page says in an HTML comment, which renderers hide:

    <!-- walkthrough: server [PORT] -->   the next ```sh block starts the server (e.g. `cargo run
                                          --release`): run it in the background, log to a file, and
                                          wait until it answers. A later `server` or `stop` ends it.
    <!-- walkthrough: stop -->            stop that server (Ctrl-C).
    <!-- walkthrough: log [FILE] -->      every line of the next block is in the server's log (or
                                          FILE's, relative to the session's directory).
    <!-- walkthrough: skip REASON -->     the next block is not run (say why: typed at a terminal).
    <!-- walkthrough: file NAME -->       the next block is a file the reader saves as NAME.
    <!-- walkthrough: requires CMD... --> the page needs these commands (redis-server, nginx): without
                                          them it is SKIPPED, and under CI=true that fails.
    <!-- walkthrough: binary redis -->    `hyperjwt` is a build with `--features redis` (or any features,
                                          comma-separated: `binary public-keys`).

Ports: the pages use 127.0.0.1:5000 (and other fixed ports); each is mapped to a free port, both in
the commands and saved files (`127.0.0.1:5000`, `localhost:5000`, `PORT=5000`, `--port 6379`,
`--tls-port 6380`, and `PORT` exported for servers started without it) and back in the outputs, so
runs never collide with a server already on 5000.

    python3 tests/walkthroughs/run.py                 # every page
    python3 tests/walkthroughs/run.py docs/cli.md     # one page
    python3 tests/walkthroughs/run.py --links         # only the link check
    python3 tests/walkthroughs/run.py --fix FILE      # write the differing outputs into FILE's blocks
    python3 tests/walkthroughs/run.py --refresh FILE  # write every output of this run into FILE

A block with a `...` line, or a log block with blank lines, is never rewritten.

Needs bash, curl and python3; `.ci/run` runs it after `cargo build --release`.
"""

import argparse
import difflib
import glob
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from links import FENCE, ROOT, check_links

PAGES = [
    "README.md",
    "docs/getting-started.md",
    "docs/cli.md",
    "docs/configuration.md",
    "docs/operations.md",
    "docs/cookies.md",
    "docs/jwt.md",
    "docs/deploy.md",
    "docs/scaling.md",
]
DIRECTIVE = re.compile(r"^<!--\s*walkthrough:\s*(\S+)\s*(.*?)\s*-->\s*$")
MARK = "<<walkthrough-done-8c1f>>"
COMMAND_TIMEOUT = 120

# What differs from run to run, in the order it is replaced (a JWT before the base64 inside it).
PLACEHOLDERS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}…?"), "<JWT>"),
    (re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}"), "<BCRYPT>"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"), "<TIME>"),
    (re.compile(r"\b[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT"), "<DATE>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<UTC>"),
    (re.compile(r"\b[0-9a-f]{16}-[0-9a-f]{12}\b"), "<REQUEST-ID>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<UUID>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<KEY>"),
    # The JWKS's entity tag: 22 base64url characters of its hash, quoted.
    (re.compile(r'(?i)(\betag: )"[A-Za-z0-9_-]{22}"'), r'\1"<ETAG>"'),
    (re.compile(r"(\bkid\"?:? ?\"?)[A-Za-z0-9_-]{11}(?![A-Za-z0-9_-])"), r"\1<KID>"),
    # RFC 7638 thumbprints: the kid of a public key (SHA-256, 43 base64url characters).
    (re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"), "<THUMBPRINT>"),
    (re.compile(r"\b1[6-9]\d{8}\b"), "<UNIX-TIME>"),
    (re.compile(r"\b\d+(?:\.\d+)?ms\b"), "<MS>"),
    (re.compile(r'("duration_ms":)\d+(?:\.\d+)?'), r"\1<MS>"),
    (
        re.compile(
            r"\b(?:\d+d(?: \d+h)?(?: \d+m)?(?: \d+s)?|\d+h(?: \d+m)?(?: \d+s)?|\d+m(?: \d+s)?|\d+s)\b"
        ),
        "<DURATION>",
    ),
    (re.compile(r"<DURATION> ago|\bnow\b"), "<WHEN>"),
    (re.compile(r"\bPID \d+"), "PID <PID>"),
]


def normalise(line):
    for pattern, placeholder in PLACEHOLDERS:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def matches(expected, actual):
    """Whether the actual lines fit the expected ones, where a line `...` matches any run of lines."""
    expected = [normalise(line) for line in expected]
    actual = [normalise(line) for line in actual]
    memo = {}

    def fit(i, j):
        if (i, j) not in memo:
            if i == len(expected):
                memo[(i, j)] = j == len(actual)
            elif expected[i] == "...":
                memo[(i, j)] = any(fit(i + 1, k) for k in range(j, len(actual) + 1))
            else:
                memo[(i, j)] = j < len(actual) and expected[i] == actual[j] and fit(i + 1, j + 1)
        return memo[(i, j)]

    return fit(0, 0)


# ---- reading a page -------------------------------------------------------------------------


class Block:
    def __init__(self, lang, start, lines, directives):
        self.lang = lang
        self.start = start  # index of the first line inside the fence
        self.lines = lines
        self.directives = directives  # [(name, argument)] from the comments just above the fence

    def directive(self, name):
        return next((arg for n, arg in self.directives if n == name), None)

    def commands(self):
        """[(command, expected output lines, index of the first output line)] of a transcript."""
        out = []
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            if not line.startswith("$ "):
                if out:
                    out[-1][1].append(line)
                i += 1
                continue
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(self.lines):
                i += 1
                command += "\n" + self.lines[i]
            i += 1
            out.append((command, [], self.start + i))
        for _, expected, _ in out:
            while expected and expected[-1].strip() == "":
                expected.pop()
        return out

    def is_transcript(self):
        return bool(self.lines) and self.lines[0].startswith("$ ")


def read_page(path):
    """The page's lines, its fenced blocks, and its page-wide directives."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, page_directives, pending = [], [], []
    i = 0
    while i < len(lines):
        found = DIRECTIVE.match(lines[i].strip())
        fence = FENCE.match(lines[i])
        if found:
            name, arg = found.group(1), found.group(2)
            if name in ("requires", "binary"):
                page_directives.append((name, arg))
            else:
                pending.append((name, arg))
        elif fence:
            marker = fence.group(2)
            j = i + 1
            while j < len(lines) and not lines[j].lstrip().startswith(marker):
                j += 1
            blocks.append(Block(fence.group(3), i + 1, lines[i + 1 : j], pending))
            pending = []
            i = j
        elif lines[i].strip() and pending and not lines[i].startswith("<!--"):
            raise SystemExit(f"{path}:{i + 1}: a walkthrough comment must come just before a block")
        i += 1
    return lines, blocks, page_directives


# ---- running a page -------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    """Whether something listens on the port: a bare connect, so the server logs no request for it."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Session:
    """One bash process for a page, in its own directory and process group."""

    def __init__(self, work, binary, env_extra):
        self.work = work
        self.cwd = os.path.join(work, "session")
        self.logs = os.path.join(work, "logs")
        bin_dir = os.path.join(work, "bin")
        for d in (self.cwd, self.logs, bin_dir):
            os.makedirs(d)
        os.symlink(binary, os.path.join(bin_dir, "hyperjwt"))
        self.ports = {}
        env = {
            k: v for k, v in os.environ.items()
            if k in ("HOME", "USER", "LOGNAME", "TMPDIR", "CARGO_HOME", "RUSTUP_HOME", "CARGO_TARGET_DIR")
        }
        env.update(PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), LANG="C.UTF-8", TERM="dumb")
        env["PORT"] = str(self.port(5000))
        env.update(env_extra)
        self.proc = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            cwd=self.cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.servers = 0
        self.server_log = None
        self.server_port = None

    def port(self, doc_port):
        doc_port = int(doc_port)
        if doc_port not in self.ports:
            self.ports[doc_port] = free_port()
        return self.ports[doc_port]

    def to_run(self, command):
        def mapped(m):
            return m.group(1) + str(self.port(m.group(2)) if int(m.group(2)) < 65536 else m.group(2))

        command = re.sub(r"\b((?:127\.0\.0\.1|localhost):)(\d{4,5})\b", mapped, command)
        command = re.sub(r"(--(?:tls-)?port )(\d{4,5})\b", mapped, command)
        return re.sub(r"\b(PORT=)(\d{4,5})\b", mapped, command)

    def as_shown(self, text):
        back = {str(v): str(k) for k, v in self.ports.items()}
        text = re.sub(r"\b(127\.0\.0\.1|localhost):(\d+)\b", lambda m: f"{m.group(1)}:{back.get(m.group(2), m.group(2))}", text)
        return re.sub(r"\bPORT=(\d+)\b", lambda m: f"PORT={back.get(m.group(1), m.group(1))}", text)

    def run(self, command, timeout=COMMAND_TIMEOUT):
        """Runs one command; returns what it printed, as a terminal would show it."""
        script = f"{command}\nprintf '%s\\n' '{MARK}'\n"
        self.proc.stdin.write(script.encode())
        self.proc.stdin.flush()
        data = b""
        deadline = time.monotonic() + timeout
        marker = MARK.encode() + b"\n"
        while marker not in data:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError(f"no end of output within {timeout}s (or bash exited): {data.decode(errors='replace')!r}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    continue
                data += chunk
        text = data[: data.index(marker)].decode(errors="replace")
        return self.as_shown(text)

    def wait_for(self, port, what):
        for _ in range(200):
            if answers(port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{what} never answered on port {port}")

    def start_server(self, block):
        self.stop_server()
        doc_port = int(block.directive("server") or 5000)
        command = " ".join(line.strip() for line in block.lines if line.strip() and not line.startswith("#"))
        self.servers += 1
        self.server_log = os.path.join(self.logs, f"server-{self.servers}.log")
        self.server_port = self.port(doc_port)
        # `cargo run` as the page says, from the repository; anything else in the session's folder.
        where = ROOT if command.startswith("cargo ") or " cargo " in command else self.cwd
        self.run(f"(cd {where!r} && PORT={self.server_port} exec env {self.to_run(command)}) >{self.server_log!r} 2>&1 & WT_SERVER=$!")
        self.wait_for(self.server_port, command)

    def stop_server(self):
        if self.server_log:
            self.run('kill -INT "$WT_SERVER" 2>/dev/null; wait "$WT_SERVER" 2>/dev/null; true')
            self.server_log = None

    def close(self):
        """Ends the session's process group: bash, and whatever a page that failed half-way left
        running in the background. SIGTERM first; SIGKILL for what is left after 5 s (a
        redis-server whose directory is being removed can refuse to shut down for ever)."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            self.proc.poll()
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()


def cut_tokens(text):
    return re.sub(r"(eyJ[A-Za-z0-9_-]{20})[A-Za-z0-9_.-]*", r"\1…", text)


def run_page(page, args):
    path = os.path.join(ROOT, page)
    lines, blocks, page_directives = read_page(path)
    if not any(b.is_transcript() or b.directive("server") is not None for b in blocks):
        print(f"--- {page}: no walk-through to run")
        return 0, 0, []
    needs = " ".join(arg for name, arg in page_directives if name == "requires").split()
    missing = [tool for tool in needs if shutil.which(tool) is None]
    if missing:
        return 0, 0, [f"{page}: needs {', '.join(missing)}"]
    binary = args.binary
    features = [arg.strip() for name, arg in page_directives if name == "binary"]
    if features:
        wanted = features[0]
        binary = (args.redis_binary if wanted == "redis" else None) or feature_binary(wanted)
        if not binary or not os.path.exists(binary):
            return 0, 0, [f"{page}: needs a binary built with --features {wanted}"]
    print(f"--- {page}")
    work = tempfile.mkdtemp(prefix="walkthrough-")
    session = Session(work, os.path.abspath(binary), {})
    passed = failed = 0
    fixes = []
    try:
        for block in blocks:
            skip = block.directive("skip")
            if skip is not None:
                if block.is_transcript():
                    print(f"skip {page}:{block.start}: {skip}")
                continue
            if block.directive("server") is not None:
                session.start_server(block)
                continue
            name = block.directive("file")
            if name:
                # What the reader saves from the page, written where the session stands now.
                where = session.run("pwd").strip()
                with open(os.path.join(where, name), "w", encoding="utf-8") as f:
                    f.write(session.to_run("\n".join(block.lines)) + "\n")
                continue
            if block.directive("stop") is not None:
                session.stop_server()
            log = block.directive("log")
            if log is not None:
                ok = check_log(session, block, log, fixes if args.refresh else None)
                passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
                print(f"{'PASS' if ok else 'FAIL'} {page}:{block.start}: the log has these lines")
                continue
            if not block.is_transcript():
                continue
            p, f = run_transcript(session, block, page, args, fixes)
            passed, failed = passed + p, failed + f
        session.stop_server()
    finally:
        session.close()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if (args.fix or args.refresh) and fixes:
        for start, end, new in sorted(fixes, reverse=True):
            lines[start:end] = new
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"wrote {len(fixes)} output(s) into {page}")
    return passed, failed, []


def run_transcript(session, block, page, args, fixes):
    """Runs each command of a transcript block and compares its output; returns (passed, failed)."""
    passed = failed = 0
    for command, expected, first in block.commands():
        actual = [line.rstrip("\r") for line in session.run(session.to_run(command)).split("\n")]
        while actual and actual[-1].strip() == "":
            actual.pop()
        if command.split("#")[0].rstrip().endswith("&"):
            # A reader waits for a server started in the background; so does this.
            port = re.search(r"(?:\bPORT=|--(?:tls-)?port )(\d{4,5})\b", command)
            if port or "hyperjwt" in command:
                session.wait_for(session.port(port.group(1) if port else 5000), command)
        ok = matches(expected, actual)
        if ok:
            passed += 1
            if args.verbose:
                print(f"PASS {page}:{first}: $ {command.splitlines()[0]}")
        else:
            failed += 1
            print(f"FAIL {page}:{first}: $ {command.splitlines()[0]}")
            diff = difflib.unified_diff(
                [normalise(l) for l in expected], [normalise(l) for l in actual],
                "the page (normalised)", "this run (normalised)", lineterm="", n=2,
            )
            print("\n".join("    " + l for l in diff))
        if "..." not in expected and expected != actual and (args.refresh or not ok):
            # Tokens the page shows cut short stay cut short.
            cut = any("…" in l for l in expected)
            fixes.append((first, first + len(expected), [cut_tokens(l) if cut else l for l in actual]))
    return passed, failed


def feature_binary(features):
    """A release build with these features, in a target folder of its own (the default build stays as it is)."""
    # The same folder .ci/run builds a feature into (target/public-keys), so CI builds it once.
    target = os.path.join(ROOT, "target", features.replace(",", "-"))
    print(f"building hyperjwt with --features {features} for the pages that need it")
    built = subprocess.run(
        ["cargo", "build", "--release", "--features", features, "--target-dir", target], cwd=ROOT
    )
    return os.path.join(target, "release", "hyperjwt") if built.returncode == 0 else None


def check_log(session, block, log_file, fixes=None):
    path = os.path.join(session.cwd, log_file) if log_file else session.server_log
    if not path:
        print(f"a log block at line {block.start} with no server running")
        return False
    wanted = [normalise(l) for l in block.lines if l.strip()]
    for _ in range(40):  # info lines are written in batches, up to 100 ms late
        have = [normalise(session.as_shown(l)) for l in open(path, encoding="utf-8", errors="replace").read().split("\n")]
        missing = [w for w in wanted if w not in have]
        if not missing:
            if fixes is not None:
                raw = [session.as_shown(l) for l in open(path, encoding="utf-8", errors="replace").read().split("\n")]
                new = [raw[have.index(w)] for w in wanted]
                fixes.append((block.start, block.start + len(block.lines), new))
            return True
        time.sleep(0.05)
    print("    not in the log:\n" + "\n".join("      " + m for m in missing))
    print("    the log:\n" + "\n".join("      " + h for h in have))
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", help="pages to run (default: every page with walk-throughs)")
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/hyperjwt"))
    parser.add_argument("--redis-binary", help="a hyperjwt built with --features redis, for pages that need one")
    parser.add_argument("--links", action="store_true", help="only check the links")
    parser.add_argument("--fix", action="store_true", help="write each differing output into its page")
    parser.add_argument("--refresh", action="store_true", help="write this run's outputs into the pages, passing or not")
    parser.add_argument("--keep", action="store_true", help="keep the sessions' directories")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    everything = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs/*.md")))
    problems = check_links(everything)
    for p in problems:
        print(f"BROKEN LINK {p}")
    print(f"links: {len(everything)} pages checked, {len(problems)} broken")
    if args.links:
        return 1 if problems else 0

    if not os.path.exists(args.binary):
        print(f"{args.binary} not found: run cargo build --release first")
        return 1
    passed = failed = 0
    skipped = []
    for page in args.pages or PAGES:
        if not os.path.exists(os.path.join(ROOT, page)):
            print(f"--- {page}: no such page")
            failed += 1
            continue
        try:
            p, f, s = run_page(page, args)
        except (RuntimeError, OSError) as e:
            print(f"FAIL {page}: {e}")
            p, f, s = 0, 1, []
        passed, failed, skipped = passed + p, failed + f, skipped + s
    for s in skipped:
        if os.environ.get("CI") == "true":
            print(f"FAILED: {s} (CI=true: every walk-through must run)")
            failed += 1
        else:
            print(f"SKIPPED: {s}")
    print(f"walk-throughs: {passed} passed, {failed} failed, {len(skipped)} page(s) skipped")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
