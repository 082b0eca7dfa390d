#!/usr/bin/env python3
"""Writes the OpenAPI description as the server under test serves it, as JSON (YAML anchors resolved).

`--not-yet-served` names what docs/openapi.yaml describes but this build does not serve yet: a path
(`/metrics`) is dropped, and `header:NAME` makes that response header optional everywhere. With
nothing named, the output is the description unchanged. The check this feeds (schemathesis) thus
skips exactly what is named, while openapi-spec-validator still validates the whole file.

`--headers-only` is for a server with `JWT_TOKEN_LOCATION=headers` (the default): the description
covers cookie mode too, where some 401s have no `WWW-Authenticate`; with headers alone every
`components/headers` entry marked `x-required-with-headers-only: true` is required, so the check
stays as strict as the contract is for that server.

    python3 tests/openapi/served_spec.py docs/openapi.yaml out.json --not-yet-served "/metrics header:X-Request-Id"
"""

import argparse
import json
import sys

import yaml


def served(spec: dict, not_yet_served: list[str], headers_only: bool = False) -> dict:
    paths = [item for item in not_yet_served if item.startswith("/")]
    headers = [item.split(":", 1)[1].lower() for item in not_yet_served if item.startswith("header:")]
    unknown = [item for item in not_yet_served if not item.startswith(("/", "header:"))]
    if unknown:
        raise SystemExit(f"--not-yet-served: not a path or header:NAME: {unknown}")
    for path in paths:
        if path not in spec["paths"]:
            raise SystemExit(f"--not-yet-served: {path} is not in the description")
        del spec["paths"][path]
    if headers:
        found = set()
        for name, definition in spec.get("components", {}).get("headers", {}).items():
            if name.lower() in headers:
                definition["required"] = False
                found.add(name.lower())
        missing = set(headers) - found
        if missing:
            raise SystemExit(f"--not-yet-served: no components/headers entry for {sorted(missing)}")
    if headers_only:
        marked = [
            definition
            for definition in spec.get("components", {}).get("headers", {}).values()
            if definition.get("x-required-with-headers-only")
        ]
        if not marked:
            raise SystemExit("--headers-only: no components/headers entry is marked x-required-with-headers-only")
        for definition in marked:
            definition["required"] = True
    return spec


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--not-yet-served", default="", help="space-separated paths and header:NAME items")
    parser.add_argument("--headers-only", action="store_true", help="for a server with JWT_TOKEN_LOCATION=headers")
    args = parser.parse_args()
    with open(args.source, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    spec = served(spec, args.not_yet_served.split(), args.headers_only)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
