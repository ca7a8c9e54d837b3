"""Continues a playground run (or starts one from a run config) in PyTorch, data-parallel under
torchrun (DistributedDataParallel: gloo on CPUs, NCCL on GPUs), writing DIR/metrics.jsonl and
DIR/last.safetensors in the playground's layout, so `npm run train --resume`, `npm run sample` and
the page load the result.

    python3 -m torch.distributed.run --nproc_per_node=K -m momentum_twin.run --resume FILE --steps S --out DIR
    python3 -m momentum_twin.run --config config.json --out DIR          (one process)

Every process draws the same global batch from the run's data stream and takes its share of the
sequences; each shard's loss is scaled so that DDP's mean of the gradients is exactly the gradient
of the global batch's masked mean, so K processes compute what one process computes (dropout
masks included: they are a function of the element's index in the global batch)."""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from . import checkpoint as ck
from .data import make_stream
from .jsjson import stringify
from .model import Transformer, cross_entropy_nll, init_parameters, is_cls, masked_sum, row_nll
from .optim import Optimizer, lr_at


GRAD_NORM_LIMIT = 1e5  # as src/train/trainer.ts


class UsageError(Exception):
    pass


class Diverged(Exception):
    pass


def dropout_seed(seed, step):
    return (((seed * 0x9E3779B1) & 0xFFFFFFFF) + ((step + 1) * 0x85EBCA6B & 0xFFFFFFFF)) & 0xFFFFFFFF


def read_config(path):
    """A run config: the object itself (config.json), or a page export holding one under 'config'."""
    try:
        with open(path) as f:
            v = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise UsageError(f'--config {path}: {e}') from None
    if isinstance(v, list):
        if len(v) != 1:
            raise UsageError(f'--config {path} holds {len(v)} runs; export one run, or pass its config.json')
        v = v[0]
    if isinstance(v, dict) and 'config' in v and 'model' not in v:
        v = v['config']
    try:
        return ck.check_config(v)
    except ck.CheckpointError as e:
        raise UsageError(f'--config {path}: {e}') from None


class ShardedForward(torch.nn.Module):
    """What DDP wraps: this process's sequences of the global batch -> the sum of their nll."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, targets, mask, seed, train, lengths=None):
        if self.model.cfg.get('encoder'):
            logits, betas = self.model.classify(ids, lengths, train=train, dropout_seed=seed)
            return cross_entropy_nll(logits, targets).sum(), betas
        out, betas = self.model(ids, train=train, dropout_seed=seed)
        return masked_sum(row_nll(self.model.cfg, out, targets), mask), betas


def long_tensor(a, device):
    return None if a is None else torch.from_numpy(a.astype(np.int64)).to(device)


def positions(cfg, batch):
    """Positions per sequence the model runs: the batch's (padded) length, and the CLS token."""
    return batch.seq + (1 if is_cls(cfg['model']) else 0)


class Run:
    def __init__(self, cfg, state=None, device='cpu', rank=0, world=1):
        self.cfg = cfg
        self.device, self.rank, self.world = device, rank, world
        params = state['params'] if state else init_parameters(cfg['model'], cfg['seed'])
        self.model = Transformer(cfg['model'], params).to(device)
        o = cfg['optim']
        self.opt = Optimizer([p for _, p in self.model.named()], o['kind'], o['weightDecay'], o['clipNorm'])
        self.stream = make_stream(cfg)
        self.step = 0
        self.seconds = 0.0
        if state:
            with torch.no_grad():
                for i, (n, _) in enumerate(self.model.named()):
                    self.opt.m[i].copy_(torch.from_numpy(state['m'][n]))
                    self.opt.v[i].copy_(torch.from_numpy(state['v'][n]))
            self.stream.restore(state['data'])
            self.step, self.opt.step_count = state['step'], state['optimizerStep']
            self.seconds = float(state['trainSeconds'] or 0)
        self.net = ShardedForward(self.model)
        if world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(self.net, device_ids=[device.index] if device.type == 'cuda' else None)

    def shard(self, batch):
        B = batch.batch
        return batch.rows(self.rank * B // self.world, (self.rank + 1) * B // self.world)

    def train_step(self):
        cfg = self.cfg
        batch = self.stream.next(cfg['batch'])
        lr = lr_at(cfg['optim']['schedule'], self.opt.step_count)
        # The mean over the masked positions, or over the sequences for a classifier.
        denom = max(float(batch.mask.sum(dtype=np.float64)) if batch.mask is not None else batch.batch * (1 if batch.classify else batch.seq), 1.0)
        mine = self.shard(batch)
        lo = self.rank * batch.batch // self.world
        ids, targets, lengths = (long_tensor(a, self.device) for a in (mine.inputs, mine.targets, mine.lengths))
        mask = None if mine.mask is None else torch.from_numpy(mine.mask).to(self.device)
        seed = dropout_seed(cfg['seed'], self.step)
        self.model.zero_grad(set_to_none=True)
        # Dropout masks index the global batch: shift this shard's counters to its first row.
        self.model.dropout_row_offset = lo * positions(cfg, batch)
        nll_sum, betas = self.net(ids, targets, mask, seed, True, lengths)
        (nll_sum * (self.world / denom)).backward()  # DDP averages: the mean is the global gradient
        stats = torch.stack([nll_sum.detach().double()] + [b.detach().double().sum() for b in betas])
        if self.world > 1:
            dist.all_reduce(stats)
        loss = float(stats[0]) / denom
        norm = self.opt.grad_norm()
        if not (math.isfinite(loss) and math.isfinite(norm) and norm <= GRAD_NORM_LIMIT):
            # As the playground: the bad step is not applied (its batch stays consumed).
            why = f'the training loss became {loss}' if not math.isfinite(loss) else (
                f'the gradient norm became {norm}' if not math.isfinite(norm) else f'the gradient norm {norm:.2e} exceeded the limit 1e+05')
            raise Diverged(f'diverged at step {self.step + 1}: {why}; the model is kept as it was after step {self.step}')
        self.opt.step(lr, norm)
        self.step += 1
        rows = batch.batch * positions(cfg, batch)  # as the engine: CLS and padding included
        return dict(loss=loss, gradNorm=norm, lr=lr, tokens=rows,
                    betaTilde=[float(s) / rows for s in stats[1:]])

    @torch.no_grad()
    def evaluate_classifier(self):
        """Test loss (mean nll per sequence), accuracy and the confusion matrix (src/train/evaluate.ts),
        and the training accuracy on the stream's training sample (src/train/trainer.ts)."""
        test, confusion = self.classify_batches(self.stream.eval_batches(self.cfg['batch']))
        self.confusion = confusion.tolist()
        _, train_confusion = self.classify_batches(self.stream.train_eval_batches(self.cfg['batch']))
        return {**test, 'trainAccuracy': int(np.trace(train_confusion)) / max(int(train_confusion.sum()), 1)}

    def classify_batches(self, batches):
        """Mean nll per sequence and accuracy over `batches`, with their confusion matrix."""
        classes = self.cfg['model']['output']['classes']
        confusion = np.zeros((classes, classes), dtype=np.int64)
        nll_sum, count = 0.0, 0
        for b in batches:
            ids, lengths = long_tensor(b.inputs, self.device), long_tensor(b.lengths, self.device)
            logits, _ = self.model.classify(ids, lengths)
            nll = cross_entropy_nll(logits, long_tensor(b.targets, self.device)).double().cpu().numpy()
            nll_sum += float(nll.sum())
            np.add.at(confusion, (b.targets.astype(np.int64), logits.argmax(-1).cpu().numpy()), 1)
            count += b.batch
        return {'testLoss': nll_sum / max(count, 1), 'accuracy': int(np.trace(confusion)) / max(count, 1)}, confusion

    @torch.no_grad()
    def evaluate(self):
        cfg = self.cfg
        m = cfg['model']
        if m.get('encoder'):
            return self.evaluate_classifier()
        nll_sum, weight = 0.0, 0.0
        correct = masked = perfect = scored = 0
        for b in self.stream.eval_batches(cfg['batch']):
            ids = torch.from_numpy(b.inputs.astype(np.int64)).to(self.device)
            targets = torch.from_numpy(b.targets.astype(np.int64)).to(self.device)
            out, _ = self.model(ids, train=False)
            nll = row_nll(m, out, targets).double().cpu().numpy()
            w = b.mask.astype(np.float64) if b.mask is not None else np.ones(len(nll))
            nll_sum += float((nll * w)[w > 0].sum())
            weight += float(w.sum())
            if m['output']['kind'] == 'softmax':
                hit = (out.argmax(-1).cpu().numpy() == b.targets).reshape(b.batch, b.seq)
                mk = (w > 0).reshape(b.batch, b.seq)
                correct += int((hit & mk).sum())
                masked += int(mk.sum())
                for r in range(b.batch):
                    if mk[r].any():
                        scored += 1
                        perfect += int(hit[r][mk[r]].all())
        test = nll_sum / max(weight, 1)
        if cfg['task']['kind'] in ('copy', 'mqar'):
            return {'testLoss': test, 'accuracy': correct / masked, 'sequenceAccuracy': perfect / scored}
        return {'testLoss': test, 'bitsPerDim': test / math.log(2), 'resolution': cfg['task']['resolution']}

    def save(self, path):
        named = self.model.named()
        ck.save(path, self.cfg, self.step, self.opt.step_count, self.stream.state(), self.seconds,
                {n: p.detach().cpu().numpy() for n, p in named},
                {n: self.opt.m[i].cpu().numpy() for i, (n, _) in enumerate(named)},
                {n: self.opt.v[i].cpu().numpy() for i, (n, _) in enumerate(named)})


def write_confusion(path, step, rec, matrix):
    """DIR/confusion.json as src/cli/runDir.ts writes it: matrix[t][p] counts test sequences of true
    class t predicted as p (temporary name, then renamed)."""
    body = {'step': step, 'testLoss': rec['testLoss'], 'accuracy': rec['accuracy'], 'rows': 'true class',
            'columns': 'predicted class', 'matrix': matrix}
    with open(path + '.partial', 'w') as f:
        f.write(stringify(body) + '\n')
    os.replace(path + '.partial', path)


def main(argv=None):
    ap = argparse.ArgumentParser(prog='momentum_twin.run', description=__doc__.split('\n\n')[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument('--resume', help='a playground checkpoint (last.safetensors) to continue')
    src.add_argument('--config', help='a run config JSON (config.json, or the page export of one run) to start from')
    ap.add_argument('--steps', type=int, help="total steps (default: the config's); must be >= the checkpoint's step")
    ap.add_argument('--out', required=True, help='directory for metrics.jsonl, config.json and last.safetensors')
    args = ap.parse_args(argv)
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local = int(os.environ.get('LOCAL_RANK', '0'))
    torch.set_num_threads(int(os.environ.get('TWIN_THREADS', '1')))
    try:
        if args.resume:
            if not os.path.exists(args.resume):
                raise UsageError(f'--resume {args.resume}: no such file')
            state = ck.load(args.resume)
            cfg = state['config']
        else:
            state, cfg = None, read_config(args.config)
        start = state['step'] if state else 0
        if args.steps is not None:
            if args.steps < max(start, 1):
                raise UsageError(f"--steps {args.steps} must be >= the checkpoint's step {start} (it counts the total, as npm run train --steps)")
            cfg['steps'] = args.steps
        if world > cfg['batch']:
            raise UsageError(f"--nproc_per_node {world} is larger than the batch of {cfg['batch']} sequences: every process needs at least one")
    except (UsageError, ck.CheckpointError, ValueError, FileNotFoundError) as e:
        if rank == 0:
            print(f'error: {e}', file=sys.stderr)
        return 2
    cuda = torch.cuda.is_available()
    device = torch.device('cuda', local) if cuda else torch.device('cpu')
    if cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group('nccl' if cuda else 'gloo')
    run = Run(cfg, state, device, rank, world)
    os.makedirs(args.out, exist_ok=True)
    metrics = os.path.join(args.out, 'metrics.jsonl')
    last = os.path.join(args.out, 'last.safetensors')
    if rank == 0:
        if not state:
            open(metrics, 'w').close()
        with open(os.path.join(args.out, 'config.json'), 'w') as f:
            f.write(json.dumps(cfg, indent=2) + '\n')
        kind = f"{world} x {'NCCL/' + torch.cuda.get_device_name(device) if cuda else 'gloo/CPU'}"
        print(f"{cfg['name']}: twin from step {run.step} to {cfg['steps']} on {kind}", file=sys.stderr)
    every = cfg['evalEvery']
    tokens, window = 0, 0.0
    while run.step < cfg['steps']:
        t0 = time.perf_counter()
        try:
            r = run.train_step()
        except Diverged as e:
            if rank == 0:
                run.save(last)
                print(f'diverged: {e}; the last good state is in {last}', file=sys.stderr)
            return 3
        dt = time.perf_counter() - t0
        run.seconds += dt
        tokens += r['tokens']
        window += dt
        if run.step % every == 0 or run.step == cfg['steps']:
            if rank == 0:
                rec = {'step': run.step, 'wallSeconds': run.seconds, 'trainLoss': r['loss'], 'testLoss': None,
                       'tokensPerSec': tokens / max(window, 1e-9), 'lr': r['lr'], 'gradNorm': r['gradNorm']}
                if r['betaTilde']:
                    rec['betaTilde'] = r['betaTilde']
                rec.update(run.evaluate())
                with open(metrics, 'a') as f:
                    f.write(stringify(rec) + '\n')
                run.save(last)
                if 'encoder' in cfg['model']:
                    write_confusion(os.path.join(args.out, 'confusion.json'), run.step, rec, run.confusion)
                extra = f", accuracy {100 * rec['accuracy']:.1f}%" if 'accuracy' in rec else f", {rec['bitsPerDim']:.3f} bits/dim"
                print(f"step {run.step}: train loss {r['loss']:.4f}, test loss {rec['testLoss']:.4f}{extra}", file=sys.stderr)
            tokens, window = 0, 0.0
            if world > 1:
                dist.barrier()
    if rank == 0:
        print(f'done: {run.step} steps; metrics in {metrics}; checkpoint {last}')
    if world > 1:
        dist.destroy_process_group()
    return 0


if __name__ == '__main__':
    sys.exit(main())
