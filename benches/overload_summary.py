#!/usr/bin/env python3
"""The overload part's summary (benches/load-test.sh, PARTS=overload): medians over its rounds, one
line per binary and core count for the login floods, one per binary for /protected.

    python3 benches/overload_summary.py RESULTS "8 32 128" "32 128"

RESULTS holds the part's "OVERLOAD key=value ..." and "PROTECTED key=value ..." lines, one per
round; the other two arguments are OVERLOAD_FLOODS and OVERLOAD_PROTECTED_FLOODS. Standard library
only.
"""

import statistics
import sys


def median(runs, name):
    values = []
    for run in runs:
        try:
            values.append(float(run[name]))
        except (KeyError, ValueError):
            pass
    return f"{statistics.median(values):g}" if values else "-"


def main():
    path, floods, protected_floods = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
    rows = {}
    with open(path) as results:
        for line in results:
            kind, *pairs = line.split()
            fields = dict(pair.split("=", 1) for pair in pairs)
            rows.setdefault((kind, fields["bin"], int(fields.get("cores", 0))), []).append(fields)
    for (kind, binary, cores), runs in sorted(rows.items()):
        m = lambda name: median(runs, name)  # noqa: E731
        if kind == "OVERLOAD":
            ratios = ", ".join(f"{n}: {m('c' + n)}x" for n in ["1", *floods])
            refused = ", ".join(f"{n}: {m('s503_' + n)}/{m('s429_' + n)}" for n in floods)
            during = ", ".join(f"{n}: {m('check_ms' + n)} ms" for n in floods)
            polite = ", ".join(f"{n}: {m('p' + n)}x" for n in floods[1:])
            print(
                f"{binary} on {cores} cores: one check {m('check_ms')} ms, capacity {m('capacity')}/s;"
                f" logins ÷ capacity with 1 and {' '.join(floods)} connections {ratios};"
                f" ÷ the {floods[0]}-connection rate {polite}; 503/s and 429/s {refused};"
                f" one check during each flood {during};"
                f" second client during the 32-connection flood:"
                f" {m('second_ok')} logins, {m('second_503')} 503s, p50 {m('second_p50')} ms,"
                f" p99 {m('second_p99')} ms ({m('second_checks')} checks of the 1-connection run,"
                f" {m('second_checks_now')} of the flood's)"
            )
        else:
            during = ", ".join(f"{n}: {m('r' + n)}x, p99 {m('p99_' + n)} ms" for n in protected_floods)
            print(
                f"{binary} /protected alone {m('alone_rps')} req/s, p99 {m('alone_p99')} ms;"
                f" during login floods of {during}"
            )


if __name__ == "__main__":
    main()
