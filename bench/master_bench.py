#!/usr/bin/env python3
"""Master measurements (issue 3): time from `comfydist serve` to every local worker idle, the
master's CPU use while probing 100 configured workers, and its idle memory (RSS).

usage: master_bench.py BUILD_DIR"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.load(r)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_master(binary, data, port):
    proc = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc


def main():
    binary = os.path.join(sys.argv[1], "comfydist")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # 1. Start-up: first start on a CPU box adds one native worker and launches it.
        port = free_port()
        t0 = time.perf_counter()
        master = start_master(binary, os.path.join(tmp, "a"), port)
        idle_at = None
        while time.perf_counter() - t0 < 60:
            try:
                workers = get(port, "/distributed/workers")["workers"]
                if workers and all(w["state"] == "idle" for w in workers):
                    idle_at = time.perf_counter() - t0
                    break
            except OSError:
                pass
            time.sleep(0.01)
        results["serve_to_all_local_idle_s"] = round(idle_at, 3) if idle_at else None
        time.sleep(2)
        results["idle_master_rss_mib"] = round(rss_mib(master.pid), 1)
        master.terminate()
        master.wait(15)

        # 2. Probe overhead: 100 remote workers (127.0.0.2 … 127.0.0.101) all answered by one
        # native worker listening on every interface, probed every 2 s.
        wport = free_port()
        worker = subprocess.Popen([binary, "worker", "--listen", "0.0.0.0", "--port", str(wport),
                                   "--data-dir", os.path.join(tmp, "w")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        data = os.path.join(tmp, "b")
        os.makedirs(data)
        config = {"master": {"name": "bench", "host": "", "port": 8188},
                  "workers": [{"id": str(uuid.uuid4()), "name": f"w{i}", "type": "remote",
                               "host": f"127.0.0.{i + 2}", "port": wport, "enabled": True}
                              for i in range(100)],
                  "settings": {"has_auto_populated_workers": True, "probe_interval_seconds": 2}}
        json.dump(config, open(os.path.join(data, "comfydist.json"), "w"))
        port = free_port()
        master = start_master(binary, data, port)
        time.sleep(5)
        online = sum(w["state"] in ("idle", "busy") for w in get(port, "/distributed/workers")["workers"])
        c0, t0 = cpu_seconds(master.pid), time.perf_counter()
        time.sleep(20)
        c1, t1 = cpu_seconds(master.pid), time.perf_counter()
        t_req = time.perf_counter()
        get(port, "/distributed/workers")
        results["probe_100_workers"] = {
            "online": online,
            "master_cpu_percent": round(100 * (c1 - c0) / (t1 - t0), 2),
            "list_workers_ms": round(1000 * (time.perf_counter() - t_req), 1),
            "rss_mib": round(rss_mib(master.pid), 1)}
        master.terminate()
        master.wait(15)
        worker.terminate()
        worker.wait(15)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
