// The transformer's configuration (the causal decoder, or the non-causal encoder classifier): one typed object with defaults; variants and the
// paper's per-task values (MATH.md sections 7, 8) are small overrides of it.

/**
 * How momentum attention weights its keys (engine: AttentionSpec.weights): 'recurrence', (12)-(13),
 * what recurrent sampling computes; 'authors-code', the authors' parallel path (MATH.md, "A known
 * discrepancy in the authors' code"), to compare. Absent means 'recurrence' (older checkpoints).
 */
export const ATTENTION_WEIGHTS = ['recurrence', 'authors-code'] as const;
export type AttentionWeights = (typeof ATTENTION_WEIGHTS)[number];

export type AttentionConfig =
  | { kind: 'softmax' }
  | { kind: 'linear' }
  | { kind: 'momentum'; beta: number; gamma: number; weights?: AttentionWeights };

/** The weighting of a model's momentum attention ('recurrence' when the config does not say). */
export function attentionWeightsOf(a: AttentionConfig): AttentionWeights {
  return (a.kind === 'momentum' && a.weights) || 'recurrence';
}

export type ConnectionConfig =
  | { kind: 'residual' }
  | { kind: 'momentum'; betaTilde: number; gammaTilde: number }
  | { kind: 'adaptive'; gammaTilde: number; delta: number };

export type OutputConfig = { kind: 'softmax'; classes: number } | { kind: 'dmol'; mixtures: number };

export const POOLINGS = ['mean', 'cls'] as const;
export type Pooling = (typeof POOLINGS)[number];

/**
 * Encoder classification (MATH.md section 10): non-causal attention over the non-padding tokens,
 * one pooled vector per sequence, a linear head over the classes. 'mean' pools the non-padding
 * positions (the authors' LRA code); 'cls' prepends a learned CLS token (id `vocab`, so the token
 * table has vocab + 1 rows) at position 0 and pools its output alone.
 */
export interface EncoderConfig {
  pooling: Pooling;
}

export interface ModelConfig {
  /** Input token vocabulary (11 for the copy task, 256 grey levels for MNIST). */
  vocab: number;
  /** Longest sequence the model is built for (learned position tables have this many rows). */
  maxSeq: number;
  layers: number;
  heads: number;
  /** Dimensions per head; the model width is heads * headDim. */
  headDim: number;
  ffn: number;
  activation: 'relu' | 'gelu';
  dropout: number;
  /** 'post': x = norm(x + f(x)) as in the paper's code; 'pre': x = x + f(norm(x)). */
  norm: 'post' | 'pre';
  position: 'sinusoidal' | 'learned';
  /** 'concat': token embedding of d/2 beside a position code of d/2 (the paper); 'add': both of d. */
  positionCombine: 'concat' | 'add';
  attention: AttentionConfig;
  connection: ConnectionConfig;
  output: OutputConfig;
  /** Present: a non-causal encoder classifier; absent: the causal decoder (next-token outputs). */
  encoder?: EncoderConfig;
}

export const defaultModelConfig: ModelConfig = {
  vocab: 11,
  maxSeq: 128,
  layers: 4,
  heads: 8,
  headDim: 32,
  ffn: 1024,
  activation: 'relu',
  dropout: 0.1,
  norm: 'post',
  position: 'sinusoidal',
  positionCombine: 'concat',
  attention: { kind: 'momentum', beta: 0.1, gamma: 0.6 },
  connection: { kind: 'residual' },
  output: { kind: 'softmax', classes: 11 },
};

export function modelWidth(cfg: ModelConfig): number {
  return cfg.heads * cfg.headDim;
}

/** Throws an error naming the first thing wrong with a config. */
export function checkModelConfig(cfg: ModelConfig): ModelConfig {
  const posInt = (name: keyof ModelConfig) => {
    const v = cfg[name];
    if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`model.${name} must be a positive integer; got ${String(v)}`);
  };
  for (const n of ['vocab', 'maxSeq', 'layers', 'heads', 'headDim', 'ffn'] as const) posInt(n);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new Error(`model.dropout must be in [0, 1); got ${cfg.dropout}`);
  if (cfg.activation !== 'relu' && cfg.activation !== 'gelu') throw new Error(`model.activation must be relu or gelu`);
  if (cfg.norm !== 'post' && cfg.norm !== 'pre') throw new Error(`model.norm must be post or pre`);
  if (cfg.position !== 'sinusoidal' && cfg.position !== 'learned') throw new Error(`model.position must be sinusoidal or learned`);
  if (cfg.positionCombine !== 'concat' && cfg.positionCombine !== 'add') throw new Error(`model.positionCombine must be concat or add`);
  if (cfg.positionCombine === 'concat' && modelWidth(cfg) % 2 !== 0) {
    throw new Error(`a concatenated position code needs an even model width; heads * headDim = ${modelWidth(cfg)}`);
  }
  const a = cfg.attention;
  if (a.kind === 'momentum') checkMomentum('attention', a.beta, a.gamma);
  else if (a.kind !== 'softmax' && a.kind !== 'linear') throw new Error(`attention kind must be softmax, linear or momentum`);
  const weights = (a as { weights?: unknown }).weights;
  if (weights !== undefined) {
    if (!(ATTENTION_WEIGHTS as readonly unknown[]).includes(weights)) {
      throw new Error(`attention.weights must be ${ATTENTION_WEIGHTS.join(' or ')}; got ${JSON.stringify(weights)}`);
    }
    if (a.kind !== 'momentum') throw new Error(`attention.weights applies to momentum attention only, not ${a.kind}`);
  }
  const c = cfg.connection;
  if (c.kind === 'momentum') checkMomentum('connection', c.betaTilde, c.gammaTilde);
  else if (c.kind === 'adaptive') {
    checkMomentum('connection', 0, c.gammaTilde);
    if (!(c.delta > 0 && c.delta < 1)) throw new Error(`adaptive connection delta must be in (0, 1); got ${c.delta}`);
  } else if (c.kind !== 'residual') throw new Error(`connection kind must be residual, momentum or adaptive`);
  const o = cfg.output;
  if (o.kind === 'softmax') {
    if (!Number.isInteger(o.classes) || o.classes < 2) throw new Error(`output.classes must be an integer >= 2`);
  } else if (o.kind === 'dmol') {
    if (!Number.isInteger(o.mixtures) || o.mixtures < 1) throw new Error(`output.mixtures must be a positive integer`);
  } else throw new Error(`output kind must be softmax or dmol`);
  if (cfg.encoder !== undefined) {
    if (!cfg.encoder || !(POOLINGS as readonly string[]).includes(cfg.encoder.pooling)) {
      throw new Error(`model.encoder.pooling must be ${POOLINGS.join(' or ')}; got ${JSON.stringify(cfg.encoder?.pooling)}`);
    }
    if (o.kind !== 'softmax') throw new Error('an encoder classifies: its output must be a softmax over classes, not dmol');
    if (cfg.encoder.pooling === 'cls' && cfg.maxSeq < 2) throw new Error(`model.maxSeq ${cfg.maxSeq} leaves no room beside the CLS token`);
  }
  return cfg;
}

/** Rows of the token table: the vocabulary, and the CLS token's row when an encoder pools by it. */
export function tokenRows(cfg: ModelConfig): number {
  return cfg.vocab + (cfg.encoder?.pooling === 'cls' ? 1 : 0);
}

/** Positions the model sees for an input of `tokens` tokens: one more with a CLS token. */
export function encoderPositions(cfg: ModelConfig, tokens: number): number {
  return tokens + (cfg.encoder?.pooling === 'cls' ? 1 : 0);
}

function checkMomentum(where: string, beta: number, gamma: number): void {
  if (!Number.isFinite(beta) || beta < 0 || beta >= 1) {
    throw new Error(`${where} momentum beta must be in [0, 1) (beta >= 1 diverges); got ${beta}`);
  }
  if (!Number.isFinite(gamma) || gamma <= 0) throw new Error(`${where} step size gamma must be > 0; got ${gamma}`);
}

/** Output features per position: class logits, or 3 per logistic mixture component (grey images). */
export function outputWidth(cfg: ModelConfig): number {
  return cfg.output.kind === 'softmax' ? cfg.output.classes : 3 * cfg.output.mixtures;
}

export const VARIANTS = ['softmax', 'linear', 'momentum', 'momentum-connection', 'adaptive'] as const;
export type Variant = (typeof VARIANTS)[number];

/** The paper's Table 1 values for the tasks this playground trains. */
export const PAPER_HYPERS = {
  copy: { beta: 0.1, gamma: 0.6, betaTilde: 0.99, gammaTilde: 0.99 },
  mnist: { beta: 0.6, gamma: 0.9, betaTilde: 0.1, gammaTilde: 0.99 },
  /** Not in the paper: MQAR (a token task like the copy task) takes the copy task's values. */
  mqar: { beta: 0.1, gamma: 0.6, betaTilde: 0.99, gammaTilde: 0.99 },
  /**
   * LRA ListOps and Image (Table 1: adaptive beta~). The fixed-beta~ variant's 0.1 is not in the
   * paper for LRA: it is its MNIST and CIFAR-10 value.
   */
  listops: { beta: 0.1, gamma: 0.6, betaTilde: 0.1, gammaTilde: 0.4 },
  images: { beta: 0.9, gamma: 0.9, betaTilde: 0.1, gammaTilde: 0.001 },
} as const;

/** Adaptive beta~'s floor distance from 1 (eq. 18; the paper's value). */
export const ADAPTIVE_DELTA = 1e-3;

/** Whether a variant's attention is momentum attention (so `weights` applies to it). */
export function variantUsesMomentum(variant: Variant): boolean {
  return variant !== 'softmax' && variant !== 'linear';
}

/**
 * The attention and connection of one of the five variants the paper compares. `weights`
 * ('recurrence' by default, then left out of the config) picks the momentum attention's weighting;
 * 'authors-code' on a variant without momentum attention is refused.
 */
export function variantOverrides(
  variant: Variant,
  hypers: { beta: number; gamma: number; betaTilde: number; gammaTilde: number },
  weights: AttentionWeights = 'recurrence',
): Pick<ModelConfig, 'attention' | 'connection'> {
  if (!(ATTENTION_WEIGHTS as readonly string[]).includes(weights)) {
    throw new Error(`attention weights must be ${ATTENTION_WEIGHTS.join(' or ')}; got ${JSON.stringify(weights)}`);
  }
  if (weights !== 'recurrence' && (VARIANTS as readonly string[]).includes(variant) && !variantUsesMomentum(variant)) {
    throw new Error(`weights '${weights}' applies to momentum attention; variant '${variant}' uses ${variant} attention`);
  }
  const momentum: AttentionConfig = {
    kind: 'momentum',
    beta: hypers.beta,
    gamma: hypers.gamma,
    ...(weights === 'authors-code' ? { weights } : {}),
  };
  switch (variant) {
    case 'softmax':
      return { attention: { kind: 'softmax' }, connection: { kind: 'residual' } };
    case 'linear':
      return { attention: { kind: 'linear' }, connection: { kind: 'residual' } };
    case 'momentum':
      return { attention: momentum, connection: { kind: 'residual' } };
    case 'momentum-connection':
      return {
        attention: momentum,
        connection: { kind: 'momentum', betaTilde: hypers.betaTilde, gammaTilde: hypers.gammaTilde },
      };
    case 'adaptive':
      return { attention: momentum, connection: { kind: 'adaptive', gammaTilde: hypers.gammaTilde, delta: ADAPTIVE_DELTA } };
    default:
      throw new Error(`unknown variant '${String(variant)}'; expected one of ${VARIANTS.join(', ')}`);
  }
}

/** Hyper-parameters of a model that may change between steps (the UI's sliders). */
export interface LiveHypers {
  beta?: number;
  gamma?: number;
  betaTilde?: number;
  gammaTilde?: number;
  delta?: number;
}

/**
 * The config with `h` applied; throws, naming the field, when a value is invalid (beta >= 1,
 * gamma <= 0, ...) or does not apply to this model (beta on softmax attention, ...).
 */
export function applyHypers(cfg: ModelConfig, h: LiveHypers): ModelConfig {
  const next = structuredClone(cfg);
  const a = next.attention;
  if (h.beta !== undefined || h.gamma !== undefined) {
    if (a.kind !== 'momentum') throw new Error(`beta/gamma apply to momentum attention; this model uses ${a.kind}`);
    if (h.beta !== undefined) a.beta = h.beta;
    if (h.gamma !== undefined) a.gamma = h.gamma;
  }
  const c = next.connection;
  if (h.betaTilde !== undefined) {
    if (c.kind !== 'momentum') throw new Error(`beta~ applies to the fixed momentum connection; this model uses ${c.kind}`);
    c.betaTilde = h.betaTilde;
  }
  if (h.gammaTilde !== undefined) {
    if (c.kind === 'residual') throw new Error('gamma~ applies to momentum connections; this model uses a plain residual');
    c.gammaTilde = h.gammaTilde;
  }
  if (h.delta !== undefined) {
    if (c.kind !== 'adaptive') throw new Error(`delta applies to the adaptive connection; this model uses ${c.kind}`);
    c.delta = h.delta;
  }
  return checkModelConfig(next);
}
