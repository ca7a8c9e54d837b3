// `npm run bench`: one attention layer, forward + backward, for softmax, linear and momentum
// attention at N = 256 ... 8192, each one's growth from its own N = 256 time and the
// momentum/linear ratio, plus the matmul rate. Ratios taken in one run are the figures to report.
//
//   npm run bench -- [--heads 4] [--dim 32] [--max-n 8192] [--budget 60] [--reps 3] [--out FILE]
import { writeFileSync } from 'node:fs';
import { Gpu } from '../engine/gpu.ts';
import { matmulGflops } from '../engine/kernels/matmul.ts';
import { attention, type AttentionKind } from '../engine/ops/attention.ts';
import { Tape, variable } from '../engine/tensor.ts';

interface Options {
  heads: number;
  dim: number;
  maxN: number;
  /** Seconds one (kind, N) measurement may take before larger N of that kind is skipped. */
  budget: number;
  reps: number;
  out: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { heads: 4, dim: 32, maxN: 8192, budget: 60, reps: 3, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = (name: string) => {
      const n = Number(val());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
      return n;
    };
    if (a === '--heads') o.heads = num(a);
    else if (a === '--dim') o.dim = num(a);
    else if (a === '--max-n') o.maxN = num(a);
    else if (a === '--budget') o.budget = num(a);
    else if (a === '--reps') o.reps = num(a);
    else if (a === '--out') o.out = val();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function randomData(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 0.5;
  }
  return out;
}

interface Row {
  kind: AttentionKind;
  seq: number;
  ms: number;
  peakBytes: number;
}

/** Mean milliseconds of one forward + backward, after one warm-up run. */
async function timeAttention(gpu: Gpu, kind: AttentionKind, n: number, o: Options): Promise<Row> {
  const shape = [1, o.heads, n, o.dim];
  const size = o.heads * n * o.dim;
  const q = variable(gpu, randomData(size, 1), shape, 'q'); // [1, H, N, D]
  const k = variable(gpu, randomData(size, 2), shape, 'k'); // [1, H, N, D]
  const v = variable(gpu, randomData(size, 3), shape, 'v'); // [1, H, N, D]
  const dOut = variable(gpu, randomData(size, 4), shape, 'dOut');
  const spec = kind === 'momentum' ? { kind, causal: true, beta: 0.6, gamma: 0.9 } : { kind, causal: true };
  const once = () => {
    const tape = new Tape(gpu);
    const out = attention(tape, spec, q, k, v);
    tape.backward(out, dOut);
    tape.dispose([q, k, v]);
  };
  once();
  await gpu.sync();
  gpu.pool.resetPeak();
  const t0 = performance.now();
  for (let r = 0; r < o.reps; r++) once();
  await gpu.sync();
  const ms = (performance.now() - t0) / o.reps;
  const peakBytes = gpu.pool.peakBytes;
  for (const t of [q, k, v, dOut]) t.dispose();
  gpu.pool.trim();
  return { kind, seq: n, ms, peakBytes };
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const gpu = await Gpu.open();
  console.log(`device: ${gpu.description} (${gpu.backend})`);
  console.log(`attention: causal, batch 1, heads ${o.heads}, dim ${o.dim}, forward + backward, mean of ${o.reps}`);

  const matmul: { shape: string; gflops: number }[] = [];
  for (const [m, n, k] of [
    [256, 256, 256],
    [1024, 768, 256],
    [1024, 256, 1024],
  ] as const) {
    const { gflops } = await matmulGflops(gpu, m, n, k, 3);
    matmul.push({ shape: `${m}x${n}x${k}`, gflops });
  }

  const kinds: AttentionKind[] = ['softmax', 'linear', 'momentum'];
  const rows: Row[] = [];
  const stopped = new Set<AttentionKind>();
  for (let n = 256; n <= o.maxN; n *= 2) {
    for (const kind of kinds) {
      if (stopped.has(kind)) continue;
      const prev = rows.find((r) => r.kind === kind && r.seq === n / 2);
      // O(N^2) softmax quadruples per doubling: skip what would blow the budget.
      const growth = kind === 'softmax' ? 4 : 2;
      if (prev && (prev.ms * growth) / 1000 > o.budget) {
        stopped.add(kind);
        continue;
      }
      const row = await timeAttention(gpu, kind, n, o);
      rows.push(row);
      process.stderr.write(`  ${kind} N=${n}: ${fmt(row.ms)} ms\n`);
    }
  }

  const base = (kind: AttentionKind) => rows.find((r) => r.kind === kind && r.seq === 256)?.ms ?? NaN;
  const get = (kind: AttentionKind, n: number) => rows.find((r) => r.kind === kind && r.seq === n);
  const lines = [
    '| N | softmax ms (x N=256) | linear ms (x N=256) | momentum ms (x N=256) | momentum / linear | N / 256 |',
    '|---|---|---|---|---|---|',
  ];
  for (let n = 256; n <= o.maxN; n *= 2) {
    const cell = (kind: AttentionKind) => {
      const r = get(kind, n);
      return r ? `${fmt(r.ms)} (${fmt(r.ms / base(kind), 2)}x)` : 'skipped (over budget)';
    };
    const lin = get('linear', n);
    const mom = get('momentum', n);
    const ratio = lin && mom ? fmt(mom.ms / lin.ms, 2) : '-';
    lines.push(`| ${n} | ${cell('softmax')} | ${cell('linear')} | ${cell('momentum')} | ${ratio} | ${n / 256} |`);
  }
  console.log('\n' + lines.join('\n'));
  console.log('\n| matmul shape (MxNxK) | GFLOP/s |\n|---|---|');
  for (const m of matmul) console.log(`| ${m.shape} | ${fmt(m.gflops, 2)} |`);
  const mem = ['\n| N | softmax peak MiB | linear peak MiB | momentum peak MiB |', '|---|---|---|---|'];
  for (let n = 256; n <= o.maxN; n *= 2) {
    const cell = (kind: AttentionKind) => {
      const r = get(kind, n);
      return r ? fmt(r.peakBytes / 2 ** 20, 2) : '-';
    };
    mem.push(`| ${n} | ${cell('softmax')} | ${cell('linear')} | ${cell('momentum')} |`);
  }
  console.log(mem.join('\n'));

  if (o.out) {
    writeFileSync(o.out, JSON.stringify({ device: gpu.description, backend: gpu.backend, options: o, matmul, attention: rows }, null, 2));
    console.log(`\nwrote ${o.out}`);
  }
  gpu.destroy();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
