"""Playground checkpoints (src/train/trainer.ts's layout): parameters under param.*, Adam moments
under optim.m.* / optim.v.*, and in the metadata the format, the run config, step, optimizer step,
data-stream state and training seconds (the CRC-32 is the safetensors layer's). Also the run
configs the twin knows, checked field by field so that an unknown one is named, not guessed."""
import json

import numpy as np

from . import safetensors
from .jsjson import stringify
from .model import parameter_shapes

FORMAT = 'momentum-playground/checkpoint@1'
VARIANTS = ('softmax', 'linear', 'momentum', 'momentum-connection', 'adaptive')
RUN_KEYS = {'name', 'variant', 'task', 'model', 'optim', 'batch', 'steps', 'evalEvery', 'seed'}
MODEL_KEYS = {'vocab', 'maxSeq', 'layers', 'heads', 'headDim', 'ffn', 'activation', 'dropout', 'norm', 'position',
              'positionCombine', 'attention', 'connection', 'output', 'encoder'}
TASK_KEYS = {'copy': {'kind', 'maxLen', 'symbols', 'heldOut'}, 'mqar': {'kind', 'maxLen', 'pairs', 'queries', 'keys', 'values', 'heldOut'},
             'mnist': {'kind', 'resolution', 'subset', 'testImages', 'source'},
             'listops': {'kind', 'minLength', 'maxLength', 'maxDepth', 'minArgs', 'maxArgs', 'trainExamples', 'testExamples'},
             'images': {'kind', 'resolution', 'subset', 'testImages', 'source', 'labels', 'classes'}}
CLASSIFY_TASKS = ('listops', 'images')
CHOICES = {'activation': ('relu', 'gelu'), 'norm': ('post', 'pre'), 'position': ('sinusoidal', 'learned'),
           'positionCombine': ('concat', 'add')}
SUB = {'attention': {'softmax': set(), 'linear': set(), 'momentum': {'beta', 'gamma'}},
       'connection': {'residual': set(), 'momentum': {'betaTilde', 'gammaTilde'}, 'adaptive': {'gammaTilde', 'delta'}},
       'output': {'softmax': {'classes'}, 'dmol': {'mixtures'}}}
SCHEDULE_KEYS = {'constant': {'kind', 'lr', 'warmup'}, 'step': {'kind', 'lr', 'warmup', 'milestones', 'factor'},
                 'cosine': {'kind', 'lr', 'warmup', 'total', 'minLr'}, 'linear': {'kind', 'lr', 'warmup', 'total', 'minLr'}}


class CheckpointError(ValueError):
    pass


def _keys(where, obj, allowed, required=None):
    if not isinstance(obj, dict):
        raise CheckpointError(f'{where} must be an object')
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise CheckpointError(f"{where} has {', '.join(repr(u) for u in unknown)}, which the twin does not know "
                              f"(it knows {', '.join(sorted(allowed))}); update python/momentum_twin to match the playground")
    missing = sorted((required if required is not None else allowed) - set(obj))
    if missing:
        raise CheckpointError(f"{where} lacks {', '.join(repr(m) for m in missing)}")


def check_config(cfg):
    """Throws CheckpointError naming the first field the twin does not know or that is invalid."""
    _keys('run config', cfg, RUN_KEYS)
    if cfg['variant'] not in VARIANTS:
        raise CheckpointError(f"run config variant {cfg['variant']!r} is unknown to the twin; expected one of {', '.join(VARIANTS)}")
    t = cfg['task']
    if not isinstance(t, dict) or t.get('kind') not in TASK_KEYS:
        raise CheckpointError(f"task kind {t.get('kind') if isinstance(t, dict) else t!r} is unknown to the twin (it knows {', '.join(TASK_KEYS)})")
    _keys(f"task '{t['kind']}'", t, TASK_KEYS[t['kind']])
    m = cfg['model']
    _keys('model config', m, MODEL_KEYS, MODEL_KEYS - {'encoder'})
    classify = t['kind'] in CLASSIFY_TASKS
    if classify != ('encoder' in m):
        raise CheckpointError(f"{t['kind']} is a classification task: it needs model.encoder" if classify
                              else f"the {t['kind']} task trains a causal decoder; model.encoder must be absent")
    if classify:
        _keys('model.encoder', m['encoder'], {'pooling'})
        if m['encoder']['pooling'] not in ('mean', 'cls'):
            raise CheckpointError(f"model.encoder.pooling must be mean or cls; got {m['encoder']['pooling']!r}")
        if m['output'].get('kind') != 'softmax':
            raise CheckpointError('an encoder classifies: its output must be a softmax over classes, not dmol')
    for k in ('vocab', 'maxSeq', 'layers', 'heads', 'headDim', 'ffn'):
        if not (isinstance(m[k], int) and m[k] >= 1):
            raise CheckpointError(f'model.{k} must be a positive integer; got {m[k]!r}')
    for k, options in CHOICES.items():
        if m[k] not in options:
            raise CheckpointError(f"model.{k} {m[k]!r} is unknown to the twin; expected one of {', '.join(options)}")
    if not (0 <= m['dropout'] < 1):
        raise CheckpointError(f"model.dropout must be in [0, 1); got {m['dropout']}")
    if isinstance(m['attention'], dict) and m['attention'].get('weights', 'recurrence') != 'recurrence':
        raise CheckpointError(f"momentum attention weights {m['attention']['weights']!r} are the engine's alone: the twin computes "
                              "the recurrence's weights (MATH.md eq. 13/14); train 'authors-code' runs in WebGPU")
    for part, kinds in SUB.items():
        v = m[part]
        if not isinstance(v, dict) or v.get('kind') not in kinds:
            raise CheckpointError(f"model.{part} kind {v.get('kind') if isinstance(v, dict) else v!r} is unknown to the twin; expected one of {', '.join(kinds)}")
        optional = {'weights'} if part == 'attention' and v['kind'] == 'momentum' else set()
        _keys(f"model.{part} '{v['kind']}'", v, kinds[v['kind']] | {'kind'} | optional, kinds[v['kind']] | {'kind'})
    a = m['attention']
    if a['kind'] == 'momentum' and not (0 <= a['beta'] < 1 and a['gamma'] > 0):
        raise CheckpointError(f"momentum attention needs beta in [0, 1) and gamma > 0; got beta {a['beta']}, gamma {a['gamma']}")
    o = cfg['optim']
    _keys('optim config', o, {'kind', 'weightDecay', 'clipNorm', 'schedule'})
    if o['kind'] not in ('adam', 'adamw', 'radam'):
        raise CheckpointError(f"optimizer {o['kind']!r} is unknown to the twin; expected adam, adamw or radam")
    s = o['schedule']
    if not isinstance(s, dict) or s.get('kind') not in SCHEDULE_KEYS:
        raise CheckpointError(f"lr schedule {s.get('kind') if isinstance(s, dict) else s!r} is unknown to the twin; expected constant, step, cosine or linear")
    _keys(f"lr schedule '{s['kind']}'", s, SCHEDULE_KEYS[s['kind']], SCHEDULE_KEYS[s['kind']] - {'warmup'})
    for k in ('batch', 'steps', 'evalEvery'):
        if not (isinstance(cfg[k], int) and cfg[k] >= 1):
            raise CheckpointError(f'{k} must be a positive integer; got {cfg[k]!r}')
    return cfg


def expected_tensors(m):
    out = {}
    for name, shape, _ in parameter_shapes(m):
        out[f'param.{name}'] = shape
        out[f'optim.m.{name}'] = shape
        out[f'optim.v.{name}'] = shape
    return out


def load(path):
    """-> dict(config, step, optimizerStep, data, trainSeconds, params, m, v) from a checkpoint file,
    each problem (not ours, corrupt, unknown config, missing or mis-shaped tensors) a clear error."""
    try:
        tensors, meta = safetensors.read(path)
    except safetensors.SafetensorsError as e:
        raise CheckpointError(str(e)) from None
    if meta.get('format') != FORMAT:
        raise CheckpointError(f"{path}: not a playground checkpoint: metadata 'format' is {json.dumps(meta.get('format'))}, expected '{FORMAT}'")

    def parse(key):
        if key not in meta:
            raise CheckpointError(f"{path}: checkpoint metadata lacks '{key}'")
        try:
            return json.loads(meta[key])
        except json.JSONDecodeError:
            raise CheckpointError(f"{path}: checkpoint metadata '{key}' is not valid JSON") from None

    cfg = parse('config')
    try:
        check_config(cfg)
    except CheckpointError as e:
        raise CheckpointError(f'{path}: checkpoint config: {e}') from None
    expect = expected_tensors(cfg['model'])
    for name in tensors:
        if name not in expect:
            raise CheckpointError(f"{path}: checkpoint has a tensor '{name}' that this model does not")
    for name, shape in expect.items():
        if name not in tensors:
            raise CheckpointError(f"{path}: checkpoint lacks tensor '{name}'")
        a = tensors[name]
        if a.dtype != np.float32:
            raise CheckpointError(f"{path}: checkpoint tensor '{name}' is {safetensors._dtype_of(name, a)}, expected F32")
        if list(a.shape) != shape:
            raise CheckpointError(f"{path}: checkpoint tensor '{name}' has shape {list(a.shape)}, the model expects {shape}")
    names = [n for n, _, _ in parameter_shapes(cfg['model'])]
    state = {k: parse(k) for k in ('step', 'optimizerStep', 'data', 'trainSeconds')}
    for k in ('step', 'optimizerStep'):
        if not (isinstance(state[k], int) and state[k] >= 0):
            raise CheckpointError(f"{path}: checkpoint metadata '{k}' must be an integer >= 0; got {state[k]!r}")
    return dict(config=cfg, **state,
                params={n: tensors[f'param.{n}'] for n in names},
                m={n: tensors[f'optim.m.{n}'] for n in names},
                v={n: tensors[f'optim.v.{n}'] for n in names})


def save(path, cfg, step, optimizer_step, data_state, train_seconds, params, m, v):
    """Writes the playground's layout (temporary name, then rename)."""
    tensors = {}
    for n, a in params.items():
        tensors[f'param.{n}'] = np.asarray(a, dtype=np.float32)
        tensors[f'optim.m.{n}'] = np.asarray(m[n], dtype=np.float32)
        tensors[f'optim.v.{n}'] = np.asarray(v[n], dtype=np.float32)
    safetensors.write(path, tensors, {
        'format': FORMAT,
        'config': stringify(cfg),
        'step': stringify(step),
        'optimizerStep': stringify(optimizer_step),
        'data': stringify(data_state),
        'trainSeconds': stringify(float(train_seconds)),
    })
