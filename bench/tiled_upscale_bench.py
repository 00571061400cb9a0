#!/usr/bin/env python3
"""Distributed tiled upscaling (issue 6): one image upscaled in tiles on K native workers.

For K = 1, 2, 3 workers: wall time of the whole job as the client sees it (POST
/distributed/queue -> job done), speed-up against K = 1, and the master's own work: the input
step plus cutting the tiles (the POST, which returns once the units exist) and everything after the
last tile came back (blend, PNG, the nodes after the upscale such as the save; the blend alone is
the master log's tiles_blended), per tile and as a share of the job, and the master's peak RSS.

Workers are CPU-bound, so each is pinned with `taskset` to one core (worker i to core i mod N,
one thread): K workers have min(K, N) cores, which is the ideal speed-up. With more workers than
cores they share cores, which the output's "cores" shows. The master is not pinned.

With --delay-ms D every tile unit also runs a DebugDelay of D ms (DistributedTiles -> DebugDelay
-> ImageUpscaleWithModel, workers started with --enable-test-nodes, not pinned): with a small
model the units are mostly sleep, so the speed-up shows the scheduler's efficiency without CPU
contention. The ideal speed-up is then tiles / ceil(tiles / K).

usage: tiled_upscale_bench.py BUILD_DIR [--size 2048] [--model esrgan-thick-x4] [--tile 512]
                              [--overlap 64] [--workers 1,2,3] [--delay-ms 0]"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
import uuid

parser = argparse.ArgumentParser()
parser.add_argument("build", nargs="?", default="build")
parser.add_argument("--size", type=int, default=2048)
parser.add_argument("--model", default="esrgan-thick-x4")
parser.add_argument("--tile", type=int, default=512)
parser.add_argument("--overlap", type=int, default=64)
parser.add_argument("--workers", default="1,2,3")
parser.add_argument("--delay-ms", type=int, default=0)
ARGS = parser.parse_args()
BINARY = os.path.join(ARGS.build, "comfydist")
TMP = tempfile.mkdtemp(prefix="comfydist-tbench-")
PROCS = []
CORES = sorted(os.sched_getaffinity(0))


def start(args, name, cores=None):
    log = os.path.join(TMP, name + ".log")
    prefix = ["taskset", "-c", ",".join(map(str, cores))] if cores else []
    proc = subprocess.Popen(prefix + [BINARY] + args, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)
    PROCS.append(proc)
    deadline = time.time() + 30
    while time.time() < deadline:
        m = re.search(r"ready on port (\d+)", open(log).read())
        if m:
            return proc, int(m.group(1)), log
        time.sleep(0.05)
    raise RuntimeError(name + " did not start:\n" + open(log).read())


def call(port, method, path, body=None, timeout=3600):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read()
        return json.loads(text) if text else None


def cores_of(i):
    # One core per worker, so K workers have min(K, N) cores between them: the speed-up K = 1 ->
    # K shows how well tiles spread, not how a thread pool scales.
    return [CORES[i % len(CORES)]]


def worker(name, cores):
    if ARGS.delay_ms > 0:
        return start(["worker", "--port", "0", "--data-dir", os.path.join(TMP, name),
                      "--threads", "1", "--enable-test-nodes"], name)
    return start(["worker", "--port", "0", "--data-dir", os.path.join(TMP, name),
                  "--threads", str(len(cores))], name, cores)


def master(name, worker_ports):
    data = os.path.join(TMP, name)
    os.makedirs(data)
    config = {"settings": {"probe_interval_seconds": 0.5, "has_auto_populated_workers": True,
                           "worker_timeout_seconds": 600},
              "workers": [{"id": str(uuid.uuid4()), "name": f"w{i}", "type": "remote",
                           "host": "127.0.0.1", "port": p, "enabled": True}
                          for i, p in enumerate(worker_ports)]}
    json.dump(config, open(os.path.join(data, "comfydist.json"), "w"))
    proc, port, log = start(["serve", "--port", "0", "--data-dir", data, "--no-auto-launch"], name)
    deadline = time.time() + 30
    while time.time() < deadline:
        ws = call(port, "GET", "/distributed/workers")["workers"]
        if all(w["state"] == "idle" for w in ws):
            return proc, port, log
        time.sleep(0.1)
    raise RuntimeError("workers not idle")


def stop(*procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=30)


def prompt():
    s = ARGS.size
    if ARGS.delay_ms > 0:
        return {
            "1": {"class_type": "EmptyImage", "inputs": {"width": s, "height": s,
                                                          "batch_size": 1, "color": 8421504}},
            "2": {"class_type": "ImageAddNoise", "inputs": {"image": ["1", 0], "seed": 1,
                                                            "strength": 0.3}},
            "3": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": ARGS.model}},
            "6": {"class_type": "DistributedTiles",
                  "inputs": {"image": ["2", 0], "tile": ARGS.tile, "overlap": ARGS.overlap,
                             "feather": "linear"}},
            "7": {"class_type": "DebugDelay", "inputs": {"images": ["6", 0], "seed": 0,
                                                         "milliseconds": ARGS.delay_ms}},
            "4": {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["3", 0],
                                                                    "image": ["7", 0]}},
            "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0],
                                                        "filename_prefix": "bench"}},
        }
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": s, "height": s, "batch_size": 1,
                                                      "color": 8421504}},
        "2": {"class_type": "ImageAddNoise", "inputs": {"image": ["1", 0], "seed": 1,
                                                        "strength": 0.3}},
        "3": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": ARGS.model}},
        "4": {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["3", 0],
                                                                "image": ["2", 0]}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0],
                                                    "filename_prefix": "bench"}},
    }


def run(k):
    cores = [None if ARGS.delay_ms > 0 else cores_of(i) for i in range(k)]
    workers = [worker(f"k{k}-w{i}", cores[i]) for i in range(k)]
    m, mport, mlog = master(f"k{k}-master", [p for _, p, _ in workers])
    body = {"prompt": prompt()}
    if ARGS.delay_ms == 0:
        body["tiles"] = {"tile": ARGS.tile, "overlap": ARGS.overlap, "feather": "linear"}
    t0 = time.time()
    job_id = call(mport, "POST", "/distributed/queue", body)["prompt_id"]
    post_s = time.time() - t0
    while True:
        job = call(mport, "GET", f"/distributed/jobs/{job_id}")
        if job["state"] in ("done", "partial", "failed", "cancelled"):
            break
        time.sleep(0.05)
    wall = time.time() - t0
    if job["state"] != "done":
        raise RuntimeError(json.dumps(job, indent=1)[:4000])
    blend = re.search(r"event=tiles_blended .* seconds=([0-9.]+)", open(mlog).read())
    blend_s = float(blend.group(1)) if blend else float("nan")
    tiles = len(job["units"])
    # After the last tile: blend, PNG and the nodes after the upscale (the save), all the master's.
    tail_s = job["finished_at"] - max(u["finished_at"] for u in job["units"])
    per_worker = {}
    unit_s = []
    for u in job["units"]:
        per_worker[u["worker_name"]] = per_worker.get(u["worker_name"], 0) + 1
        unit_s.append(u["finished_at"] - u["started_at"])
    # The master's peak resident memory over the whole job (input step, cut, blend, save).
    status = open(f"/proc/{m.pid}/status").read()
    peak = re.search(r"VmHWM:\s+(\d+) kB", status)
    master_peak_mib = round(int(peak.group(1)) / 1024, 1) if peak else float("nan")
    stop(m, *[p for p, _, _ in workers])
    return {"workers": k, "cores": cores, "tiles": tiles, "wall_s": round(wall, 2),
            "master_input_and_cut_s": round(post_s, 3), "master_blend_s": round(blend_s, 3),
            "master_after_last_tile_s": round(tail_s, 3),
            "master_ms_per_tile": round(1000 * (post_s + tail_s) / tiles, 1),
            "master_share": round((post_s + tail_s) / wall, 4),
            "unit_s_mean": round(sum(unit_s) / tiles, 2), "tiles_per_worker": per_worker,
            "master_peak_rss_mib": master_peak_mib}


try:
    results = []
    for k in [int(x) for x in ARGS.workers.split(",")]:
        r = run(k)
        if results:
            k0 = results[0]["workers"]
            tiles = r["tiles"]
            # Tiles are whole units: K workers can at best finish in ceil(tiles / K) unit times.
            lanes = k if ARGS.delay_ms > 0 else min(k, len(CORES))
            lanes0 = k0 if ARGS.delay_ms > 0 else min(k0, len(CORES))
            ideal = (-(-tiles // lanes0)) / (-(-tiles // lanes))
            r["speedup_vs_1"] = round(results[0]["wall_s"] / r["wall_s"], 2)
            r["ideal_speedup"] = round(ideal, 3)
            r["efficiency"] = round(r["speedup_vs_1"] / ideal, 3)
        r.update({"bench": "tiled_upscale", "size": ARGS.size, "model": ARGS.model,
                  "tile": ARGS.tile, "overlap": ARGS.overlap, "delay_ms": ARGS.delay_ms,
                  "machine_cores": len(CORES)})
        results.append(r)
        print(json.dumps(r), flush=True)
finally:
    for p in PROCS:
        if p.poll() is None:
            p.kill()
    if os.environ.get("KEEP_TMP"):  # the processes' logs, e.g. the master's tiles_added line
        print(TMP)
    else:
        shutil.rmtree(TMP, ignore_errors=True)
