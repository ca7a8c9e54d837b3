// The transformer the paper trains (MATH.md sections 5, 6, 8, 10), built only from the engine's
// differentiable ops: the model never touches a GPU buffer itself. One trunk serves two heads: the
// causal decoder (`forward`, per-position outputs) and the non-causal encoder classifier
// (`classify`, key-padding masks, a pooled vector per sequence, class logits).
import type { Gpu } from '../engine/gpu.ts';
import { attention, type AttentionSpec } from '../engine/ops/attention.ts';
import { add, dropout, gelu, relu } from '../engine/ops/elementwise.ts';
import { embed } from '../engine/ops/embedding.ts';
import { mergeHeads, splitHeads } from '../engine/ops/heads.ts';
import { layerNorm } from '../engine/ops/layernorm.ts';
import { meanPool } from '../engine/ops/pooling.ts';
import { linear } from '../engine/ops/matmul.ts';
import { adaptiveMomentumConnection, momentumConnection } from '../engine/ops/momentumConnection.ts';
import { destroyTensors } from '../engine/ops/state.ts';
import { fromArray, numel, parameter, type Shape, type Tape, type Tensor } from '../engine/tensor.ts';
import { Random } from '../util/random.ts';
import {
  applyHypers,
  checkModelConfig,
  encoderPositions,
  modelWidth,
  outputWidth,
  tokenRows,
  type AttentionWeights,
  type LiveHypers,
  type ModelConfig,
} from './config.ts';
import { modelAttentionSpec } from './inspect.ts';

export type { LiveHypers } from './config.ts';

/** Distinct dropout streams per site and step: element counters of one site stay below this. */
const DROPOUT_SITE_STRIDE = 1 << 26;

interface LayerParams {
  norm1Gain: Tensor; // [d]
  norm1Bias: Tensor; // [d]
  qkv: Tensor; // [d, 3d]
  qkvBias: Tensor; // [3d]
  proj: Tensor; // [d, d]
  projBias: Tensor; // [d]
  norm2Gain: Tensor; // [d]
  norm2Bias: Tensor; // [d]
  ff1: Tensor; // [d, ffn]
  ff1Bias: Tensor; // [ffn]
  ff2: Tensor; // [ffn, d]
  ff2Bias: Tensor; // [d]
}

/**
 * How a parameter starts: N(0, 1) (embeddings), U(+-1/sqrt(fanIn)) (linear layers, PyTorch's
 * default, as in the paper's code), or a constant (norm gains and biases).
 */
export type ParameterInit = { kind: 'normal' } | { kind: 'uniform'; fanIn: number } | { kind: 'ones' } | { kind: 'zeros' };

export interface ParameterSpec {
  /** Stable name (checkpoint key and the tensor's label). */
  name: string;
  shape: Shape;
  init: ParameterInit;
}

/**
 * Every parameter of a model with this config, in the model's fixed order (the order of
 * `Transformer.params`, of the random draws that initialise them, and of the optimizer's state).
 * Plain data, so memory can be estimated before anything is allocated.
 */
export function parameterSpecs(cfg: ModelConfig): ParameterSpec[] {
  const d = modelWidth(cfg);
  const concat = cfg.positionCombine === 'concat';
  const tokenDim = concat ? d / 2 : d;
  const posDim = concat ? d - tokenDim : d;
  const specs: ParameterSpec[] = [{ name: 'embed.token', shape: [tokenRows(cfg), tokenDim], init: { kind: 'normal' } }];
  if (cfg.position === 'learned') specs.push({ name: 'embed.position', shape: [cfg.maxSeq, posDim], init: { kind: 'normal' } });
  const lin = (name: string, fanIn: number, fanOut: number) => {
    const init = { kind: 'uniform', fanIn } as const;
    specs.push({ name: `${name}.weight`, shape: [fanIn, fanOut], init }, { name: `${name}.bias`, shape: [fanOut], init });
  };
  const ones = (name: string) => specs.push({ name, shape: [d], init: { kind: 'ones' } });
  const zeros = (name: string) => specs.push({ name, shape: [d], init: { kind: 'zeros' } });
  for (let l = 0; l < cfg.layers; l++) {
    const p = `layers.${l}`;
    lin(`${p}.attn.qkv`, d, 3 * d);
    lin(`${p}.attn.proj`, d, d);
    lin(`${p}.ffn.1`, d, cfg.ffn);
    lin(`${p}.ffn.2`, cfg.ffn, d);
    ones(`${p}.norm1.gain`);
    zeros(`${p}.norm1.bias`);
    ones(`${p}.norm2.gain`);
    zeros(`${p}.norm2.bias`);
  }
  if (cfg.norm === 'pre') {
    ones('final.norm.gain');
    zeros('final.norm.bias');
  }
  lin('head', d, outputWidth(cfg));
  return specs;
}

export interface ForwardOptions {
  /** Dropout on (training) or off (evaluation, sampling). */
  train: boolean;
  /** Seeds this step's dropout masks; the same seed gives the same masks. */
  dropoutSeed: number;
  /** Recurrent decoding, one token at a time (src/model/sampler.ts); absent for the parallel forward. */
  decode?: DecodeHooks;
}

/**
 * What turns the parallel forward into one recurrent step: the ids [B, N] are the tokens at
 * positions positionOffset .. positionOffset + N - 1 of sequences whose earlier tokens went through
 * `attend` before, and `attend` replaces each layer's parallel causal attention with a step of that
 * layer's recurrent state (KV cache, or linear/momentum state). Everything else (embedding at the
 * position, connections, norms, feed-forward, head) is the same code, so it gives the same rows.
 */
export interface DecodeHooks {
  positionOffset: number;
  /** q, k [B, H, N, Dh], v [B, H, N, Dh] of layer `layer` -> its attention output [B, H, N, Dh], owned by the tape. */
  attend(layer: number, q: Tensor, k: Tensor, v: Tensor): Tensor;
}

/** One batch for the encoder, on the host: the model uploads it after checking it. */
export interface EncoderInput {
  batch: number;
  /** Positions per row of `ids` (the padded length), before any CLS token. */
  seq: number;
  /** u32 [B * seq] token ids in 0..vocab-1, right-padded. */
  ids: Uint32Array;
  /** u32 [B]: real tokens per row, in 1..seq (the rest is padding); null: every row is full. */
  lengths: Uint32Array | null;
}

export interface ClassifyResult {
  /** [B, classes]: class logits per sequence. */
  logits: Tensor;
  /**
   * Adaptive connection only: per layer (from the second), beta~ per position [B * N], N with the
   * CLS token and the padding (whose rows carry no information: they do not reach the logits).
   */
  betaTilde: Tensor[];
}

export interface ForwardResult {
  /** [B * N, outputWidth]: class logits or mixture parameters per position. */
  output: Tensor;
  /** Adaptive connection only: per layer (from the second), beta~ per token [B * N]. */
  betaTilde: Tensor[];
}

export class Transformer {
  readonly cfg: ModelConfig;
  /** Every parameter by a stable name (checkpoint keys), in a fixed order. */
  readonly params = new Map<string, Tensor>();
  private tokenTable: Tensor; // [V, E]
  private positionTable: Tensor | null; // [maxSeq, P], learned codes only
  private layers: LayerParams[] = [];
  private finalGain: Tensor | null; // [d], pre-norm only
  private finalBias: Tensor | null;
  private head: Tensor; // [d, out]
  private headBias: Tensor; // [out]

  constructor(readonly gpu: Gpu, cfg: ModelConfig, seed: number) {
    this.cfg = structuredClone(checkModelConfig(cfg));
    const rng = new Random(seed);
    for (const spec of parameterSpecs(cfg)) this.param(spec, rng);
    const get = (name: string) => this.params.get(name)!;
    this.tokenTable = get('embed.token');
    this.positionTable = this.params.get('embed.position') ?? null;
    for (let l = 0; l < cfg.layers; l++) {
      const p = `layers.${l}`;
      this.layers.push({
        norm1Gain: get(`${p}.norm1.gain`),
        norm1Bias: get(`${p}.norm1.bias`),
        qkv: get(`${p}.attn.qkv.weight`),
        qkvBias: get(`${p}.attn.qkv.bias`),
        proj: get(`${p}.attn.proj.weight`),
        projBias: get(`${p}.attn.proj.bias`),
        norm2Gain: get(`${p}.norm2.gain`),
        norm2Bias: get(`${p}.norm2.bias`),
        ff1: get(`${p}.ffn.1.weight`),
        ff1Bias: get(`${p}.ffn.1.bias`),
        ff2: get(`${p}.ffn.2.weight`),
        ff2Bias: get(`${p}.ffn.2.bias`),
      });
    }
    this.finalGain = this.params.get('final.norm.gain') ?? null;
    this.finalBias = this.params.get('final.norm.bias') ?? null;
    this.head = get('head.weight');
    this.headBias = get('head.bias');
  }

  /** Allocates and initialises one parameter, drawing from `rng` in spec order. */
  private param(spec: ParameterSpec, rng: Random): Tensor {
    const n = numel(spec.shape);
    const data = new Float32Array(n);
    const init = spec.init;
    if (init.kind === 'normal') for (let i = 0; i < n; i++) data[i] = rng.normal();
    else if (init.kind === 'uniform') {
      const bound = 1 / Math.sqrt(init.fanIn);
      for (let i = 0; i < n; i++) data[i] = (2 * rng.uniform() - 1) * bound;
    } else if (init.kind === 'ones') data.fill(1);
    const t = parameter(this.gpu, data, spec.shape, spec.name);
    this.params.set(spec.name, t);
    return t;
  }

  get parameterList(): Tensor[] {
    return [...this.params.values()];
  }

  get parameterCount(): number {
    return this.parameterList.reduce((s, t) => s + t.size, 0);
  }

  /** Changes attention/connection hyper-parameters for the next step; validated like the config. */
  setHypers(h: LiveHypers): void {
    (this as { cfg: ModelConfig }).cfg = applyHypers(this.cfg, h);
  }

  /**
   * Switches the momentum attention's weighting for the next forward (the parameters stay): a
   * model trained with 'authors-code' evaluated under 'recurrence' computes what recurrent
   * sampling does (src/train/mismatch.ts).
   */
  setAttentionWeights(weights: AttentionWeights): void {
    const a = this.cfg.attention;
    if (a.kind !== 'momentum') throw new Error(`attention weights apply to momentum attention; this model uses ${a.kind}`);
    const next = structuredClone(this.cfg);
    const m = next.attention as typeof a;
    if (weights === 'recurrence') delete m.weights;
    else m.weights = weights;
    (this as { cfg: ModelConfig }).cfg = checkModelConfig(next);
  }

  /** ids: u32 [B, N] tokens. Returns per-position outputs [B * N, outputWidth] (the causal decoder). */
  forward(tape: Tape, ids: Tensor, opts: ForwardOptions): ForwardResult {
    const cfg = this.cfg;
    if (cfg.encoder) throw new Error('this model is an encoder classifier: call classify(), not forward()');
    if (ids.shape.length !== 2) throw new Error(`ids must be [batch, seq]; got [${ids.shape.join(', ')}]`);
    const [B, N] = ids.shape as [number, number];
    const offset = opts.decode?.positionOffset ?? 0;
    if (opts.decode && opts.train) throw new Error('recurrent decoding is for inference; pass train: false');
    if (!Number.isInteger(offset) || offset < 0) throw new Error(`decode.positionOffset must be a non-negative integer; got ${offset}`);
    if (offset + N > cfg.maxSeq) {
      const what = offset > 0 ? `position ${offset + N - 1} (0-based) is past` : `sequence length ${N} exceeds`;
      throw new Error(`${what} the model's maxSeq ${cfg.maxSeq}`);
    }
    const { x, betaTilde } = this.trunk(tape, ids, opts, { causal: true, lengths: null });
    return { output: tape.view(linear(tape, x, this.head, this.headBias), [B * N, outputWidth(cfg)]), betaTilde }; // [B*N, out]
  }

  /**
   * The encoder: non-causal attention over each row's first lengths[b] tokens (eq. 14 for
   * momentum, with N the real tokens; padding gets no weight), the pooled representation (mean
   * over the real tokens, or the CLS token's output) and class logits [B, classes]. Throws, before
   * uploading anything, naming a bad id, length or a sequence over maxSeq.
   */
  classify(tape: Tape, input: EncoderInput, opts: Omit<ForwardOptions, 'decode'>): ClassifyResult {
    const cfg = this.cfg;
    if (!cfg.encoder) throw new Error('this model is a causal decoder: call forward(), not classify()');
    const { batch: B, seq: T, ids, lengths } = input;
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`classify: batch and seq must be positive integers; got ${B} and ${T}`);
    if (ids.length !== B * T) throw new Error(`classify: ids hold ${ids.length} tokens, batch ${B} x seq ${T} needs ${B * T}`);
    const cls = cfg.encoder.pooling === 'cls';
    const N = encoderPositions(cfg, T);
    if (N > cfg.maxSeq) {
      throw new Error(`classify: a sequence of ${T} tokens${cls ? ' (and the CLS token)' : ''} exceeds the model's maxSeq ${cfg.maxSeq}`);
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= cfg.vocab) throw new Error(`classify: id ${id} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${cfg.vocab})`);
    }
    if (lengths) {
      if (lengths.length !== B) throw new Error(`classify: lengths hold ${lengths.length} entries for a batch of ${B}`);
      const bad = lengths.findIndex((l) => l < 1 || l > T);
      if (bad >= 0) throw new Error(`classify: length ${lengths[bad]} of row ${bad} is outside 1..${T}`);
    }
    // The CLS token (id vocab) goes first; every row is then one position longer.
    const rowIds = cls ? new Uint32Array(B * N) : ids; // [B, N]
    if (cls) {
      for (let b = 0; b < B; b++) {
        rowIds[b * N] = cfg.vocab;
        rowIds.set(ids.subarray(b * T, (b + 1) * T), b * N + 1);
      }
    }
    const full = !lengths || lengths.every((l) => l === T);
    const real = Uint32Array.from({ length: B }, (_, b) => (lengths ? lengths[b]! : T) + (cls ? 1 : 0)); // [B]
    const idT = tape.own(fromArray(this.gpu, rowIds, [B, N], 'classify.ids')); // u32 [B, N]
    const lenT = full ? null : tape.own(fromArray(this.gpu, real, [B], 'classify.lengths')); // u32 [B]
    const { x, betaTilde } = this.trunk(tape, idT, opts, { causal: false, lengths: lenT, hostIds: rowIds });
    const poolLengths = cls ? new Uint32Array(B).fill(1) : real; // [B]: the CLS position alone, or the real tokens
    const poolT = lenT && !cls ? lenT : tape.own(fromArray(this.gpu, poolLengths, [B], 'classify.poolLengths'));
    const pooled = meanPool(tape, x, poolT); // [B, d]
    return { logits: linear(tape, pooled, this.head, this.headBias), betaTilde }; // [B, classes]
  }

  /** Embedding, the layers and the final norm: ids u32 [B, N] -> x [B, N, d]. */
  private trunk(
    tape: Tape,
    ids: Tensor,
    opts: ForwardOptions,
    mode: { causal: boolean; lengths: Tensor | null; hostIds?: Uint32Array },
  ): { x: Tensor; betaTilde: Tensor[] } {
    const cfg = this.cfg;
    const offset = opts.decode?.positionOffset ?? 0;
    const d = modelWidth(cfg);
    const p = opts.train ? cfg.dropout : 0;
    let site = 0;
    const drop = (x: Tensor) => (p > 0 ? dropout(tape, x, p, opts.dropoutSeed, DROPOUT_SITE_STRIDE * site++) : x);
    const norm = (x: Tensor, gain: Tensor, bias: Tensor) => layerNorm(tape, x, gain, bias);

    const concat = cfg.positionCombine === 'concat';
    const position = this.positionTable
      ? { kind: 'learned' as const, table: this.positionTable }
      : { kind: 'sinusoidal' as const, dim: concat ? d - d / 2 : d };
    const embedOpts = { position, combine: cfg.positionCombine, positionOffset: offset, ...(mode.hostIds ? { hostIds: mode.hostIds } : {}) };
    let x = embed(tape, ids, this.tokenTable, embedOpts); // [B, N, d]
    x = drop(x);

    const spec: AttentionSpec = { ...modelAttentionSpec(cfg), causal: mode.causal };
    const lengths = mode.lengths ?? undefined;
    let m: Tensor | null = null; // connection velocity [B, N, d]
    let gPrev: Tensor | null = null; // previous layer's attention output, for adaptive beta~
    const betaTilde: Tensor[] = [];

    for (const [l, L] of this.layers.entries()) {
      const a = cfg.norm === 'pre' ? norm(x, L.norm1Gain, L.norm1Bias) : x;
      const qkv = linear(tape, a, L.qkv, L.qkvBias); // [B, N, 3d]
      const [q, k, v] = splitHeads(tape, qkv, cfg.heads, 3) as [Tensor, Tensor, Tensor]; // each [B, H, N, Dh]
      const heads = opts.decode ? opts.decode.attend(l, q, k, v) : attention(tape, spec, q, k, v, lengths); // [B, H, N, Dh]
      const att = mergeHeads(tape, heads); // [B, N, d]
      const g = drop(linear(tape, att, L.proj, L.projBias)); // [B, N, d]

      let h: Tensor;
      const c = cfg.connection;
      if (c.kind === 'residual') {
        h = add(tape, x, g);
      } else if (c.kind === 'momentum' || !gPrev || !m) {
        // The adaptive form's first layer has m_0 = 0, so its beta~ does not matter (MATH.md 6).
        const betaT = c.kind === 'momentum' ? c.betaTilde : 0;
        ({ out: h, m } = momentumConnection(tape, x, g, m, { betaTilde: betaT, gammaTilde: c.gammaTilde }));
      } else {
        const r = adaptiveMomentumConnection(tape, x, g, gPrev, m, { gammaTilde: c.gammaTilde, delta: c.delta });
        h = r.out;
        m = r.m;
        betaTilde.push(r.beta);
      }
      gPrev = g;
      if (cfg.norm === 'post') h = norm(h, L.norm1Gain, L.norm1Bias);

      const f0 = cfg.norm === 'pre' ? norm(h, L.norm2Gain, L.norm2Bias) : h;
      const hidden = linear(tape, f0, L.ff1, L.ff1Bias); // [B, N, ffn]
      const act = cfg.activation === 'relu' ? relu(tape, hidden) : gelu(tape, hidden);
      const f = drop(linear(tape, act, L.ff2, L.ff2Bias)); // [B, N, d]
      x = add(tape, h, f);
      if (cfg.norm === 'post') x = norm(x, L.norm2Gain, L.norm2Bias);
    }
    if (this.finalGain && this.finalBias) x = norm(x, this.finalGain, this.finalBias);
    return { x, betaTilde };
  }

  destroy(): void {
    destroyTensors(this.params.values());
    this.params.clear();
  }
}
