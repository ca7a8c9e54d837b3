"""The cross-check (llm.c's test_gpt2, against our engine): for a checkpoint and the next batch of
its data stream, the twin's loss and every parameter gradient equal the engine's within 1e-4
relative, and momentum attention's outputs within 1e-5. For an encoder checkpoint (ListOps, image
classification) the loss is the classifier's cross-entropy on the batch's right-padded sequences
with their lengths; non-causal attention is also checked with key padding on random inputs. The engine's values come from a file that
src/cli/twinEngine.ts writes; the twin computes in float64, so the differences measure the engine.

Relative difference of a tensor: max |twin - engine| / max |engine| (the largest error against the
tensor's scale; elementwise ratios blow up where a gradient crosses zero).

    python3 -m momentum_twin.check --checkpoint FILE --engine ENGINE.safetensors
Exit 0 only when every difference is within its tolerance; the last line lists the largest."""
import argparse
import json
import sys

import numpy as np
import torch

from . import checkpoint as ck
from . import safetensors
from .attention import attention
from .data import make_stream
from .model import Transformer, cross_entropy_nll, masked_sum, row_nll

GRAD_TOL = 1e-4
ATTN_TOL = 1e-5


def rel(twin, engine):
    twin = np.asarray(twin, dtype=np.float64)
    engine = np.asarray(engine, dtype=np.float64)
    if twin.shape != engine.shape:
        raise ValueError(f'shapes differ: twin {list(twin.shape)}, engine {list(engine.shape)}')
    scale = np.abs(engine).max() if engine.size else 0.0
    diff = np.abs(twin - engine).max() if engine.size else 0.0
    return float(diff / scale) if scale > 0 else float(diff)


def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def model_pass(model, batch, train, dropout_seed):
    """Loss, gradients by name, and each layer's (q, k, v, out) for the batch, in float64."""
    ids = torch.from_numpy(batch.inputs.astype(np.int64))
    targets = torch.from_numpy(batch.targets.astype(np.int64))
    mask = None if batch.mask is None else t64(batch.mask)
    seen = []
    a = model.cfg['attention']
    model.zero_grad(set_to_none=True)
    if model.cfg.get('encoder'):
        lengths = None if batch.lengths is None else torch.from_numpy(batch.lengths.astype(np.int64))
        logits, _ = model.classify(ids, lengths, train=train, dropout_seed=dropout_seed)
        loss = cross_entropy_nll(logits, targets).mean()
        loss.backward()
        return float(loss), {n: p.grad.numpy() for n, p in model.named()}, seen

    def attend(l, q, k, v):
        o = attention(a['kind'], q, k, v, True, a.get('beta'), a.get('gamma'))
        seen.append((q.detach(), k.detach(), v.detach(), o.detach()))
        return o

    out, _ = model(ids, train=train, dropout_seed=dropout_seed, attend=attend)
    denom = max(float(mask.sum()) if mask is not None else len(targets), 1.0)
    loss = masked_sum(row_nll(model.cfg, out, targets), mask) / denom
    loss.backward()
    return float(loss), {n: p.grad.numpy() for n, p in model.named()}, seen


def compare(ckpt_path, engine_path, out=print):
    state = ck.load(ckpt_path)
    cfg = state['config']
    eng, meta = safetensors.read(engine_path)
    if meta.get('format') != 'momentum-twin/engine-gradients@1':
        raise ValueError(f'{engine_path} is not an engine-gradients file (written by src/cli/twinEngine.ts)')
    stream = make_stream(cfg)
    stream.restore(state['data'])
    batch = stream.next(cfg['batch'])
    # The data: the twin's batch must be the engine's, bit for bit.
    if not np.array_equal(batch.inputs, eng['batch.inputs']) or not np.array_equal(batch.targets, eng['batch.targets']):
        raise ValueError("the twin's batch differs from the engine's: the data streams disagree")
    if (batch.mask is None) != ('batch.mask' not in eng) or (batch.mask is not None and not np.array_equal(batch.mask, eng['batch.mask'])):
        raise ValueError("the twin's loss mask differs from the engine's")
    if (batch.lengths is None) != ('batch.lengths' not in eng) or (batch.lengths is not None and not np.array_equal(batch.lengths, eng['batch.lengths'])):
        raise ValueError("the twin's sequence lengths (key padding) differ from the engine's")
    model = Transformer(cfg['model'], state['params'], dtype=torch.float64)
    rows = []  # (what, relative difference, tolerance)
    loss, grads, seen = model_pass(model, batch, False, 0)
    rows.append(('loss', rel([loss], eng['loss']), GRAD_TOL))
    for n, g in grads.items():
        rows.append((f'grad {n}', rel(g, eng[f'grad.{n}']), GRAD_TOL))
    kind = cfg['model']['attention']['kind']
    a = cfg['model']['attention']
    for l, (q, k, v, o) in enumerate(seen):
        rows.append((f'layer {l} attention output (model)', rel(o, eng[f'attn.{l}.out']), GRAD_TOL))
        # On the engine's own q, k, v: the attention alone, where momentum must agree within 1e-5.
        mine = attention(kind, t64(eng[f'attn.{l}.q']), t64(eng[f'attn.{l}.k']), t64(eng[f'attn.{l}.v']), True, a.get('beta'), a.get('gamma'))
        rows.append((f'layer {l} {kind} attention output (engine inputs)', rel(mine, eng[f'attn.{l}.out']), ATTN_TOL if kind == 'momentum' else GRAD_TOL))
    if 'dropout.loss' in eng:
        seed = json.loads(meta['dropoutSeed'])
        dloss, dgrads, _ = model_pass(model, batch, True, seed)
        rows.append(('loss, dropout on', rel([dloss], eng['dropout.loss']), GRAD_TOL))
        for n, g in dgrads.items():
            rows.append((f'grad {n}, dropout on', rel(g, eng[f'dropout.grad.{n}']), GRAD_TOL))
    nc = json.loads(meta['noncausal'])
    for k in ('softmax', 'linear', 'momentum'):
        for pre, what in (('noncausal', 'non-causal'), ('noncausal-padded', 'non-causal, key padding,')):
            p = f'{pre}.{k}.'
            if p + 'q' not in eng:
                continue
            q, kk, v = (t64(eng[p + x]).requires_grad_() for x in 'qkv')
            lengths = torch.from_numpy(eng[p + 'lengths'].astype(np.int64)) if p + 'lengths' in eng else None
            o = attention(k, q, kk, v, False, nc['beta'], nc['gamma'], lengths=lengths)
            o.backward(t64(eng[p + 'dout']))
            rows.append((f'{what} {k} attention output', rel(o.detach(), eng[p + 'out']), ATTN_TOL if k == 'momentum' else GRAD_TOL))
            for name, t in (('dq', q), ('dk', kk), ('dv', v)):
                rows.append((f'{what} {k} attention {name}', rel(t.grad, eng[p + name]), GRAD_TOL))
    bad = [r for r in rows if not r[1] <= r[2]]
    for what, d, tol in rows:
        out(f"{'FAIL' if not d <= tol else 'ok  '} {d:.2e} (tolerance {tol:.0e})  {what}")
    grad_rows = [r for r in rows if r[0].startswith(('grad', 'loss'))]
    attn_rows = [r for r in rows if 'momentum attention output' in r[0]]
    worst = max(grad_rows, key=lambda r: r[1])
    enc = cfg['model'].get('encoder')
    head = f"encoder, {enc['pooling']} pooling, {cfg['task']['kind']}" if enc else f"{cfg['model']['output']['kind']} head"
    line = f'largest relative differences: loss and gradients {worst[1]:.2e} ({worst[0]})'
    if attn_rows:
        wa = max(attn_rows, key=lambda r: r[1])
        line += f', momentum attention outputs {wa[1]:.2e} ({wa[0]})'
    wo = max(rows, key=lambda r: r[1] / r[2])
    line += f"; {'all within tolerance' if not bad else f'{len(bad)} over tolerance, worst {wo[0]}'} ({cfg['variant']}, {head}; engine: {meta.get('device', '?')})"
    out(line)
    return not bad


def main(argv=None):
    ap = argparse.ArgumentParser(prog='momentum_twin.check', description=__doc__.split('\n\n')[0])
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--engine', required=True, help='the engine-gradients file of src/cli/twinEngine.ts for that checkpoint')
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    try:
        ok = compare(args.checkpoint, args.engine)
    except (ValueError, FileNotFoundError, KeyError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
