// The sequences a run trains (or is evaluated) on, one example at a time, straight from its data
// stream: whatever task a DataStream serves (copy, MQAR, MNIST, tasks added later) comes out the
// same way, so `npm run data` writes exactly what training uses.
import { listOpsText } from '../tasks/listops.ts';
import { makeDataStream, type DataStream, type TaskData } from './data.ts';
import { isClassificationTask, type RunConfig } from './types.ts';

/** A next-token example: one target per position. */
export interface SequenceExample {
  input: number[];
  target: number[];
  /** 1 where the loss and the accuracy are taken, 0 elsewhere (all 1 for tasks without a mask). */
  mask: number[];
}

/**
 * A classification example: the real tokens (the padding its batch adds is left out) and its
 * class; ListOps also gives the expression as text, one space-separated token per id.
 */
export interface ClassExample {
  input: number[];
  label: number;
  text?: string;
}

export type Example = SequenceExample | ClassExample;

/**
 * The first `count` training sequences of a run with this config (drawn in its batches of
 * `cfg.batch`, as the trainer draws them), or its held-out set ('test', at most its size).
 */
export function runExamples(cfg: RunConfig, data: TaskData, count: number, split: 'train' | 'test' = 'train'): Example[] {
  return streamExamples(makeDataStream(cfg, data), cfg, count, split);
}

/**
 * runExamples on a stream already made (the training worker's own run): 'test' reads the fixed
 * held-out set and leaves the stream as it was; 'train' draws from it (a fresh stream's first batches).
 */
export function streamExamples(stream: DataStream, cfg: RunConfig, count: number, split: 'train' | 'test' = 'train'): Example[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer; got ${count}`);
  const out: Example[] = [];
  const batches = split === 'test' ? stream.evalBatches(cfg.batch) : null;
  let next = 0;
  while (out.length < count) {
    const b = batches ? batches[next++] : stream.next(cfg.batch);
    if (!b) break; // the held-out set is smaller than count
    for (let i = 0; i < b.batch && out.length < count; i++) {
      const row = (a: ArrayLike<number>) => Array.from({ length: b.seq }, (_, t) => a[i * b.seq + t]!);
      if (isClassificationTask(cfg.task.kind)) {
        const input = row(b.inputs).slice(0, b.lengths ? b.lengths[i]! : b.seq);
        out.push({ input, label: b.targets[i]!, ...(cfg.task.kind === 'listops' ? { text: listOpsText(input) } : {}) });
        continue;
      }
      out.push({ input: row(b.inputs), target: row(b.targets), mask: b.mask ? row(b.mask).map((x) => (x > 0 ? 1 : 0)) : new Array<number>(b.seq).fill(1) });
    }
  }
  return out;
}
