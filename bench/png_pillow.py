#!/usr/bin/env python3
"""Pillow's PNG encoding of the same raw 2048x2048 RGB image at compress_level=4 (ComfyUI's
SaveImage setting), best of N rounds, printed as JSON."""
import io
import json
import sys
import time

from PIL import Image

raw = open(sys.argv[1], "rb").read()
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
img = Image.frombytes("RGB", (2048, 2048), raw)
best = 1e9
size = 0
for _ in range(rounds):
    buf = io.BytesIO()
    t = time.perf_counter()
    img.save(buf, format="PNG", compress_level=4)
    best = min(best, time.perf_counter() - t)
    size = buf.tell()
print(json.dumps({"encoder": "pillow", "seconds": round(best, 4),
                  "mb_per_s": round(len(raw) / 1e6 / best, 2), "png_bytes": size}))
