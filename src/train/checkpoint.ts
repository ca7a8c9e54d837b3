// Checkpoint files: a run's parameters and Adam moments as safetensors tensors, and what else a
// resumed run needs (config, step counts, data-order state, training time) as JSON strings in the
// metadata. Reading validates everything before a single value reaches the GPU. The header-only
// config reader, for code that must not load the engine (the page), is checkpointConfig.ts.
import type { Optimizer } from '../engine/optim.ts';
import type { Tensor } from '../engine/tensor.ts';
import type { Transformer } from '../model/transformer.ts';
import { CHECKPOINT_FORMAT } from './checkpointConfig.ts';
import type { StreamState } from './data.ts';
import { checkRunConfig } from './presets.ts';
import { readSafetensors, writeSafetensors, type SafeTensor, type SafetensorsFile } from './safetensors.ts';
import type { RunConfig } from './types.ts';

/** Everything besides the tensors that continues a run bit for bit. */
export interface CheckpointMeta {
  config: RunConfig;
  /** Steps completed. */
  step: number;
  /** The optimizer's update count (its bias corrections continue from it). */
  optimizerStep: number;
  data: StreamState;
  trainSeconds: number;
}

/** A parameter's two Adam moments. */
export interface Moments {
  m: Tensor;
  v: Tensor;
}

/**
 * Each optimizer parameter's moments, found by the state names the optimizer gives them
 * ('m.<index>.<label>', 'v.<index>.<label>'), so a checkpoint never depends on their order.
 */
export function momentsByParameter(opt: Optimizer): Map<Tensor, Moments> {
  const found = new Map<Tensor, Partial<Moments>>();
  for (const { name, tensor } of opt.stateTensors()) {
    const match = /^(m|v)\.(\d+)\./.exec(name);
    const param = match ? opt.params[Number(match[2])] : undefined;
    if (!match || !param) throw new Error(`optimizer state '${name}' names no parameter (expected 'm.<index>.<label>' or 'v.<index>.<label>')`);
    const entry = found.get(param) ?? {};
    entry[match[1] as 'm' | 'v'] = tensor;
    found.set(param, entry);
  }
  const out = new Map<Tensor, Moments>();
  for (const p of opt.params) {
    const e = found.get(p);
    if (!e?.m || !e.v) throw new Error(`optimizer state lacks the moments of parameter '${p.label}'`);
    out.set(p, { m: e.m, v: e.v });
  }
  return out;
}

/** Parameters and optimizer moments by their checkpoint names ('param.*', 'optim.m.*', 'optim.v.*'). */
export function checkpointTensors(model: Transformer, opt: Optimizer): Map<string, Tensor> {
  const moments = momentsByParameter(opt);
  const out = new Map<string, Tensor>();
  for (const [name, t] of model.params) out.set(`param.${name}`, t);
  for (const [name, t] of model.params) {
    const m = moments.get(t);
    if (!m) throw new Error(`parameter '${name}' has no optimizer state`);
    out.set(`optim.m.${name}`, m.m);
    out.set(`optim.v.${name}`, m.v);
  }
  return out;
}

/** The checkpoint file of these tensors (read back from the GPU) and metadata. */
export async function writeCheckpoint(tensors: Map<string, Tensor>, meta: CheckpointMeta): Promise<Uint8Array> {
  const out: SafeTensor[] = [];
  for (const [name, t] of tensors) out.push({ name, dtype: 'F32', shape: [...t.shape], data: await t.read() });
  return writeSafetensors(out, {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(meta.config),
    step: JSON.stringify(meta.step),
    optimizerStep: JSON.stringify(meta.optimizerStep),
    data: JSON.stringify(meta.data),
    trainSeconds: JSON.stringify(meta.trainSeconds),
  });
}

/** Parses a checkpoint and checks its metadata (format, config, step counts); tensors unchecked. */
export function readCheckpoint(bytes: Uint8Array): { file: SafetensorsFile; meta: CheckpointMeta } {
  const file = readSafetensors(bytes);
  const raw = file.metadata;
  if (raw.format !== CHECKPOINT_FORMAT) {
    throw new Error(`not a playground checkpoint: metadata 'format' is ${JSON.stringify(raw.format)}, expected '${CHECKPOINT_FORMAT}'`);
  }
  const parse = <T>(key: string): T => {
    if (typeof raw[key] !== 'string') throw new Error(`checkpoint metadata lacks '${key}'`);
    try {
      return JSON.parse(raw[key]) as T;
    } catch {
      throw new Error(`checkpoint metadata '${key}' is not valid JSON`);
    }
  };
  const config = parse<RunConfig>('config');
  const step = parse<number>('step');
  const optimizerStep = parse<number>('optimizerStep');
  const data = parse<StreamState>('data');
  const seconds = parse<number>('trainSeconds');
  for (const [k, v] of [
    ['step', step],
    ['optimizerStep', optimizerStep],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`checkpoint metadata '${k}' must be an integer >= 0; got ${String(v)}`);
  }
  try {
    checkRunConfig(config);
  } catch (e) {
    throw new Error(`checkpoint config is invalid: ${(e as Error).message}`);
  }
  return { file, meta: { config, step, optimizerStep, data, trainSeconds: Number.isFinite(seconds) ? seconds : 0 } };
}

/** Writes the file's tensors into `expected`, after checking names, dtypes and shapes of all. */
export function loadCheckpointTensors(file: SafetensorsFile, expected: Map<string, Tensor>): void {
  for (const name of file.tensors.keys()) {
    if (!expected.has(name)) throw new Error(`checkpoint has a tensor '${name}' that this model does not`);
  }
  for (const [name, tensor] of expected) {
    const got = file.tensors.get(name);
    if (!got) throw new Error(`checkpoint lacks tensor '${name}'`);
    if (got.dtype !== 'F32') throw new Error(`checkpoint tensor '${name}' is ${got.dtype}, expected F32`);
    if (got.shape.length !== tensor.shape.length || got.shape.some((s, i) => s !== tensor.shape[i])) {
      throw new Error(`checkpoint tensor '${name}' has shape [${got.shape.join(', ')}], the model expects [${tensor.shape.join(', ')}]`);
    }
  }
  for (const [name, tensor] of expected) tensor.write(file.tensors.get(name)!.data as Float32Array);
}
