#!/usr/bin/env bash
# Checks deploy/systemd/hyperjwt.service with systemd-analyze, offline (no running systemd needed):
# `verify` must pass with no warning at all, and `security` prints the exposure score, which must
# stay at or below MAX_EXPOSURE (default 2.0, "OK").
#
# Both run against a throwaway root holding the unit as installed (/etc/systemd/system), the
# binary at its ExecStart path (/usr/local/bin/hyperjwt, a copy of HYPERJWT), /bin/kill for
# ExecReload, the env file, and the host's own systemd units (for the default dependencies).
#
#   bash tests/deploy/systemd.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

HYPERJWT=${HYPERJWT:-target/release/hyperjwt}
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
UNIT=${UNIT:-deploy/systemd/hyperjwt.service}

command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (apt-get install -y systemd)"; exit 1; }
[ -x "$HYPERJWT" ] || { echo "$HYPERJWT not found: cargo build --release"; exit 1; }

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/usr/local/bin" "$ROOT/usr/bin" "$ROOT/usr/lib/systemd" "$ROOT/etc/systemd/system" "$ROOT/etc/hyperjwt"
ln -s usr/bin "$ROOT/bin"
ln -s usr/lib "$ROOT/lib"
cp "$HYPERJWT" "$ROOT/usr/local/bin/hyperjwt"
cp "$(type -P kill)" "$ROOT/usr/bin/kill"
cp -a /usr/lib/systemd/system "$ROOT/usr/lib/systemd/"
cp "$UNIT" "$ROOT/etc/systemd/system/hyperjwt.service"
install -m 0600 deploy/systemd/hyperjwt.env.example "$ROOT/etc/hyperjwt/hyperjwt.env"

echo "--- systemd-analyze verify $UNIT"
status=0
output=$(systemd-analyze verify --root="$ROOT" /etc/systemd/system/hyperjwt.service 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$output" ]; then
  # verify exits 0 on an unknown key or a bad value, with a warning: any output is a failure.
  echo "$output"
  echo "FAILED: systemd-analyze verify (status $status)"
  exit 1
fi
echo "verify: no warnings"

echo "--- systemd-analyze security --offline=true (the settings that still cost exposure)"
report=$(systemd-analyze security --offline=true --root="$ROOT" --no-pager /etc/systemd/system/hyperjwt.service 2>&1)
grep "✗" <<<"$report" || true
score_line=$(grep "Overall exposure level" <<<"$report")
echo "$score_line"
score=$(sed -E 's/.*: ([0-9.]+) .*/\1/' <<<"$score_line")
if ! awk -v s="$score" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(s <= max) }'; then
  echo "FAILED: exposure $score is above $MAX_EXPOSURE"
  exit 1
fi
echo "systemd: verify passed, exposure $score (at most $MAX_EXPOSURE)"
