#!/usr/bin/env python3
"""Draws docs/verify.svg from criterion's last `cargo bench --bench jwt` run: the median time of each
function in the `verify` and `sign` groups (hyperjwt, jsonwebtoken, the raw ring::hmac floor), as
horizontal bars with their 95% confidence intervals. Standard library only; SVG so it diffs as text.

    cargo bench --bench jwt && python3 benches/plot_verify.py [OUTPUT.svg]
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"
OUTPUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "verify.svg"

# (group, function as criterion names its directory, label, colour)
BARS = [
    ("verify", "hyperjwt", "verify: hyperjwt (server path)", "#2f6fb3"),
    ("verify", "hyperjwt foreign header", "verify: hyperjwt, kid-less header", "#5b8fc7"),
    ("verify", "jsonwebtoken", "verify: jsonwebtoken", "#c0504d"),
    ("verify", "ring hmac floor", "verify: ring::hmac floor", "#7f7f7f"),
    ("sign", "hyperjwt", "sign: hyperjwt", "#2f6fb3"),
    ("sign", "jsonwebtoken", "sign: jsonwebtoken", "#c0504d"),
    ("sign", "ring hmac floor", "sign: ring::hmac floor", "#7f7f7f"),
]


def median(group, function):
    """(median, lower, upper) in nanoseconds from criterion's estimates.json."""
    path = CRITERION / group / function / "new" / "estimates.json"
    estimate = json.loads(path.read_text())["median"]
    interval = estimate["confidence_interval"]
    return estimate["point_estimate"], interval["lower_bound"], interval["upper_bound"]


def main():
    rows = []
    for group, function, label, colour in BARS:
        try:
            rows.append((label, colour, *median(group, function)))
        except FileNotFoundError:
            sys.exit(f"no criterion data for {group}/{function}: run `cargo bench --bench jwt` first")
    label_w, bar_w, row_h, top = 260, 420, 28, 40
    scale = bar_w / max(upper for *_, upper in rows)
    height = top + row_h * len(rows) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{height}" '
        'font-family="sans-serif" font-size="13">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">HS256 sign and verify, median time '
        "per token (ns, lower is better)</text>",
    ]
    for i, (label, colour, mid, low, high) in enumerate(rows):
        y = top + i * row_h
        out.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{label}</text>')
        out.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{mid * scale:.1f}" height="{row_h - 10}" '
            f'fill="{colour}"/>'
        )
        # The 95% confidence interval as a whisker.
        out.append(
            f'<line x1="{label_w + low * scale:.1f}" x2="{label_w + high * scale:.1f}" '
            f'y1="{y + row_h / 2 - 1}" y2="{y + row_h / 2 - 1}" stroke="black"/>'
        )
        out.append(f'<text x="{label_w + high * scale + 6:.1f}" y="{y + 17}">{mid:.0f}</text>')
    out.append(
        f'<text x="10" y="{height - 10}" font-size="11" fill="#555">from target/criterion '
        "(cargo bench --bench jwt); whiskers: 95% confidence interval of the median</text>"
    )
    out.append("</svg>")
    OUTPUT.write_text("\n".join(out) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
