#!/usr/bin/python3
"""PyTorch CPU side of the upscale benchmark: the same networks and weights as bench/upscale.cpp,
on the same input sizes and thread count, one JSON line per measurement.

  upscale_torch.py tfjs MODEL.json LABEL THREADS SIZES ITERATIONS [INPUT_MULTIPLIER]
  upscale_torch.py rrdbnet LABEL THREADS SIZES ITERATIONS   (bench/make_rrdbnet.py's weights)

A TF.js layers model is rebuilt layer by layer from its model.json and weight shards (Conv2D,
Activation, Concatenate, Add, MultiplyBeta, PixelShuffle/UpSampling2D). Memory format: the
environment variable TORCH_LAYOUT = channels_last (default; PyTorch's oneDNN convolutions are
fastest with it here), nchw, or both (the best of the two is reported).
"""

import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def load_tfjs(model_json):
    with open(model_json) as f:
        doc = json.load(f)
    folder = os.path.dirname(model_json)
    weights = {}
    for group in doc["weightsManifest"]:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            values = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
            weights[w["name"]] = torch.from_numpy(values.reshape(w["shape"]).copy())
            offset += 4 * count
    layers = doc["modelTopology"]["model_config"]["config"]["layers"]
    program = []
    for layer in layers:
        kind, cfg, name = layer["class_name"], layer["config"], layer["name"]
        inputs = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        params = {}
        if kind == "Conv2D":
            kernel = weights[name + "/kernel"]  # HWIO
            params["weight"] = kernel.permute(3, 2, 0, 1).contiguous()
            params["bias"] = weights.get(name + "/bias")
            kh, kw = cfg["kernel_size"]
            params["padding"] = (kh // 2, kw // 2) if cfg["padding"] == "same" else (0, 0)
            params["activation"] = cfg.get("activation", "linear")
        program.append((kind, name, inputs, cfg, params))
    return program


def activation(x, name):
    if name == "relu":
        return F.relu(x)
    if name == "linear":
        return x
    raise ValueError("activation " + name)


def depth_to_space(x, s):
    # TF's depth_to_space (DCR) on NCHW data.
    n, c, h, w = x.shape
    return x.view(n, s, s, c // (s * s), h, w).permute(0, 3, 4, 1, 5, 2).reshape(
        n, c // (s * s), h * s, w * s)


def last_uses(program):
    last = {}
    for index, (_, _, inputs, _, _) in enumerate(program):
        for i in inputs:
            last[i] = index
    return last


def run_tfjs(program, x):
    # Each value is dropped after its last reader, as a framework's executor would; keeping all
    # 477 layer outputs of a 512x512 input needs tens of GiB.
    last = last_uses(program)
    values = {}
    for index, (kind, name, inputs, cfg, params) in enumerate(program):
        args = [values[i] for i in inputs]
        for i in set(inputs):
            if last[i] == index:
                del values[i]
        if kind == "InputLayer":
            y = x
        elif kind == "Conv2D":
            y = activation(F.conv2d(args[0], params["weight"], params["bias"],
                                    padding=params["padding"]), params["activation"])
        elif kind == "Activation":
            y = activation(args[0], cfg["activation"])
        elif kind == "Concatenate":
            y = torch.cat(args, 1)
        elif kind == "Add":
            y = args[0]
            for a in args[1:]:
                y = y + a
        elif kind == "MultiplyBeta":
            y = args[0] * cfg["beta"]
        elif kind.startswith("PixelShuffle"):
            y = depth_to_space(args[0], int(cfg.get("scale", kind[12:-1])))
        elif kind == "UpSampling2D":
            size = cfg["size"]
            y = F.interpolate(args[0], scale_factor=size[0] if isinstance(size, list) else size,
                              mode="nearest")
        else:
            raise ValueError("layer " + kind)
        values[name] = y
    return values[program[-1][1]]


def bench_image(size):
    # Smooth gradients with mild noise, deterministic (as bench/upscale.cpp makes it).
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    noise = np.random.default_rng(1).random((3, size, size), dtype=np.float32) * 0.05
    img = np.stack([x / size, y / size, (x + y) / (2 * size)]) + noise
    return torch.from_numpy(np.clip(img, 0, 1)[None].copy())


def measure(label, fn, sizes, iterations, multiplier):
    for size in sizes:
        x = bench_image(size) * multiplier
        best_layout, best_time = None, float("inf")
        choice = os.environ.get("TORCH_LAYOUT", "channels_last")
        layouts = {"nchw": [torch.contiguous_format], "channels_last": [torch.channels_last],
                   "both": [torch.contiguous_format, torch.channels_last]}[choice]
        for layout in layouts:
            xin = x.contiguous(memory_format=layout)
            times = []
            with torch.inference_mode():
                for _ in range(iterations):
                    start = time.perf_counter()
                    fn(xin, layout)
                    times.append(time.perf_counter() - start)
            t = min(times)
            if t < best_time:
                best_layout, best_time = layout, t
        print(json.dumps({
            "side": "pytorch", "torch": torch.__version__, "model": label, "size": size,
            "threads": torch.get_num_threads(), "seconds": round(best_time, 3),
            "megapixels_per_s": round(size * size / 1e6 / best_time, 5),
            "layout": "channels_last" if best_layout == torch.channels_last else "nchw"}),
            flush=True)


def main():
    mode = sys.argv[1]
    if mode == "tfjs":
        model_json, label, threads, sizes, iterations = sys.argv[2:7]
        # The input scale of the package: 1 for esrgan-thick (RRDN), 255 for the RDN models.
        multiplier = float(sys.argv[7]) if len(sys.argv) > 7 else 1.0
        program = load_tfjs(model_json)
        layouts = {}

        def fn(x, layout):
            if layout not in layouts:
                layouts[layout] = [(k, n, i, c, {**p, "weight": p["weight"].contiguous(
                    memory_format=layout)} if "weight" in p else p) for k, n, i, c, p in program]
            return run_tfjs(layouts[layout], x)
    else:
        label, threads, sizes, iterations = sys.argv[2:6]
        multiplier = 1.0
        sys.path.insert(0, HERE)
        import make_rrdbnet
        model = make_rrdbnet.build()

        def fn(x, layout):
            return model.to(memory_format=layout)(x)
    torch.set_num_threads(int(threads))
    measure(label, fn, [int(s) for s in sizes.split(",")], int(iterations), multiplier)


if __name__ == "__main__":
    main()
