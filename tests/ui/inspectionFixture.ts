// A small hand-made Inspection (what the worker sends the inspector), for the page's tests.
import type { Inspection } from '../../src/worker/inspection.ts';

/** Copy task, N = 5: x = 2 3 0 2 3; queries 2 and 3 must read positions 0 and 1. */
export function copyInspection(over: Partial<Inspection> = {}): Inspection {
  const layers = over.layers ?? 2;
  const heads = over.heads ?? 2;
  const n = 5;
  const weights = new Float32Array(layers * heads * n * n);
  for (let m = 0; m < layers * heads; m++) {
    for (let i = 0; i < n; i++) {
      // Causal rows; head m puts (m + 1) times more weight on the query's first key.
      let s = 0;
      for (let j = 0; j <= i; j++) s += j === 0 ? m + 1 : 1;
      for (let j = 0; j <= i; j++) weights[(m * n + i) * n + j] = ((j === 0 ? m + 1 : 1) / s) * 1.5;
    }
  }
  return {
    runId: 'r1',
    step: 10,
    example: 0,
    examples: 8,
    task: 'copy',
    attention: { kind: 'momentum', beta: 0.1, gamma: 0.6 },
    layers,
    heads,
    seq: n,
    weights,
    betaTilde: null,
    tokens: Uint32Array.from([2, 3, 0, 2, 3]),
    imageSide: 0,
    target: Int32Array.from([-1, -1, 0, 1, -1]),
    ...over,
  };
}
