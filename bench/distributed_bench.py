#!/usr/bin/env python3
"""Distributed execution measurements (issue 4), each as a ratio against its reference in one run.

1. Master overhead: bench_prompt_roundtrip (POST /prompt -> execution_success on the WebSocket,
   EmptyImage 64x64 -> PreviewImage) straight to one native worker, then through a master whose
   only worker is that one.
2. Scaling efficiency: K equal workers (K = 1..3) on a fan-out of 4K DebugDelay units (no CPU
   contention: the node sleeps); the job's wall time (master timestamps) against the ideal
   4 x unit time.
3. Mixed speeds: workers whose units take 1x, 2x and 4x as long (--debug-delay-scale); makespan
   against the ideal for the total capacity.

usage: distributed_bench.py BUILD_DIR"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
BINARY = os.path.join(BUILD, "comfydist")
TMP = tempfile.mkdtemp(prefix="comfydist-dbench-")
PROCS = []


def start(args, name):
    log = os.path.join(TMP, name + ".log")
    proc = subprocess.Popen([BINARY] + args, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    PROCS.append(proc)
    deadline = time.time() + 30
    while time.time() < deadline:
        m = re.search(r"ready on port (\d+)", open(log).read())
        if m:
            return proc, int(m.group(1))
        time.sleep(0.05)
    raise RuntimeError(name + " did not start:\n" + open(log).read())


def call(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
        return json.loads(text) if text else None


def worker(name, scale=1.0):
    return start(["worker", "--port", "0", "--data-dir", os.path.join(TMP, name),
                  "--enable-test-nodes", "--debug-delay-scale", str(scale), "--threads", "1"],
                 name)


def master(name, worker_ports, slots=2):
    data = os.path.join(TMP, name)
    os.makedirs(data)
    config = {"settings": {"probe_interval_seconds": 0.5, "has_auto_populated_workers": True,
                           "max_inflight_per_worker": slots},
              "workers": [{"id": str(uuid.uuid4()), "name": f"w{i}", "type": "remote",
                           "host": "127.0.0.1", "port": p, "enabled": True}
                          for i, p in enumerate(worker_ports)]}
    json.dump(config, open(os.path.join(data, "comfydist.json"), "w"))
    proc, port = start(["serve", "--port", "0", "--data-dir", data, "--no-auto-launch"], name)
    deadline = time.time() + 30
    while time.time() < deadline:
        ws = call(port, "GET", "/distributed/workers")["workers"]
        if all(w["state"] == "idle" for w in ws):
            return proc, port
        time.sleep(0.1)
    raise RuntimeError("workers not idle")


def stop(*procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=30)


def fan_out(delay_ms):
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1,
                                                      "color": 0}},
        "2": {"class_type": "DistributedSeed", "inputs": {"seed": 1}},
        "3": {"class_type": "DebugDelay", "inputs": {"images": ["1", 0], "milliseconds": delay_ms,
                                                     "seed": ["2", 0]}},
        "4": {"class_type": "DistributedCollector", "inputs": {"images": ["3", 0],
                                                               "load_balance": False}},
        "5": {"class_type": "PreviewImage", "inputs": {"images": ["4", 0]}},
    }


def run_job(port, prompt, count):
    job_id = call(port, "POST", "/distributed/queue", {"prompt": prompt, "count": count})["prompt_id"]
    while True:
        job = call(port, "GET", f"/distributed/jobs/{job_id}")
        if job["state"] in ("done", "partial", "failed", "cancelled"):
            break
        time.sleep(0.05)
    if job["state"] != "done":
        raise RuntimeError(json.dumps(job, indent=1))
    per_worker = {}
    for u in job["units"]:
        per_worker[u["worker_name"]] = per_worker.get(u["worker_name"], 0) + 1
    return job["finished_at"] - job["created_at"], per_worker


def roundtrip(port, count):
    out = subprocess.run([os.path.join(BUILD, "bench", "bench_prompt_roundtrip"), str(port),
                          str(count)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


try:
    # 1. Overhead.
    w, wport = worker("overhead-worker")
    m, mport = master("overhead-master", [wport])
    direct = roundtrip(wport, 300)
    through = roundtrip(mport, 300)
    print(json.dumps({"bench": "master_overhead", "prompts": 300,
                      "direct_p50_ms": direct["p50_ms"], "direct_p99_ms": direct["p99_ms"],
                      "master_p50_ms": through["p50_ms"], "master_p99_ms": through["p99_ms"],
                      "p50_ratio": round(through["p50_ms"] / direct["p50_ms"], 2),
                      "added_p50_ms": round(through["p50_ms"] - direct["p50_ms"], 2)}))
    stop(m, w)

    # 2. Scaling with equal workers.
    unit_ms = 500
    for k in (1, 2, 3):
        workers = [worker(f"scale{k}-w{i}") for i in range(k)]
        m, mport = master(f"scale{k}-master", [p for _, p in workers])
        wall, per_worker = run_job(mport, fan_out(unit_ms), 4 * k)
        ideal = 4 * unit_ms / 1000
        print(json.dumps({"bench": "scaling", "workers": k, "units": 4 * k, "unit_ms": unit_ms,
                          "wall_s": round(wall, 3), "ideal_s": ideal,
                          "efficiency": round(ideal / wall, 3), "units_per_worker": per_worker}))
        stop(m, *[p for p, _ in workers])

    # 3. Mixed speeds 1x, 2x, 4x.
    scales = (1, 2, 4)
    workers = [worker(f"mixed-w{s}x", s) for s in scales]
    m, mport = master("mixed-master", [p for _, p in workers])
    units = 21
    unit_ms = 400
    wall, per_worker = run_job(mport, fan_out(unit_ms), units)
    capacity = sum(1 / s for s in scales)  # units per unit time
    ideal = units / capacity * unit_ms / 1000
    print(json.dumps({"bench": "mixed_speeds", "scales": scales, "units": units,
                      "unit_ms": unit_ms, "wall_s": round(wall, 3), "ideal_s": round(ideal, 3),
                      "efficiency": round(ideal / wall, 3), "units_per_worker": per_worker}))
    stop(m, *[p for p, _ in workers])
finally:
    for p in PROCS:
        if p.poll() is None:
            p.kill()
    shutil.rmtree(TMP, ignore_errors=True)
