"""The link check of tests/walkthroughs/run.py: every relative link in README.md and docs/ names a
file that exists, and, when it names a heading (`#anchor`), a heading of that file, by GitHub's rule
for anchors. `python3 tests/walkthroughs/run.py --links` runs it alone."""

import os
import re

FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\[|\]\([^)]*\)", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        found, seen, in_fence = set(), {}, False
        for line in open(path, encoding="utf-8"):
            if FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence and line.startswith("#"):
                base = slug(line.lstrip("#"))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
        cache[path] = found
    return cache[path]


def check_links(pages):
    """Every relative link of the pages names a file that exists, and a heading of it if it names one."""
    problems = []
    link = re.compile(r"\]\(([^)\s]+)\)")
    for page in pages:
        in_fence = False
        for number, line in enumerate(open(os.path.join(ROOT, page), encoding="utf-8"), 1):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            for target in link.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue
                path, _, anchor = target.partition("#")
                full = os.path.normpath(os.path.join(ROOT, os.path.dirname(page), path)) if path else os.path.join(ROOT, page)
                if not os.path.exists(full):
                    problems.append(f"{page}:{number}: {target}: no such file")
                elif anchor and full.endswith(".md") and anchor not in anchors(full):
                    problems.append(f"{page}:{number}: {target}: no heading #{anchor} in {os.path.relpath(full, ROOT)}")
    return problems
