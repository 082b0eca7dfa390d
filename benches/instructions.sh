#!/usr/bin/env bash
# Instructions per HS256 operation, counted by valgrind's callgrind: hyperjwt's verify and sign
# beside jsonwebtoken's and the ring HMAC floor, with the ratios the speed targets are stated in.
# Instruction counts repeat exactly for the same binary and input, whatever else the machine runs,
# so this is the view to trust on a shared machine; `cargo bench --bench jwt` gives the times.
# One caveat: valgrind hides the CPU's SHA extensions, so ring hashes with its AVX code here and
# the HMAC floor costs more instructions than it takes time natively; ratios to the floor read
# lower here than in criterion's times (docs/benchmarks.md).
#
#     benches/instructions.sh            # N=20000 per operation
#     N=50000 benches/instructions.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N=${N:-20000}
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install -y valgrind)"; exit 1; }
cargo build --release --quiet --example jwt_instructions --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/examples/jwt_instructions"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Total instructions of one run (callgrind's "summary:" line).
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$WORK/out" "$BIN" "$1" "$2" 2>/dev/null
    awk '/^summary:/ {print $2}' "$WORK/out"
}

base=$(instructions none "$N")
declare -A per_op
for op in verify split payload-base64 claims-parse verify-foreign jsonwebtoken-verify floor-verify sign jsonwebtoken-sign floor-sign; do
    total=$(instructions "$op" "$N")
    per_op[$op]=$(( (total - base) / N ))
    printf '%-22s %8d instructions\n' "$op" "${per_op[$op]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "verify: $(ratio "${per_op[jsonwebtoken-verify]}" "${per_op[verify]}")x fewer than jsonwebtoken (target >= 3), $(ratio "${per_op[verify]}" "${per_op[floor-verify]}")x the floor (target <= 1.5)"
echo "foreign header verify: $(ratio "${per_op[verify-foreign]}" "${per_op[floor-verify]}")x the floor"
echo "sign: $(ratio "${per_op[sign]}" "${per_op[floor-sign]}")x the floor (target <= 1.3), $(ratio "${per_op[jsonwebtoken-sign]}" "${per_op[sign]}")x fewer than jsonwebtoken"
