#!/usr/bin/env bash
# Instructions per GET /protected, with and without REDIS_URL: callgrind totals at N=1000 and N=11000
# requests, differenced (start-up cancels out). Immune to the machine's noise, unlike req/s.
#
#     cargo build --release --features redis && cargo build --release --features redis --example cluster_driver
#     benches/cluster_callgrind.sh
set -euo pipefail
WORK="$(mktemp -d)"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=$ROOT/target/release/hyperjwt
DRIVER=$ROOT/target/release/examples/cluster_driver
export BENCH_SECRET=load-test-key-0123456789abcdef0123456789abcdef
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
RP=$(free_port)
redis-server --port $RP --bind 127.0.0.1 --dir "$WORK" --appendonly yes --save '' >/dev/null 2>&1 &
RPID=$!
trap 'kill $RPID; rm -rf "$WORK"' EXIT
sleep 0.5
for mode in without with_redis; do
  for n in 1000 11000; do
    port=$(free_port)
    extra=()
    [[ $mode == with_redis ]] && extra=(REDIS_URL=redis://127.0.0.1:$RP)
    env JWT_SECRET_KEY=$BENCH_SECRET LOG_LEVEL=warn WORKER_THREADS=1 HOST=127.0.0.1 PORT=$port "${extra[@]}" \
      valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$mode.$n" $BIN 2>/dev/null &
    pid=$!
    for _ in $(seq 300); do curl -sf -o /dev/null http://127.0.0.1:$port/healthz && break; sleep 0.1; done
    # Revocations in the replica too (with Redis): 200 logouts first, in both modes alike.
    $DRIVER propagation 127.0.0.1:$port 127.0.0.1:$port 200 >/dev/null
    $DRIVER protected 127.0.0.1:$port $n
    kill -TERM $pid; wait $pid || true
  done
done
for mode in without with_redis; do
  a=$(callgrind_annotate "$WORK"/cg.$mode.1000 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
  b=$(callgrind_annotate "$WORK"/cg.$mode.11000 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
  echo "$mode: $(( (b - a) / 10000 )) instructions per /protected (totals $a, $b)"
done
