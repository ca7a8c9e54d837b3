// The decoder transformer the paper trains (MATH.md sections 5, 6, 8), built only from the
// engine's differentiable ops: the model never touches a GPU buffer itself.
import type { Gpu } from '../engine/gpu.ts';
import { attention, type AttentionSpec } from '../engine/ops/attention.ts';
import { add, dropout, gelu, relu } from '../engine/ops/elementwise.ts';
import { embed } from '../engine/ops/embedding.ts';
import { mergeHeads, splitHeads } from '../engine/ops/heads.ts';
import { layerNorm } from '../engine/ops/layernorm.ts';
import { linear } from '../engine/ops/matmul.ts';
import { adaptiveMomentumConnection, momentumConnection } from '../engine/ops/momentumConnection.ts';
import { parameter, type Tape, type Tensor } from '../engine/tensor.ts';
import { Random } from '../util/random.ts';
import { applyHypers, checkModelConfig, modelWidth, outputWidth, type LiveHypers, type ModelConfig } from './config.ts';

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
    const d = modelWidth(cfg);
    const rng = new Random(seed);
    const concat = cfg.positionCombine === 'concat';
    const tokenDim = concat ? d / 2 : d;
    const posDim = concat ? d - tokenDim : d;
    // PyTorch's defaults, as in the paper's code: N(0, 1) embeddings, U(+-1/sqrt(fan_in)) linears.
    this.tokenTable = this.param('embed.token', [cfg.vocab, tokenDim], () => rng.normal());
    this.positionTable =
      cfg.position === 'learned' ? this.param('embed.position', [cfg.maxSeq, posDim], () => rng.normal()) : null;
    const lin = (name: string, fanIn: number, fanOut: number): [Tensor, Tensor] => {
      const bound = 1 / Math.sqrt(fanIn);
      const u = () => (2 * rng.uniform() - 1) * bound;
      return [this.param(`${name}.weight`, [fanIn, fanOut], u), this.param(`${name}.bias`, [fanOut], u)];
    };
    const ones = (name: string) => this.param(name, [d], () => 1);
    const zeros = (name: string) => this.param(name, [d], () => 0);
    for (let l = 0; l < cfg.layers; l++) {
      const p = `layers.${l}`;
      const [qkv, qkvBias] = lin(`${p}.attn.qkv`, d, 3 * d);
      const [proj, projBias] = lin(`${p}.attn.proj`, d, d);
      const [ff1, ff1Bias] = lin(`${p}.ffn.1`, d, cfg.ffn);
      const [ff2, ff2Bias] = lin(`${p}.ffn.2`, cfg.ffn, d);
      this.layers.push({
        norm1Gain: ones(`${p}.norm1.gain`),
        norm1Bias: zeros(`${p}.norm1.bias`),
        qkv,
        qkvBias,
        proj,
        projBias,
        norm2Gain: ones(`${p}.norm2.gain`),
        norm2Bias: zeros(`${p}.norm2.bias`),
        ff1,
        ff1Bias,
        ff2,
        ff2Bias,
      });
    }
    this.finalGain = cfg.norm === 'pre' ? ones('final.norm.gain') : null;
    this.finalBias = cfg.norm === 'pre' ? zeros('final.norm.bias') : null;
    [this.head, this.headBias] = lin('head', d, outputWidth(cfg));
  }

  private param(name: string, shape: number[], init: () => number): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = init();
    const t = parameter(this.gpu, data, shape, name);
    this.params.set(name, t);
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

  /** ids: u32 [B, N] tokens. Returns per-position outputs [B * N, outputWidth]. */
  forward(tape: Tape, ids: Tensor, opts: ForwardOptions): ForwardResult {
    const cfg = this.cfg;
    const [B, N] = ids.shape as [number, number];
    if (ids.shape.length !== 2) throw new Error(`ids must be [batch, seq]; got [${ids.shape.join(', ')}]`);
    const offset = opts.decode?.positionOffset ?? 0;
    if (opts.decode && opts.train) throw new Error('recurrent decoding is for inference; pass train: false');
    if (!Number.isInteger(offset) || offset < 0) throw new Error(`decode.positionOffset must be a non-negative integer; got ${offset}`);
    if (offset + N > cfg.maxSeq) {
      const what = offset > 0 ? `position ${offset + N - 1} (0-based) is past` : `sequence length ${N} exceeds`;
      throw new Error(`${what} the model's maxSeq ${cfg.maxSeq}`);
    }
    const d = modelWidth(cfg);
    const R = B * N;
    const p = opts.train ? cfg.dropout : 0;
    let site = 0;
    const drop = (x: Tensor) => (p > 0 ? dropout(tape, x, p, opts.dropoutSeed, DROPOUT_SITE_STRIDE * site++) : x);
    const norm = (x: Tensor, gain: Tensor, bias: Tensor) => layerNorm(tape, x, gain, bias);

    const concat = cfg.positionCombine === 'concat';
    const position = this.positionTable
      ? { kind: 'learned' as const, table: this.positionTable }
      : { kind: 'sinusoidal' as const, dim: concat ? d - d / 2 : d };
    let x = embed(tape, ids, this.tokenTable, { position, combine: cfg.positionCombine, positionOffset: offset }); // [B, N, d]
    x = drop(x);

    const spec: AttentionSpec =
      cfg.attention.kind === 'momentum'
        ? { kind: 'momentum', causal: true, beta: cfg.attention.beta, gamma: cfg.attention.gamma }
        : { kind: cfg.attention.kind, causal: true };
    let m: Tensor | null = null; // connection velocity [B, N, d]
    let gPrev: Tensor | null = null; // previous layer's attention output, for adaptive beta~
    const betaTilde: Tensor[] = [];

    for (const [l, L] of this.layers.entries()) {
      const a = cfg.norm === 'pre' ? norm(x, L.norm1Gain, L.norm1Bias) : x;
      const qkv = linear(tape, a, L.qkv, L.qkvBias); // [B, N, 3d]
      const [q, k, v] = splitHeads(tape, qkv, cfg.heads, 3) as [Tensor, Tensor, Tensor]; // each [B, H, N, Dh]
      const heads = opts.decode ? opts.decode.attend(l, q, k, v) : attention(tape, spec, q, k, v); // [B, H, N, Dh]
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
    return { output: tape.view(linear(tape, x, this.head, this.headBias), [R, outputWidth(cfg)]), betaTilde }; // [B*N, out]
  }

  destroy(): void {
    for (const t of this.params.values()) t.buffer.destroy();
    this.params.clear();
  }
}
