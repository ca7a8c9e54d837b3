/**
 * The copy task of Katharopoulos et al. (2020), as used by the Momentum Transformer paper
 * (MATH.md section 8). One sequence of length L = maxLen:
 *
 *   n ~ uniform integer in [floor(L/4), floor((L-1)/2)]      (both ends inclusive)
 *   w = n symbols, each uniform in 1..symbols                 (0 is the separator and the padding)
 *   x = w, 0, w, 0, ..., 0                                    (length L; 2n + 1 <= L always)
 *   target[t] = x[t+1] for t < L-1, target[L-1] = 0           (x shifted left by one)
 *   mask[t] = 1 for t in [n, 2n-1], else 0
 *
 * The mask covers exactly the positions whose target is a symbol of the second copy of w: position
 * n reads the separator and must output w[0]; position 2n-1 reads w[n-2] (or the separator when
 * n = 1) and must output w[n-1]. Everything else is unpredictable (the first copy), or trivial (the
 * trailing padding).
 *
 * Two deliberate differences from the authors' PyTorch code, which we read: there, n comes from
 * `torch.randint(L//4, (L-1)//2)`, whose upper end is exclusive (n <= 62 for L = 128, where
 * MATH.md's range reaches 63; we follow MATH.md), and the mask is `mask[n-1:2n]`, which also scores position
 * n-1, whose target is the separator. That position is not predictable from its prefix (n is
 * random), so it would cap accuracy below 100%. `maskSeparator: true` restores their mask.
 *
 * Draw order per sequence (part of reproducibility): n first, then w[0..n-1], all from the given
 * Random; sequences of a batch are drawn one after another.
 */
import { Random } from '../util/random.ts';

/** Token that separates the two copies and pads the end. */
export const SEPARATOR = 0;

export interface CopyConfig {
  /** Sequence length L (every sequence is padded to it). */
  maxLen: number;
  /** Number of distinct symbols; tokens 1..symbols, so the vocabulary is symbols + 1. */
  symbols: number;
  /** Also score position n-1 (target: the separator), as in the authors' code. */
  maskSeparator: boolean;
}

export const COPY_DEFAULTS: CopyConfig = { maxLen: 128, symbols: 10, maskSeparator: false };

/** Seed of the fixed held-out set, distinct from any training seed a user is likely to type. */
export const COPY_HELDOUT_SEED = 987_654_321;

/** Tokens are stored as u32; the vocabulary must also stay an exact float32 integer for the GPU. */
const MAX_VOCAB = 1 << 24;
const MIN_LEN = 4;

export interface CopyBatch {
  batch: number;
  maxLen: number;
  inputs: Uint32Array; // [B, L]
  targets: Uint32Array; // [B, L]
  mask: Float32Array; // [B, L] 1 where the loss and the accuracy are taken
  lengths: Uint32Array; // [B] n, the length of w
}

/** Fills in defaults and checks a copy-task configuration; throws saying what is wrong. */
export function checkCopyConfig(cfg: Partial<CopyConfig> = {}): CopyConfig {
  const full: CopyConfig = { ...COPY_DEFAULTS, ...cfg };
  const { maxLen, symbols, maskSeparator } = full;
  if (!Number.isInteger(maxLen) || maxLen < MIN_LEN) {
    throw new Error(`copy task: maxLen must be an integer >= ${MIN_LEN} (room for w, 0, w with n >= 1), got ${maxLen}`);
  }
  if (!Number.isInteger(symbols) || symbols < 1) {
    throw new Error(`copy task: symbols must be an integer >= 1, got ${symbols}`);
  }
  if (symbols + 1 > MAX_VOCAB) {
    throw new Error(`copy task: vocabulary symbols + 1 = ${symbols + 1} exceeds ${MAX_VOCAB}`);
  }
  if (typeof maskSeparator !== 'boolean') throw new Error(`copy task: maskSeparator must be a boolean, got ${maskSeparator}`);
  return full;
}

/** Vocabulary size: the separator plus the symbols. */
export function copyVocab(cfg: Partial<CopyConfig> = {}): number {
  return checkCopyConfig(cfg).symbols + 1;
}

/** Inclusive range of n, the length of w. */
export function copyLengthRange(cfg: Partial<CopyConfig> = {}): { min: number; max: number } {
  const { maxLen } = checkCopyConfig(cfg);
  return { min: Math.floor(maxLen / 4), max: Math.floor((maxLen - 1) / 2) };
}

/** A batch of copy sequences drawn from `rng` (which advances). */
export function makeCopyBatch(rng: Random, batch: number, cfg: Partial<CopyConfig> = {}): CopyBatch {
  const { maxLen: L, symbols, maskSeparator } = checkCopyConfig(cfg);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`copy task: batch must be a positive integer, got ${batch}`);
  const { min, max } = copyLengthRange(cfg);
  const inputs = new Uint32Array(batch * L); // [B, L], zero = separator/padding
  const targets = new Uint32Array(batch * L); // [B, L]
  const mask = new Float32Array(batch * L); // [B, L]
  const lengths = new Uint32Array(batch); // [B]
  for (let b = 0; b < batch; b++) {
    const n = rng.int(min, max);
    lengths[b] = n;
    const row = b * L;
    for (let i = 0; i < n; i++) {
      const sym = rng.int(1, symbols);
      inputs[row + i] = sym;
      inputs[row + n + 1 + i] = sym;
    }
    for (let t = 0; t < L - 1; t++) targets[row + t] = inputs[row + t + 1]!;
    for (let t = maskSeparator ? n - 1 : n; t < 2 * n; t++) mask[row + t] = 1;
  }
  return { batch, maxLen: L, inputs, targets, mask, lengths };
}

/**
 * The fixed held-out set: always the same `count` sequences for a configuration, drawn from its own
 * generator so that training draws never shift it.
 */
export function makeCopyHeldOut(count: number, cfg: Partial<CopyConfig> = {}, seed = COPY_HELDOUT_SEED): CopyBatch {
  return makeCopyBatch(new Random(seed), count, cfg);
}

export interface CopyAccuracy {
  /** Correct masked tokens / masked tokens (longer sequences weigh more, as in the authors' code). */
  tokenAccuracy: number;
  /** Sequences whose masked tokens are all correct / sequences with at least one masked token. */
  sequenceAccuracy: number;
}

/** Accuracy on the masked (copied) positions; `predictions` are argmax tokens, [B, L]. */
export function copyAccuracy(
  predictions: ArrayLike<number>,
  targets: ArrayLike<number>,
  mask: ArrayLike<number>,
  batch: number,
  maxLen: number,
): CopyAccuracy {
  const size = batch * maxLen;
  for (const [name, arr] of [
    ['predictions', predictions],
    ['targets', targets],
    ['mask', mask],
  ] as const) {
    if (arr.length !== size) throw new Error(`copyAccuracy: ${name} has ${arr.length} entries, expected B*L = ${batch}*${maxLen} = ${size}`);
  }
  let masked = 0;
  let correct = 0;
  let scored = 0;
  let perfect = 0;
  for (let b = 0; b < batch; b++) {
    let seqMasked = 0;
    let seqCorrect = 0;
    for (let t = b * maxLen; t < (b + 1) * maxLen; t++) {
      if (mask[t]! > 0) {
        seqMasked++;
        if (predictions[t] === targets[t]) seqCorrect++;
      }
    }
    masked += seqMasked;
    correct += seqCorrect;
    if (seqMasked > 0) {
      scored++;
      if (seqCorrect === seqMasked) perfect++;
    }
  }
  if (masked === 0) throw new Error('copyAccuracy: the mask selects no position');
  return { tokenAccuracy: correct / masked, sequenceAccuracy: perfect / scored };
}

/** Row-wise argmax of logits [rows, vocab] (first maximum wins), e.g. predictions for copyAccuracy. */
export function argmaxRows(logits: ArrayLike<number>, rows: number, vocab: number): Uint32Array {
  if (logits.length !== rows * vocab) throw new Error(`argmaxRows: ${logits.length} logits, expected ${rows} x ${vocab}`);
  const out = new Uint32Array(rows); // [rows]
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = logits[r * vocab]!;
    for (let v = 1; v < vocab; v++) {
      const x = logits[r * vocab + v]!;
      if (x > bestValue) {
        bestValue = x;
        best = v;
      }
    }
    out[r] = best;
  }
  return out;
}
