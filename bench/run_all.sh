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

# Native upscaling (issue 5): our CPU backend against PyTorch CPU on the same networks, weights,
# input sizes and thread count; the machine's FMA peak; a full ImageUpscaleWithModel run of a
# 2048x2048 image at x4 for memory. About 6 minutes on 2 cores; UPSCALE_BENCH_FULL=1 adds the
# 512x512 Real-ESRGAN-sized run (about 5 more).
upscalerjs="$here/../third_party/upscalerjs/node_modules/@upscalerjs"
if [ -f "$upscalerjs/esrgan-thick/models/x4/model.json" ] && [ -x /usr/bin/python3 ] &&
  /usr/bin/python3 -c "import torch" 2>/dev/null; then
  threads=$(nproc)
  thick="$upscalerjs/esrgan-thick/models/x4/model.json"
  rrdb_sizes=256
  [ "${UPSCALE_BENCH_FULL:-0}" = 1 ] && rrdb_sizes=256,512
  /usr/bin/python3 "$here/make_rrdbnet.py" "$tmp/rrdbnet_23x64.safetensors" >/dev/null
  echo "# FP32 FMA peak: one core measured (12 independent FMA chains), times the cores"
  "$build/bench/bench_upscale" peak-flops "$threads" 3
  echo "# esrgan-thick-x4 (bundled TF.js RRDN), one run per size"
  "$build/bench/bench_upscale" throughput "$thick" esrgan-thick-x4 "$threads" 256,512 1
  /usr/bin/python3 "$here/upscale_torch.py" tfjs "$thick" esrgan-thick-x4 "$threads" 256,512 1
  echo "# RRDBNet x4, 23 blocks, 64 features (Real-ESRGAN size), random weights, one run per size"
  "$build/bench/bench_upscale" throughput "$tmp/rrdbnet_23x64.safetensors" rrdbnet-23x64 \
    "$threads" "$rrdb_sizes" 1
  /usr/bin/python3 "$here/upscale_torch.py" rrdbnet rrdbnet-23x64 "$threads" "$rrdb_sizes" 1
  echo "# ImageUpscaleWithModel, 2048x2048 -> 8192x8192 with esrgan-slim-x4: tiles, memory"
  "$build/bench/bench_upscale" node "$upscalerjs/esrgan-slim/models/x4/model.json" \
    esrgan-slim-x4 "$threads" 2048
else
  echo "# native upscaling: skipped (needs scripts/bootstrap's bundled models and python3-torch)"
fi

# Distributed execution (issue 4): master overhead against one worker, scaling over K equal
# workers, mixed-speed workers (DebugDelay units: no CPU contention).
echo "# distributed: master overhead, scaling efficiency, mixed speeds"
/usr/bin/python3 "$here/distributed_bench.py" "$build"
