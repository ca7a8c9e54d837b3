// Where a run's training data comes from, as the worker's DataSpec: from a run config or the form.
import type { DataSpec, RunConfig } from '../worker/protocol.ts';
import type { FormState } from './form.ts';

export function dataSpecOf(cfg: RunConfig): DataSpec {
  if (cfg.task.kind === 'mnist') return cfg.task.source === 'embedded' ? { kind: 'mnist-embedded' } : { kind: 'mnist-dataset', name: cfg.task.source };
  return { kind: 'copy' };
}

export function dataSpecOfForm(f: FormState): DataSpec {
  if (f.task === 'mnist') return f.source === 'embedded' ? { kind: 'mnist-embedded' } : { kind: 'mnist-dataset', name: f.source };
  return { kind: 'copy' };
}
