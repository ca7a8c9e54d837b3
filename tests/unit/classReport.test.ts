// What the page gets of a classifier's evaluation (src/worker/classReport.ts): the trainer's own
// confusion matrix and predictions with the first held-out examples exactly as `npm run data`
// gives them, and the fixed training sample the training accuracy is measured on.
import { describe, expect, it } from 'vitest';
import { listOpsText } from '../../src/tasks/listops.ts';
import { makeDataStream } from '../../src/train/data.ts';
import type { EvalResult } from '../../src/train/evaluate.ts';
import { runExamples, type ClassExample } from '../../src/train/examples.ts';
import { makeRunConfig } from '../../src/train/presets.ts';
import { classReport } from '../../src/worker/classReport.ts';

const listops = makeRunConfig({
  task: 'listops',
  variant: 'softmax',
  preset: 'tiny',
  overrides: { task: { minLength: 5, maxLength: 16, maxDepth: 2, trainExamples: 40, testExamples: 9 }, batch: 4 },
});

function evaluation(predictions: number[], classes = 10): EvalResult {
  const labels = runExamples(listops, { kind: 'listops' }, 9, 'test').map((e) => (e as ClassExample).label);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  labels.forEach((t, i) => confusion[t]![predictions[i]!]!++);
  const right = labels.filter((t, i) => t === predictions[i]).length;
  return { testLoss: 1.5, accuracy: right / labels.length, confusion, predictions: Uint32Array.from(predictions) };
}

describe('classReport', () => {
  it('pairs the first test examples (as npm run data writes them) with their predictions', () => {
    const stream = makeDataStream(listops, { kind: 'listops' });
    stream.next(4); // the training stream has moved: the test examples do not depend on it
    const preds = [3, 1, 4, 1, 5, 9, 2, 6, 5];
    const e = evaluation(preds);
    const r = classReport(listops, e, stream, 50)!;
    const want = runExamples(listops, { kind: 'listops' }, 6, 'test') as ClassExample[];
    expect(r.examples).toHaveLength(6);
    expect(r.examples.map((x) => x.text)).toEqual(want.map((w) => w.text));
    expect(r.examples.map((x) => x.label)).toEqual(want.map((w) => w.label));
    expect(r.examples.map((x) => x.predicted)).toEqual(preds.slice(0, 6));
    expect(r.examples[0]!.text).toBe(listOpsText(want[0]!.input));
    expect(r.examples[0]!.text).toMatch(/^\[(MAX|MIN|MED|SM) .* \]$/);
    expect(r).toMatchObject({ step: 50, classes: 10, testLoss: 1.5, accuracy: e.accuracy });
    expect(r.matrix).toEqual(e.confusion);
    expect(r.matrix.flat().reduce((a, b) => a + b, 0)).toBe(9);
    expect(r.side).toBeUndefined();
    expect(classReport(listops, e, stream, 50, 20)!.examples).toHaveLength(9); // at most the test set
  });

  it('is null for a run not evaluated yet or not a classifier', () => {
    const stream = makeDataStream(listops, { kind: 'listops' });
    expect(classReport(listops, null, stream, 0)).toBeNull();
    const copy = makeRunConfig({ task: 'copy', variant: 'softmax', preset: 'tiny' });
    expect(classReport(copy, { testLoss: 1, accuracy: 0.5 }, makeDataStream(copy, { kind: 'copy' }), 10)).toBeNull();
  });

  it('gives images their side, the tokens being the downsampled grey levels', () => {
    const count = 40;
    const pixels = new Uint8Array(count * 14 * 14).map((_, i) => (i * 7) % 256);
    const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
    const cfg = makeRunConfig({ task: 'images', variant: 'linear', preset: 'tiny', overrides: { task: { resolution: 7, subset: null, testImages: 4, classes: 3, source: 'x' } } });
    const images = { count, rows: 14, cols: 14, pixels, labels };
    const stream = makeDataStream(cfg, { kind: 'mnist', images });
    const want = runExamples(cfg, { kind: 'mnist', images }, 4, 'test') as ClassExample[];
    const confusion = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    want.forEach((w) => confusion[w.label]![0]!++);
    const r = classReport(cfg, { testLoss: 1, accuracy: 0.25, confusion, predictions: new Uint32Array(4) }, stream, 10)!;
    expect(r.side).toBe(7);
    expect(r.examples.map((x) => x.tokens)).toEqual(want.map((w) => w.input));
    expect(r.examples[0]!.tokens).toHaveLength(49);
    expect(r.examples.every((x) => x.predicted === 0)).toBe(true);
  });
});

describe('the training sample of trainEvalBatches', () => {
  it('is the split first sequences, as many as the test set, the same every time, and leaves the stream where it was', () => {
    const stream = makeDataStream(listops, { kind: 'listops' });
    const before = JSON.stringify(stream.state());
    const a = stream.trainEvalBatches!(4);
    expect(a.map((b) => b.batch)).toEqual([4, 4, 1]); // 9 = the test set's size
    expect(JSON.stringify(stream.state())).toBe(before);
    const b = stream.trainEvalBatches!(4);
    expect(b.map((x) => Array.from(x.inputs))).toEqual(a.map((x) => Array.from(x.inputs)));
    // They are training expressions, not the test ones.
    const test = stream.evalBatches(4);
    expect(Array.from(a[0]!.inputs)).not.toEqual(Array.from(test[0]!.inputs));
    expect(a[0]!.lengths).not.toBeNull();
  });
});
