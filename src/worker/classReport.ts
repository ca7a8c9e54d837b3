// What the page shows of a classifier's latest evaluation: the trainer's own confusion matrix and
// predictions (src/train/evaluate.ts, the one confusion.json is written from) and the first
// held-out examples as `npm run data --split test` gives them (src/train/examples.ts).
import type { DataStream } from '../train/data.ts';
import type { EvalResult } from '../train/evaluate.ts';
import { streamExamples, type ClassExample } from '../train/examples.ts';
import { isClassificationTask, type RunConfig } from '../train/types.ts';
import type { ClassReport } from './protocol.ts';

/** Held-out examples a report carries. */
export const REPORT_EXAMPLES = 6;

/** The report of an evaluation, or null when the run is no classifier or has not been evaluated. */
export function classReport(cfg: RunConfig, evaluation: EvalResult | null, stream: DataStream, step: number, count = REPORT_EXAMPLES): ClassReport | null {
  if (!isClassificationTask(cfg.task.kind) || !evaluation?.confusion || !evaluation.predictions) return null;
  const predictions = evaluation.predictions;
  const n = Math.min(count, predictions.length);
  const examples = n > 0 ? (streamExamples(stream, cfg, n, 'test') as ClassExample[]) : [];
  return {
    step,
    accuracy: evaluation.accuracy ?? NaN,
    testLoss: evaluation.testLoss,
    classes: evaluation.confusion.length,
    matrix: evaluation.confusion.map((row) => row.slice()),
    examples: examples.map((e, i) => ({ tokens: e.input, ...(e.text !== undefined ? { text: e.text } : {}), label: e.label, predicted: predictions[i]! })),
    ...(cfg.task.kind === 'images' ? { side: cfg.task.resolution } : {}),
  };
}
