// Where a run's training data comes from, for the form: the one reading of a run config's task
// (src/train/dataSpec.ts) applied to the form's task and source.
import { dataSpecOf, mnistDataSpec, type DataSpec } from '../train/dataSpec.ts';
import type { FormState } from './form.ts';

export { dataSpecOf };

export function dataSpecOfForm(f: FormState): DataSpec {
  return f.task === 'mnist' || f.task === 'images' ? mnistDataSpec(f.source) : { kind: f.task };
}
