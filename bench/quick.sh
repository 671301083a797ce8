#!/bin/bash
# Every bench in a quick mode, so a change that breaks one is caught by CI (.ci/run) rather than by the next person
# who needs the figures. The figures printed here are too small to quote; run a bench with its defaults for that.
# push_latency.py is left out: it measures a running `dev.py run` from outside.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
failed=()
run() {
    local name=$1
    shift
    echo "--- bench: $name $*"
    if ! timeout 600 "$PY" "bench/$name" "$@"; then
        failed+=("$name")
    fi
}
run client_bench.py --calls 100 --rounds 1 --warmup 10 --chunk 50 --overhead-calls 500
run simulator_bench.py --seconds 2 --warmup 0.5
run events_bench.py --events 500
run media_bench.py --quick
run pages_bench.py --locks 200 --events 2000 --small 100 --requests 3
run lifecycle_bench.py --rooms 20 --drill 10 --kills 2 --recover 120
run load_bench.py --seconds 5 --rate 5 --rooms 20 --warmup 1 --quick
run api_bench.py --seconds 3 --warmup 1 --rooms 40 --quick
run webhook_bench.py --quick
run periodic_bench.py --quick
run feed_bench.py --quick
run rounds_bench.py --quick
run fleet_bench.py --quick
if ((${#failed[@]})); then
    echo "benches that failed: ${failed[*]}"
    exit 1
fi
echo "every bench ran"
