#!/usr/bin/python3
"""Writes a Real-ESRGAN-sized RRDBNet (×4, 23 blocks, 64 features, growth 32) with random weights
as .safetensors (float32), for bench/upscale.cpp and bench/upscale_torch.py. The module structure
(and so the key names) is the one the loader fixtures use: tests/fixtures/upscale/make_fixtures.py.

Usage: /usr/bin/python3 bench/make_rrdbnet.py OUT.safetensors
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures", "upscale"))
import make_fixtures  # noqa: E402


def build(seed=5):
    model = make_fixtures.NewRRDBNet(3, 3, 64, 23, 32)
    # Real-ESRGAN's init: Kaiming weights scaled by 0.1, so activations stay in a normal range
    # (no overflow, no denormals) through 23 blocks, as in a trained model.
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in model.named_parameters():
            if p.dim() == 4:
                fan_in = p.shape[1] * p.shape[2] * p.shape[3]
                p.copy_(torch.randn(p.shape, generator=gen) * (2.0 / fan_in) ** 0.5 * 0.1)
            else:
                p.zero_()
    return model.eval()


def main():
    out = sys.argv[1]
    model = build()
    make_fixtures.save_safetensors(model.state_dict(), out, torch.float32)
    params = sum(v.numel() for v in model.state_dict().values())
    print(f"{out}: RRDBNet x4, 23 blocks, 64 features, {params} parameters")


if __name__ == "__main__":
    main()
