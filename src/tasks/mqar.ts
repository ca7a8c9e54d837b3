/**
 * Multi-query associative recall (MQAR; Arora et al. 2023, "Zoology", section 3). One sequence of
 * length L holds P key-value pairs, then Q queries of keys seen among them, each followed by its
 * answer (teacher forcing):
 *
 *   x = k1 v1 k2 v2 ... kP vP  q1 a1 q2 a2 ... qQ aQ  0 ... 0     (length L >= 2P + 2Q)
 *   keys:   tokens 1 .. keys            (distinct within a sequence: P <= keys)
 *   values: tokens keys+1 .. keys+values (drawn with replacement)
 *   queries q1..qQ: Q distinct keys of the P pairs, in random order; a_j = the value paired with q_j
 *   target[t] = x[t+1] for t < L-1, target[L-1] = 0               (x shifted left by one)
 *   mask[t] = 1 exactly where x[t] is a query (its target is the answer), else 0
 *
 * So the loss and the accuracy are taken on the answers only: the pairs themselves are random and
 * unpredictable. A model must look a key up among P earlier pairs, which softmax attention does
 * with one sharp match, while linear attention must keep all P associations in a state of
 * headDim x headDim per head: at small width it runs out of room (Zoology, Figure 2).
 *
 * Zoology's own generator spaces the queries at random positions of the rest of the sequence; here
 * they follow the pairs back to back, so every answer is scored and none is padding. Token 0 pads.
 *
 * Draw order per sequence (part of reproducibility): the P keys (a partial Fisher-Yates shuffle of
 * 1..keys), then the P values, then the Q queries (a partial shuffle of the P pair indices), all from
 * the given Random; sequences of a batch are drawn one after another.
 */
import { Random } from '../util/random.ts';

/** Token that pads the end of a sequence. */
export const MQAR_PAD = 0;

export interface MqarConfig {
  /** Sequence length L (every sequence is padded to it). */
  maxLen: number;
  /** Key-value pairs per sequence (P). */
  pairs: number;
  /** Queries per sequence (Q <= P), each a distinct key of the pairs. */
  queries: number;
  /** Key vocabulary: tokens 1..keys. */
  keys: number;
  /** Value vocabulary: tokens keys+1..keys+values. */
  values: number;
}

export const MQAR_DEFAULTS: MqarConfig = { maxLen: 64, pairs: 8, queries: 8, keys: 32, values: 32 };

/** Seed of the fixed held-out set, distinct from any training seed a user is likely to type. */
export const MQAR_HELDOUT_SEED = 192_837_465;

const MAX_VOCAB = 1 << 24;

export interface MqarBatch {
  batch: number;
  maxLen: number;
  inputs: Uint32Array; // [B, L]
  targets: Uint32Array; // [B, L]
  mask: Float32Array; // [B, L] 1 at the query positions
}

/** Fills in defaults and checks an MQAR configuration; throws saying what is wrong. */
export function checkMqarConfig(cfg: Partial<MqarConfig> = {}): MqarConfig {
  const merged = { ...MQAR_DEFAULTS, ...cfg };
  const { maxLen, pairs, queries, keys, values } = merged;
  const full: MqarConfig = { maxLen, pairs, queries, keys, values };
  for (const [name, v] of Object.entries(full)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`MQAR: ${name} must be a positive integer, got ${v}`);
  }
  if (pairs > keys) throw new Error(`MQAR: ${pairs} pairs need distinct keys, but there are only ${keys} keys`);
  if (queries > pairs) throw new Error(`MQAR: ${queries} queries of distinct keys, but only ${pairs} pairs`);
  if (2 * pairs + 2 * queries > maxLen) {
    throw new Error(`MQAR: ${pairs} pairs and ${queries} queries need length >= ${2 * pairs + 2 * queries}, got maxLen ${maxLen}`);
  }
  if (1 + keys + values > MAX_VOCAB) throw new Error(`MQAR: vocabulary 1 + keys + values = ${1 + keys + values} exceeds ${MAX_VOCAB}`);
  return full;
}

/** Vocabulary size: the padding, the keys and the values. */
export function mqarVocab(cfg: Partial<MqarConfig> = {}): number {
  const c = checkMqarConfig(cfg);
  return 1 + c.keys + c.values;
}

/** A batch of MQAR sequences drawn from `rng` (which advances). */
export function makeMqarBatch(rng: Random, batch: number, cfg: Partial<MqarConfig> = {}): MqarBatch {
  const { maxLen: L, pairs: P, queries: Q, keys: K, values: V } = checkMqarConfig(cfg);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`MQAR: batch must be a positive integer, got ${batch}`);
  const inputs = new Uint32Array(batch * L); // [B, L], zero = padding
  const targets = new Uint32Array(batch * L); // [B, L]
  const mask = new Float32Array(batch * L); // [B, L]
  const keyPool = new Uint32Array(K); // [K]
  const pairIdx = new Uint32Array(P); // [P]
  const vals = new Uint32Array(P); // [P]
  for (let b = 0; b < batch; b++) {
    const row = b * L;
    for (let i = 0; i < K; i++) keyPool[i] = i + 1;
    for (let i = 0; i < P; i++) {
      const j = rng.int(i, K - 1);
      const t = keyPool[i]!;
      keyPool[i] = keyPool[j]!;
      keyPool[j] = t;
    }
    for (let i = 0; i < P; i++) vals[i] = K + rng.int(1, V);
    for (let i = 0; i < P; i++) {
      inputs[row + 2 * i] = keyPool[i]!;
      inputs[row + 2 * i + 1] = vals[i]!;
    }
    for (let i = 0; i < P; i++) pairIdx[i] = i;
    for (let i = 0; i < Q; i++) {
      const j = rng.int(i, P - 1);
      const t = pairIdx[i]!;
      pairIdx[i] = pairIdx[j]!;
      pairIdx[j] = t;
    }
    for (let i = 0; i < Q; i++) {
      const at = row + 2 * P + 2 * i;
      inputs[at] = keyPool[pairIdx[i]!]!;
      inputs[at + 1] = vals[pairIdx[i]!]!;
      mask[at] = 1;
    }
    for (let t = 0; t < L - 1; t++) targets[row + t] = inputs[row + t + 1]!;
  }
  return { batch, maxLen: L, inputs, targets, mask };
}

/** The fixed held-out set: always the same `count` sequences for a configuration. */
export function makeMqarHeldOut(count: number, cfg: Partial<MqarConfig> = {}, seed = MQAR_HELDOUT_SEED): MqarBatch {
  return makeMqarBatch(new Random(seed), count, cfg);
}
