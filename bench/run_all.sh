#!/usr/bin/env bash
# Runs every benchmark against the Release build and prints JSON lines; the numbers in
# bench/README.md come from this script.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill "${worker_pid:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

echo "# PNG encode, 2048x2048 RGB, level 4"
"$build/bench/bench_png_encode" "$tmp/image.raw" 5
/usr/bin/python3 "$here/png_pillow.py" "$tmp/image.raw" 5

"$build/comfydist" worker --port 0 --data-dir "$tmp/data" >"$tmp/worker.log" 2>&1 &
worker_pid=$!
for _ in $(seq 100); do
  port=$(grep -o 'ready on port [0-9]*' "$tmp/worker.log" | awk '{print $4}') || true
  [ -n "${port:-}" ] && break
  sleep 0.1
done
echo "# prompt round trip (POST /prompt -> execution_success), 1000 prompts"
"$build/bench/bench_prompt_roundtrip" "$port" 1000
echo "# POST /prompt acceptance, 32 concurrent clients"
"$build/bench/bench_prompt_acceptance" "$port" 32 5
echo "# master: serve → local workers idle, probe overhead with 100 workers, idle RSS"
/usr/bin/python3 "$here/master_bench.py" "$build"
