// Where a run's training data comes from, as plain data: what the page sends the worker with a
// run, and what the CLI resolves to a file. The run config's task says it; this is its one reading.
import { EMBEDDED_MNIST, type RunConfig } from './types.ts';

export type DataSpec =
  | { kind: 'copy' }
  /** Multi-query associative recall sequences, generated like the copy task's. */
  | { kind: 'mqar' }
  /** ListOps expressions, generated from the fixed split seeds. */
  | { kind: 'listops' }
  /**
   * The 10,000 embedded digits with their labels (public/mnist-10k.bin in the page, the `mnist`
   * package in Node), for MNIST generation and image classification alike.
   */
  | { kind: 'mnist-embedded' }
  /**
   * Images read from elsewhere: in the page a data set registered under this name, in the CLI a
   * file (image classification: with the labels file `labels`, when it is a separate file).
   */
  | { kind: 'mnist-dataset'; name: string; labels?: string };

/** A task source as a data spec (`source` is EMBEDDED_MNIST or a data set's name). */
export function mnistDataSpec(source: string): DataSpec {
  return source === EMBEDDED_MNIST ? { kind: 'mnist-embedded' } : { kind: 'mnist-dataset', name: source };
}

/** The data a run config trains on. */
export function dataSpecOf(cfg: RunConfig): DataSpec {
  const t = cfg.task;
  if (t.kind === 'mnist') return mnistDataSpec(t.source);
  if (t.kind === 'images') {
    const spec = mnistDataSpec(t.source);
    return spec.kind === 'mnist-dataset' && t.labels !== null ? { ...spec, labels: t.labels } : spec;
  }
  return { kind: t.kind };
}
