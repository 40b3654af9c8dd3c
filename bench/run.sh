#!/usr/bin/env bash
# The supplysec benchmark: `bash bench/run.sh` (see docs/performance.md).
#
# Builds if needed, starts its own build/supplysecd on a free loopback port
# with a fresh SQLite store in a temp dir (default log level, stderr to a log
# file), bootstraps a platform-admin key, seeds 10,000 organizations with one
# ADMIN key each, measures five operations with h2load at 1 and 32 concurrent
# streams (and GetOrganization again as Connect JSON on the HTTP listener), checks every call's gRPC status in the server log, prints a
# markdown table, then stops the server with SIGTERM and removes the temp dir.
#
# Environment:
#   BENCH_SECONDS=7   target length of each measured run (requests = rate x this)
#   BENCH_ORGS=10000  organizations to seed
#   BENCH_NO_BUILD=1  use the existing build/ as is
#   BENCH_KEEP=1      keep the temp dir (server log, latency logs, bodies)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
SECONDS_PER_RUN=${BENCH_SECONDS:-7}
WARMUP_SECONDS=1
ORGS=${BENCH_ORGS:-10000}

say() { printf '%s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------
if ! command -v h2load >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        say "h2load not found: installing nghttp2-client"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null
    else
        say "h2load not found: install Debian's nghttp2-client (apt-get install nghttp2-client) as root"
        exit 1
    fi
fi
for tool in protoc "$PY"; do
    command -v "$tool" >/dev/null 2>&1 || { say "missing $tool (run scripts/deps.sh)"; exit 1; }
done

if [ "${BENCH_NO_BUILD:-0}" != 1 ] || [ ! -x build/supplysecd ]; then
    say "== building (scripts/build.sh)"
    bash scripts/build.sh >/dev/null
fi
SUPPLYSECD=$REPO/build/supplysecd

# --- server ------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/supplysec-bench.XXXXXX")
SERVER_PID=
cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        local i
        for i in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            say "supplysecd did not exit within 30 s of SIGTERM; killing it"
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
        local src=0
        wait "$SERVER_PID" 2>/dev/null || src=$?
        say "== supplysecd stopped (SIGTERM), exit status $src"
    fi
    if [ "$rc" -ne 0 ] && [ -f "$TMP/server.log" ]; then
        say "== benchmark failed (exit $rc); last server log lines:"
        grep -v '"msg":"call".*"status":"OK"' "$TMP/server.log" | tail -n 20 >&2 || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$TMP/store" "$TMP/runs"
STORE="sqlite:$TMP/store/supplysec.db"
LOG=$TMP/server.log
"$SUPPLYSECD" bootstrap --store "$STORE" >"$TMP/admin.secret" 2>/dev/null
ADMIN=$(cat "$TMP/admin.secret")

# Port 0: the kernel picks a free port, which the server logs at startup.
"$SUPPLYSECD" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --store "$STORE" 2>"$LOG" </dev/null &
SERVER_PID=$!
PORT=
for _ in $(seq 1 150); do
    PORT=$(sed -n 's/.*"msg":"supplysecd listening".*"port":\([0-9]*\).*/\1/p' "$LOG" | head -n 1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { say "supplysecd exited at startup:"; cat "$LOG" >&2; exit 1; }
    sleep 0.1
done
[ -n "$PORT" ] || { say "supplysecd did not report a port within 15 s"; exit 1; }
ADDR=127.0.0.1:$PORT
HTTP_PORT=$(sed -n 's/.*"msg":"http listening".*"port":\([0-9]*\).*/\1/p' "$LOG" | head -n 1)
[ -n "$HTTP_PORT" ] || { say "supplysecd did not report its HTTP port"; exit 1; }
WORKERS=$(sed -n 's/.*"msg":"supplysecd listening".*"workers":\([0-9]*\).*/\1/p' "$LOG" | head -n 1)

say "== machine: $(nproc) cores,$(free -g | awk '/^Mem:/{print " " $2 " GiB"}') memory, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
say "== supplysecd $("$SUPPLYSECD" --version | awk '{print $2}') on $ADDR, $WORKERS workers, store $STORE"
say "== $(h2load --version | head -n 1)"

# --- fsync probe: what one durable commit costs on this disk -----------------
"$PY" - "$TMP/store" >&2 <<'EOF'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
ts = []
for i in range(200):
    os.pwrite(fd, os.urandom(4096), (i % 16) * 4096)
    t = time.perf_counter(); os.fsync(fd); ts.append(time.perf_counter() - t)
os.close(fd); os.unlink(path); ts.sort()
print("== fsync probe (4 KiB write + fsync, 200 times, store directory): "
      "p50 %.3f ms, p99 %.3f ms" % (ts[99] * 1e3, ts[197] * 1e3))
EOF

# --- seed --------------------------------------------------------------------
say "== seeding $ORGS organizations, one ADMIN key each"
"$PY" bench/seed.py --addr "$ADDR" --secret-file "$TMP/admin.secret" --orgs "$ORGS" \
    --out "$TMP/seed.json" >&2
"$PY" bench/bodies.py --addr "$ADDR" --secret-file "$TMP/admin.secret" \
    --target "$TMP/seed.json" --out "$TMP" >&2
DEEP=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d of %d" % (d["deep_page"], d["pages"]))' "$TMP/bodies.json")
TENANT=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret"])' "$TMP/seed.json")

# --- measure -----------------------------------------------------------------
RESULTS=$TMP/results.jsonl
: >"$RESULTS"

# bench OP METHOD BODY SECRET(-|key) CLIENTS STREAMS_PER_CLIENT [connect]
# With "connect": the Connect protocol with a JSON body over HTTP/1.1 (h2load
# --h1) on the HTTP listener, one call at a time on each of CLIENTS connections.
bench() {
    local op=$1 method=$2 body=$3 secret=$4 c=$5 m=$6 proto=${7:-grpc}
    local streams=$((c * m)) tag
    tag=$(printf '%s-%s' "$op" "$streams" | tr -c 'a-zA-Z0-9-' '_')
    local args=(-c "$c" -m "$m" -H 'content-type: application/grpc' -H 'te: trailers'
                -d "$TMP/$body")
    local url="http://$ADDR$method"
    if [ "$proto" = connect ]; then
        args=(--h1 -c "$c" -m "$m" -H 'content-type: application/json' -d "$TMP/$body")
        url="http://127.0.0.1:$HTTP_PORT$method"
    fi
    [ "$secret" = - ] || args+=(-H "authorization: Bearer $secret")

    # Warm-up for WARMUP_SECONDS; its rate sizes the measured run.
    h2load -D "$WARMUP_SECONDS" "${args[@]}" "$url" >"$TMP/runs/$tag.warmup" 2>&1 || {
        say "h2load warm-up failed:"; cat "$TMP/runs/$tag.warmup" >&2; exit 1; }
    local rate n
    rate=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$TMP/runs/$tag.warmup")
    n=$(awk -v r="${rate:-0}" -v s="$SECONDS_PER_RUN" -v k="$streams" \
        'BEGIN { n = int(r * s); if (n < 20 * k) n = 20 * k; print n }')
    sleep 1 # let calls cut off at the end of the warm-up finish and log

    local from
    from=$(stat -c %s "$LOG")
    h2load -n "$n" "${args[@]}" --log-file="$TMP/runs/$tag.tsv" "$url" \
        >"$TMP/runs/$tag.out" 2>&1 || { say "h2load failed:"; cat "$TMP/runs/$tag.out" >&2; exit 1; }
    "$PY" bench/report.py record --op "$op" --streams "$streams" --method "$method" \
        --h2load "$TMP/runs/$tag.out" --lat "$TMP/runs/$tag.tsv" --log "$LOG" \
        --log-from "$from" --results "$RESULTS" >&2
    kill -0 "$SERVER_PID" 2>/dev/null || { say "supplysecd is no longer running"; exit 1; }
}

say "== measuring (~${SECONDS_PER_RUN} s per run, after a ${WARMUP_SECONDS} s warm-up)"
ORGS_SVC=/supplysec.v1.Organizations
for cm in "1 1" "4 8"; do
    # shellcheck disable=SC2086
    set -- $cm
    bench "Health.Check" /grpc.health.v1.Health/Check health.bin - "$1" "$2"
    bench "GetOrganization" $ORGS_SVC/GetOrganization get.bin "$TENANT" "$1" "$2"
    bench "ListOrganizations first page" $ORGS_SVC/ListOrganizations list_first.bin "$ADMIN" "$1" "$2"
    bench "ListOrganizations page $DEEP" $ORGS_SVC/ListOrganizations list_deep.bin "$ADMIN" "$1" "$2"
done
# GetOrganization again through the HTTP listener: Connect JSON over HTTP/1.1.
"$PY" -c 'import json,sys; print(json.dumps({"name": json.load(open(sys.argv[1]))["name"]}))' \
    "$TMP/seed.json" >"$TMP/get.json"
bench "GetOrganization, Connect JSON (HTTP/1.1)" $ORGS_SVC/GetOrganization get.json "$TENANT" 1 1 connect
bench "GetOrganization, Connect JSON (HTTP/1.1)" $ORGS_SVC/GetOrganization get.json "$TENANT" 32 1 connect
# Creates last, so the list runs above all see the same 10,000 organizations.
bench "CreateOrganization" $ORGS_SVC/CreateOrganization create.bin "$ADMIN" 1 1
bench "CreateOrganization" $ORGS_SVC/CreateOrganization create.bin "$ADMIN" 4 8

say ""
"$PY" bench/report.py table "$RESULTS"
if grep -q '"problems": \[[^]]' "$RESULTS"; then
    say ""
    say "Some runs were FLAGGED (see the notes under the table)."
    exit 3
fi
