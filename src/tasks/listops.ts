/**
 * ListOps (Nangia and Bowman 2018), generated as the Long Range Arena does it (Tay et al. 2021,
 * `lra_benchmarks/data/listops.py`): nested operators over the digits 0-9,
 *
 *   MAX, MIN   the largest / smallest argument
 *   MED        int(np.median(args)): with an even count the mean of the two middle values, truncated
 *   SM         the sum modulo 10
 *
 * written in prefix form with a closing bracket, e.g. `[MAX 2 9 [MIN 4 7 ] 0 ]` (value 9). The
 * label is the expression's value, one of 10 classes.
 *
 * The generator follows LRA's: a node at depth d < maxDepth is an operator with probability
 * valueP (LRA draws r and makes a digit when r > VALUE_P = 0.25); at maxDepth every node is a digit. An operator draws its argument count uniformly
 * in [minArgs, maxArgs] (LRA: 2 to 10), then its arguments one after another, then the operator
 * itself. Whole expressions are drawn until one's token count lies in [minLength, maxLength].
 *
 * Draw order (part of reproducibility): per node one uniform (skipped at maxDepth), then either the
 * digit, or the argument count, the arguments depth-first, and the operator.
 *
 * Two choices of ours: LRA's text also carries `(` and `)` tokens that its input pipeline drops, so
 * we never emit them; and the validation and test splits leave out any expression that is also in
 * the training split (short expressions repeat often, and a repeat tests memory, not reasoning).
 */
import { Random } from '../util/random.ts';

export const LISTOPS_OPERATORS = ['MAX', 'MIN', 'MED', 'SM'] as const;
export type ListOpsOperator = (typeof LISTOPS_OPERATORS)[number];

export type ListOpsNode = number | { op: ListOpsOperator; args: ListOpsNode[] };

/** Token ids: 0 pads, 1..10 are the digits 0..9, 11..14 the operators, 15 the closing bracket. */
export const LISTOPS_PAD = 0;
const DIGIT_BASE = 1;
const OP_BASE = DIGIT_BASE + 10;
export const LISTOPS_CLOSE = OP_BASE + LISTOPS_OPERATORS.length;
export const LISTOPS_VOCAB = LISTOPS_CLOSE + 1;
export const LISTOPS_CLASSES = 10;

export interface ListOpsConfig {
  /** Token-count bounds of an expression, both inclusive. */
  minLength: number;
  maxLength: number;
  /** Depth of the deepest operator + 1: at this depth every node is a digit. */
  maxDepth: number;
  minArgs: number;
  maxArgs: number;
  /** Probability that a node above maxDepth is an operator (LRA's VALUE_P). */
  valueP: number;
}

/** LRA's setting. */
export const LISTOPS_LRA: ListOpsConfig = { minLength: 500, maxLength: 2000, maxDepth: 10, minArgs: 2, maxArgs: 10, valueP: 0.25 };

/** Draws allowed per expression before the length bounds are declared unreachable in practice. */
const MAX_ATTEMPTS = 200_000;

/** The most tokens an expression can have under the depth and argument bounds (a full tree). */
export function listOpsMaxTokens(cfg: Pick<ListOpsConfig, 'maxDepth' | 'maxArgs'>): number {
  let tokens = 1; // a digit at maxDepth
  for (let d = cfg.maxDepth - 1; d >= 1; d--) {
    tokens = 2 + cfg.maxArgs * tokens;
    if (tokens > Number.MAX_SAFE_INTEGER / (cfg.maxArgs + 1)) return Infinity;
  }
  return tokens;
}

/** The fewest tokens of an expression with at least one operator: minArgs digits and brackets. */
function minOperatorTokens(cfg: ListOpsConfig): number {
  return cfg.minArgs + 2;
}

/** Fills in defaults and checks a configuration; throws naming the first problem. */
export function checkListOpsConfig(cfg: Partial<ListOpsConfig> = {}): ListOpsConfig {
  const full: ListOpsConfig = { ...LISTOPS_LRA, ...cfg };
  const int = (name: keyof ListOpsConfig, lo: number) => {
    const v = full[name];
    if (!Number.isInteger(v) || v < lo) throw new Error(`ListOps: ${name} must be an integer >= ${lo}; got ${String(v)}`);
  };
  int('minLength', 1);
  int('maxLength', 1);
  int('maxDepth', 1);
  int('minArgs', 1);
  int('maxArgs', 1);
  if (full.minArgs > full.maxArgs) throw new Error(`ListOps: minArgs ${full.minArgs} exceeds maxArgs ${full.maxArgs}`);
  if (full.minLength > full.maxLength) {
    throw new Error(`ListOps: minLength ${full.minLength} exceeds maxLength ${full.maxLength}`);
  }
  if (!(full.valueP > 0 && full.valueP <= 1)) throw new Error(`ListOps: valueP must be in (0, 1]; got ${String(full.valueP)}`);
  const most = listOpsMaxTokens(full);
  if (full.minLength > most) {
    throw new Error(
      `ListOps: no expression can reach minLength ${full.minLength}: with maxDepth ${full.maxDepth} and maxArgs ${full.maxArgs} the longest has ${most} tokens`,
    );
  }
  if (full.maxLength < minOperatorTokens(full) && full.minLength > 1) {
    throw new Error(`ListOps: length bounds [${full.minLength}, ${full.maxLength}] admit no expression (an operator needs ${minOperatorTokens(full)} tokens)`);
  }
  return full;
}

/** One random expression tree, LRA's generate_tree. */
export function generateListOpsTree(rng: Random, cfg: ListOpsConfig, depth = 1): ListOpsNode {
  const r = depth < cfg.maxDepth ? rng.uniform() : 1;
  if (r > cfg.valueP) return rng.int(0, 9);
  const count = rng.int(cfg.minArgs, cfg.maxArgs);
  const args: ListOpsNode[] = [];
  for (let i = 0; i < count; i++) args.push(generateListOpsTree(rng, cfg, depth + 1));
  const op = LISTOPS_OPERATORS[rng.int(0, LISTOPS_OPERATORS.length - 1)]!;
  return { op, args };
}

/** The value of an expression tree, by LRA's rules. */
export function evaluateListOps(node: ListOpsNode): number {
  if (typeof node === 'number') return node;
  const vals = node.args.map(evaluateListOps);
  switch (node.op) {
    case 'MAX':
      return Math.max(...vals);
    case 'MIN':
      return Math.min(...vals);
    case 'SM':
      return vals.reduce((a, b) => a + b, 0) % 10;
    case 'MED': {
      const s = [...vals].sort((a, b) => a - b);
      const mid = s.length >> 1;
      const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
      return Math.trunc(median);
    }
  }
}

/** Token ids of an expression in prefix form. */
export function listOpsTokens(node: ListOpsNode, out: number[] = []): number[] {
  if (typeof node === 'number') {
    out.push(DIGIT_BASE + node);
    return out;
  }
  out.push(OP_BASE + LISTOPS_OPERATORS.indexOf(node.op));
  for (const a of node.args) listOpsTokens(a, out);
  out.push(LISTOPS_CLOSE);
  return out;
}

/** The text of one token id: '0'..'9', '[MAX' .. '[SM', ']'. */
export function listOpsTokenText(id: number): string {
  if (id >= DIGIT_BASE && id < OP_BASE) return String(id - DIGIT_BASE);
  if (id >= OP_BASE && id < LISTOPS_CLOSE) return '[' + LISTOPS_OPERATORS[id - OP_BASE]!;
  if (id === LISTOPS_CLOSE) return ']';
  if (id === LISTOPS_PAD) return '<pad>';
  throw new Error(`ListOps: token id ${id} is outside the vocabulary 0..${LISTOPS_VOCAB - 1}`);
}

/** Space-separated text, e.g. `[MAX 2 9 [MIN 4 7 ] 0 ]`. */
export function listOpsText(tokens: readonly number[]): string {
  return tokens.map(listOpsTokenText).join(' ');
}

/** Parses text or token ids back into a tree; throws naming the position of a malformed token. */
export function parseListOps(input: string | readonly number[]): ListOpsNode {
  const ids = typeof input === 'string' ? input.trim().split(/\s+/).map(textToId) : [...input];
  let at = 0;
  const node = (): ListOpsNode => {
    if (at >= ids.length) throw new Error(`ListOps: expression ends early at token ${at}`);
    const id = ids[at++]!;
    if (id >= DIGIT_BASE && id < OP_BASE) return id - DIGIT_BASE;
    if (id >= OP_BASE && id < LISTOPS_CLOSE) {
      const op = LISTOPS_OPERATORS[id - OP_BASE]!;
      const args: ListOpsNode[] = [];
      while (at < ids.length && ids[at] !== LISTOPS_CLOSE) args.push(node());
      if (at >= ids.length) throw new Error(`ListOps: [${op} opened at token ${at} is never closed`);
      at++;
      if (args.length === 0) throw new Error(`ListOps: [${op} has no arguments`);
      return { op, args };
    }
    throw new Error(`ListOps: unexpected token '${listOpsTokenText(id)}' at position ${at - 1}`);
  };
  const tree = node();
  if (at !== ids.length) throw new Error(`ListOps: ${ids.length - at} tokens after the end of the expression`);
  return tree;
}

function textToId(t: string): number {
  if (/^[0-9]$/.test(t)) return DIGIT_BASE + Number(t);
  if (t === ']') return LISTOPS_CLOSE;
  const op = LISTOPS_OPERATORS.indexOf(t.replace(/^\[/, '') as ListOpsOperator);
  if (t.startsWith('[') && op >= 0) return OP_BASE + op;
  throw new Error(`ListOps: unknown token '${t}'`);
}

export interface ListOpsExample {
  tokens: number[];
  label: number;
}

/** Draws expressions until one meets the length bounds, LRA's rejection loop. */
export function generateListOpsExample(rng: Random, cfg: ListOpsConfig): ListOpsExample {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const tree = generateListOpsTree(rng, cfg);
    const tokens = listOpsTokens(tree);
    if (tokens.length >= cfg.minLength && tokens.length <= cfg.maxLength) return { tokens, label: evaluateListOps(tree) };
  }
  throw new Error(
    `ListOps: no expression of ${cfg.minLength}-${cfg.maxLength} tokens in ${MAX_ATTEMPTS} draws (maxDepth ${cfg.maxDepth}, args ${cfg.minArgs}-${cfg.maxArgs}, valueP ${cfg.valueP}): widen the bounds`,
  );
}

export interface ListOpsSplits {
  train: ListOpsExample[];
  validation: ListOpsExample[];
  test: ListOpsExample[];
}

/** Fixed seeds of the three splits: the data set is the same whatever a run's own seed is. */
export const LISTOPS_SPLIT_SEEDS = { train: 0x4c15_7001, validation: 0x4c15_7002, test: 0x4c15_7003 } as const;

/**
 * The fixed splits: `train` examples from the train seed, then validation and test examples from
 * theirs, leaving out expressions already in the training split (and test ones in validation).
 */
export function listOpsSplits(
  cfg: ListOpsConfig,
  counts: { train: number; validation: number; test: number },
  seeds: { train: number; validation: number; test: number } = LISTOPS_SPLIT_SEEDS,
): ListOpsSplits {
  for (const [name, n] of Object.entries(counts)) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`ListOps: ${name} count must be a non-negative integer; got ${String(n)}`);
  }
  const seen = new Set<string>();
  const draw = (seed: number, count: number, exclude: boolean): ListOpsExample[] => {
    const rng = new Random(seed);
    const out: ListOpsExample[] = [];
    let misses = 0;
    while (out.length < count) {
      const ex = generateListOpsExample(rng, cfg);
      const key = ex.tokens.join(',');
      if (exclude && seen.has(key)) {
        if (++misses > MAX_ATTEMPTS) throw new Error(`ListOps: too few distinct expressions for ${count} held-out examples; widen the bounds`);
        continue;
      }
      seen.add(key);
      out.push(ex);
    }
    return out;
  };
  const train = draw(seeds.train, counts.train, false);
  const validation = draw(seeds.validation, counts.validation, true);
  const test = draw(seeds.test, counts.test, true);
  return { train, validation, test };
}

export interface ListOpsBatch {
  batch: number;
  /** Padded length: the longest expression of the batch. */
  seq: number;
  inputs: Uint32Array; // [B, N] token ids, LISTOPS_PAD after each expression
  lengths: Uint32Array; // [B] tokens before the padding
  labels: Uint32Array; // [B]
}

/** Packs examples into one batch, padded on the right to `seq` (default: the longest). */
export function packListOps(examples: readonly ListOpsExample[], seq?: number): ListOpsBatch {
  const longest = examples.reduce((m, e) => Math.max(m, e.tokens.length), 0);
  const n = seq ?? longest;
  if (n < longest) throw new Error(`ListOps: an expression of ${longest} tokens exceeds the sequence length ${n}`);
  const b = examples.length;
  const inputs = new Uint32Array(b * n); // [B, N]
  const lengths = new Uint32Array(b); // [B]
  const labels = new Uint32Array(b); // [B]
  examples.forEach((e, i) => {
    inputs.set(e.tokens, i * n);
    lengths[i] = e.tokens.length;
    labels[i] = e.label;
  });
  return { batch: b, seq: n, inputs, lengths, labels };
}
