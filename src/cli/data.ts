// `npm run data -- --task mqar|copy|listops|images --count N --seed S --out FILE.jsonl`: writes the
// sequences a run with these options trains on (the data stream's first N, in its order), one JSON
// object a line: {"input": [ids], "target": [ids], "mask": [0/1 per position]}, or for the
// classification tasks {"input": [ids], "label": k} (the real tokens, without the batch's padding;
// ListOps also "text", one space-separated token per id); `--split test` writes the fixed held-out
// set instead. Any task with a data stream works the same (src/train/examples.ts).
import { runExamples } from '../train/examples.ts';
import { RUN_OPTIONS, RUN_USAGE, UsageError, intOption, loadTaskData, parse, runConfigFrom, runMain, taskOption } from './common.ts';
import { writeAtomic } from './runDir.ts';

const USAGE = `usage: npm run data -- --task copy|mqar|mnist|listops|images --count N [--seed S] [--split train|test] --out FILE.jsonl
  --count N               how many sequences (the test split has at most its held-out size)
  --seed S                the run seed whose data order is written (default 1)
  --split train|test      the training stream (default) or the fixed held-out set
${RUN_USAGE}
  (the task options and --preset set the sequences; model options are ignored)`;

async function main(): Promise<void> {
  const v = parse(process.argv.slice(2), { ...RUN_OPTIONS, count: { type: 'string' }, split: { type: 'string' }, help: { type: 'boolean' } });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  taskOption(v.task);
  const count = intOption(v.count, 'count');
  if (count === undefined) throw new UsageError('--count is required');
  if (v.out === undefined) throw new UsageError('--out FILE.jsonl is required');
  const split = v.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new UsageError(`--split must be train or test; got '${split}'`);
  const cfg = runConfigFrom(v, 'softmax');
  const data = await loadTaskData(cfg, v.data, v.labels);
  const examples = runExamples(cfg, data, count, split);
  writeAtomic(v.out, examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
  console.log(`${examples.length} ${split} sequences of ${cfg.task.kind} (seed ${cfg.seed}, preset ${v.preset ?? 'tiny'}) written to ${v.out}`);
}

runMain(USAGE, main);
