"""One training step of the benchmark's model (src/bench/model.ts: 2 layers, 4 heads x 16, ffn 128,
N 128, batch 8, causal linear attention, Adam lr 1e-3) in the twin, timed as src/bench/trainStep.ts
times the engine's: warm-up steps, then the mean over `reps` steps. Prints one JSON line.

    python3 -m momentum_twin.bench [--reps 20] [--threads 1]"""
import argparse
import json
import time

import numpy as np
import torch

from .model import Transformer, cross_entropy_nll, init_parameters
from .optim import Optimizer

BENCH_MODEL = {'vocab': 11, 'maxSeq': 128, 'layers': 2, 'heads': 4, 'headDim': 16, 'ffn': 128, 'activation': 'relu',
               'dropout': 0, 'norm': 'post', 'position': 'sinusoidal', 'positionCombine': 'concat',
               'attention': {'kind': 'linear'}, 'connection': {'kind': 'residual'}, 'output': {'kind': 'softmax', 'classes': 11}}
BATCH, SEQ, LR = 8, 128, 1e-3


def main(argv=None):
    ap = argparse.ArgumentParser(prog='momentum_twin.bench')
    ap.add_argument('--reps', type=int, default=20)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = Transformer(BENCH_MODEL, init_parameters(BENCH_MODEL, 1))
    opt = Optimizer([p for _, p in model.named()], 'adam')
    rng = np.random.default_rng(1)
    ids = torch.from_numpy(rng.integers(0, 11, (BATCH, SEQ)))
    targets = torch.roll(ids, -1, 1).reshape(-1)

    def step():
        model.zero_grad(set_to_none=True)
        out, _ = model(ids, train=True)
        loss = cross_entropy_nll(out, targets).mean()
        loss.backward()
        opt.step(LR)
        return float(loss)

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    losses = [step() for _ in range(args.reps)]
    ms = (time.perf_counter() - t0) * 1000 / args.reps
    print(json.dumps({'ms': ms, 'loss': sum(losses) / len(losses), 'threads': args.threads, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
