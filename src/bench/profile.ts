// A per-kernel profile of one step (a training step, a sampling step): which kernels it runs, how
// often, how long each takes and how close it comes to the FMA ceiling. Two methods:
// - 'timestamps' (where the device has 'timestamp-query'): every dispatch of the step gets a
//   compute pass of its own with timestamp writes, through the Gpu's dispatch observer; kernels
//   below the timer's resolution are replayed many times inside one timed pass;
// - 'alone' (otherwise, or when asked): the step's dispatch list is recorded once, then each
//   kernel's dispatches are replayed by themselves, `reps` times in one submission, and timed
//   with one wait. The replay reuses the step's bind groups and uniform values, so it is exact
//   when the step is one submission (both steps profiled here are).
// Copies and clears are not kernels and are not listed: stepMs minus the kernels' sum is them,
// the host's recording time and the waits.
import type { DispatchInfo, Gpu } from '../engine/gpu.ts';
import type { Kernel } from '../engine/kernel.ts';
import { median } from '../util/stats.ts';

export type ProfileMethod = 'timestamps' | 'alone';

export interface ProfileRow {
  /** The kernel as `label:entry` (its pipeline's label). */
  kernel: string;
  /** Timed by replaying its dispatches alone (method 'alone', or below the timestamps' resolution). */
  timedAlone: boolean;
  calls: number;
  /** Milliseconds per step spent in this kernel's calls. */
  ms: number;
  /** ms over the sum of every kernel's ms. */
  share: number;
  /** Flops per step where known (matmuls: 2 M N K per product), else null. */
  flops: number | null;
  /** Bytes bound per step (storage buffers of each call: at most what it reads and writes). */
  bytes: number;
  gflops: number | null;
  /** bytes / time: the bandwidth if every bound byte were touched once. */
  gbps: number;
  /** gflops over the FMA ceiling, where both are known. */
  fraction: number | null;
}

export interface StepProfile {
  step: string;
  method: ProfileMethod;
  /** Dispatches in one step; the rows' calls add up to it. */
  dispatches: number;
  /** Median wall-clock milliseconds of the whole step, profiling off. */
  stepMs: number;
  /** Sum of the rows' ms. */
  kernelMs: number;
  rows: ProfileRow[];
  notes: string[];
}

export interface ProfileOptions {
  /** 'auto': timestamps where the device has them, else 'alone'. */
  method?: ProfileMethod | 'auto';
  /** Measured steps (timestamps) or replays per kernel (alone); medians are reported. */
  reps?: number;
  ceilingGflops?: number | null;
}

/** Flops of one dispatch where its kernel is known: the matmul entry points, from their uniforms. */
export function dispatchFlops(info: Pick<DispatchInfo, 'label' | 'params' | 'workgroups'>): number | null {
  const p = info.params;
  if (!p || !/^matmul:matmul_/.test(info.label)) return null;
  const [m, n, k, splits] = [p.m, p.n, p.k, p.splits].map(Number) as [number, number, number, number];
  if (![m, n, k, splits].every((x) => Number.isFinite(x) && x > 0)) return null;
  const batch = info.workgroups[2] / splits; // the grid's z is batch * splits
  return 2 * m * n * k * batch;
}

interface Recorded {
  label: string;
  flops: number | null;
  bytes: number;
  /** Its pipeline is built by the time the step has been synced. */
  kernel: Kernel;
  bindGroup: GPUBindGroup;
  dynamicOffsets: readonly number[];
  workgroups: readonly [number, number, number];
}

/** Records one step's dispatches (the step is run once, for real). */
async function record(gpu: Gpu, step: () => void): Promise<{ list: Recorded[]; submits: number }> {
  const list: Recorded[] = [];
  await gpu.sync();
  const submits0 = gpu.submitCount;
  gpu.observer = (d) => {
    list.push({ label: d.label, flops: dispatchFlops(d), bytes: d.boundBytes, kernel: d.kernel, bindGroup: d.bindGroup, dynamicOffsets: d.dynamicOffsets, workgroups: d.workgroups });
  };
  try {
    step();
  } finally {
    gpu.observer = null;
  }
  await gpu.sync();
  return { list, submits: gpu.submitCount - submits0 };
}

const QUERY_RESOLVE = 0x200;
const MAX_QUERIES = 4096;

/** Per measured step, each dispatch's label and GPU milliseconds (end minus beginning of its pass). */
async function timestampTimes(gpu: Gpu, step: () => void, count: number, reps: number): Promise<{ label: string; ms: number }[][]> {
  // Room for a step that dispatches a little more than the recorded one (e.g. after a reset).
  const capacity = Math.min(MAX_QUERIES / 2, count + 256);
  if (count > capacity) throw new Error(`profile: ${count} dispatches need ${2 * count} timestamps, over the ${MAX_QUERIES} of one query set`);
  const device = gpu.device;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity, label: 'profile.timestamps' });
  const resolve = device.createBuffer({ size: 16 * capacity, usage: QUERY_RESOLVE | 0x4, label: 'profile.resolve' }); // COPY_SRC
  const read = device.createBuffer({ size: 16 * capacity, usage: 0x1 | 0x8, label: 'profile.read' }); // MAP_READ | COPY_DST
  const out: { label: string; ms: number }[][] = [];
  try {
    for (let r = 0; r < reps; r++) {
      const labels: string[] = [];
      gpu.observer = (d) => {
        const i = labels.length;
        if (i >= capacity) throw new Error(`profile: the step dispatched more than ${capacity} kernels (${count} when recorded)`);
        labels.push(d.label);
        return { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
      };
      try {
        step();
      } finally {
        gpu.observer = null;
      }
      gpu.flush();
      await gpu.settled(); // the resolve below goes to the queue after the step's submission
      const n = labels.length;
      const enc = device.createCommandEncoder({ label: 'profile.resolve' });
      if (n > 0) {
        enc.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
      }
      device.queue.submit([enc.finish()]);
      await gpu.sync();
      await read.mapAsync(0x1);
      const t = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      // ns -> ms; a pass that ends "before" it begins (timers of different cores) counts as 0.
      out.push(labels.map((label, j) => ({ label, ms: Math.max(0, Number(t[2 * j + 1]! - t[2 * j]!)) / 1e6 })));
    }
  } finally {
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
  return out;
}

/** Replays per timed pass for kernels below the timestamps' resolution (which is ~33 us on SwiftShader). */
const TIMED_REPLAYS = 64;

/**
 * GPU milliseconds per step of each label's dispatches, each label's group replayed TIMED_REPLAYS
 * times inside one compute pass with timestamps around it: for kernels too short to time one by one.
 * The replays read whatever the step's pooled buffers hold by then, not what the kernel saw in the
 * step, so a kernel whose loops follow buffer contents must clamp them (the embedding index's
 * offsets did not, and the MQAR step's replay of embed_table_reduce hung 2 runs in 3).
 */
async function timestampAloneTimes(gpu: Gpu, list: Recorded[]): Promise<Map<string, number>> {
  const device = gpu.device;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2, label: 'profile.alone' });
  const resolve = device.createBuffer({ size: 16, usage: QUERY_RESOLVE | 0x4, label: 'profile.alone.resolve' });
  const read = device.createBuffer({ size: 16, usage: 0x1 | 0x8, label: 'profile.alone.read' });
  const out = new Map<string, number>();
  try {
    for (const [label, group] of groupByLabel(list)) {
      const trials: number[] = [];
      for (let t = 0; t < 3; t++) {
        const enc = device.createCommandEncoder({ label: 'profile.alone' });
        const pass = enc.beginComputePass({ label, timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
        for (let r = 0; r < TIMED_REPLAYS; r++) {
          for (const d of group) {
            pass.setPipeline(d.kernel.pipeline!);
            pass.setBindGroup(0, d.bindGroup, d.dynamicOffsets);
            pass.dispatchWorkgroups(...d.workgroups);
          }
        }
        pass.end();
        enc.resolveQuerySet(querySet, 0, 2, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
        device.queue.submit([enc.finish()]);
        await read.mapAsync(0x1);
        const ts = new BigUint64Array(read.getMappedRange().slice(0));
        read.unmap();
        trials.push(Math.max(0, Number(ts[1]! - ts[0]!)) / 1e6 / TIMED_REPLAYS);
      }
      out.set(label, median(trials));
    }
  } finally {
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
  await gpu.sync();
  return out;
}

function groupByLabel(list: Recorded[]): Map<string, Recorded[]> {
  const byLabel = new Map<string, Recorded[]>();
  for (const d of list) {
    let g = byLabel.get(d.label);
    if (!g) byLabel.set(d.label, (g = []));
    g.push(d);
  }
  return byLabel;
}

/** Milliseconds per step of each label's dispatches, each label replayed alone. */
async function aloneTimes(gpu: Gpu, list: Recorded[], reps: number): Promise<Map<string, number>> {
  const byLabel = groupByLabel(list);
  const once = async (group: Recorded[], times: number): Promise<number> => {
    const enc = gpu.device.createCommandEncoder({ label: 'profile.alone' });
    const pass = enc.beginComputePass({ label: 'profile.alone' });
    for (let r = 0; r < times; r++) {
      for (const d of group) {
        pass.setPipeline(d.kernel.pipeline!);
        pass.setBindGroup(0, d.bindGroup, d.dynamicOffsets);
        pass.dispatchWorkgroups(...d.workgroups);
      }
    }
    pass.end();
    const t0 = performance.now();
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / times;
  };
  const out = new Map<string, number>();
  for (const [label, group] of byLabel) {
    await once(group, 1); // warm
    const trials: number[] = [];
    for (let t = 0; t < 3; t++) trials.push(await once(group, reps));
    out.set(label, median(trials));
  }
  await gpu.sync(); // surfaces any error the replays raised
  return out;
}

/**
 * Profiles `step`, which records one step's work on `gpu` and submits it (gpu.flush()) without
 * waiting. The step runs for real 2 + reps times, and reps more with timestamps.
 */
export async function profileStep(gpu: Gpu, name: string, step: () => void, opts: ProfileOptions = {}): Promise<StepProfile> {
  const reps = opts.reps ?? 3;
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`profile: reps must be a positive integer; got ${reps}`);
  const hasTimestamps = gpu.device.features.has('timestamp-query');
  const asked = opts.method ?? 'auto';
  if (asked === 'timestamps' && !hasTimestamps) {
    throw new Error("profile: 'timestamps' asked for, but this device has no 'timestamp-query' (open it with { timestamps: true } on an adapter that has it)");
  }
  const method: ProfileMethod = asked === 'auto' ? (hasTimestamps ? 'timestamps' : 'alone') : asked;
  const notes: string[] = [];

  step(); // warm-up: builds every pipeline
  await gpu.sync();
  const stepTimes: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    step();
    await gpu.sync();
    stepTimes.push(performance.now() - t0);
  }
  const { list, submits } = await record(gpu, step);

  const perLabel = new Map<string, { calls: number; flops: number | null; bytes: number; ms: number; alone: boolean }>();
  for (const d of list) {
    let e = perLabel.get(d.label);
    if (!e) perLabel.set(d.label, (e = { calls: 0, flops: 0, bytes: 0, ms: 0, alone: false }));
    e.calls++;
    e.bytes += d.bytes;
    e.flops = e.flops === null || d.flops === null ? null : e.flops + d.flops;
  }
  if (method === 'timestamps') {
    const runs = await timestampTimes(gpu, step, list.length, reps);
    for (const [label, e] of perLabel) {
      e.ms = median(runs.map((run) => run.reduce((s, d) => (d.label === label ? s + d.ms : s), 0)));
    }
    notes.push(`GPU timestamps, every dispatch in a compute pass of its own; median of ${reps} steps`);
    // Kernels below the timer's resolution (0 in every step) are timed alone instead.
    const unresolved = list.filter((d) => perLabel.get(d.label)!.ms === 0);
    if (unresolved.length) {
      const times = await timestampAloneTimes(gpu, unresolved);
      for (const [label, ms] of times) {
        perLabel.get(label)!.ms = ms;
        perLabel.get(label)!.alone = true;
      }
      notes.push(
        `below the timestamps' resolution, so timed alone (the step's calls replayed ${TIMED_REPLAYS} times in one timed pass, median of 3): ${[...times.keys()].join(', ')}`,
      );
    }
  } else {
    if (submits > 1) notes.push(`the step made ${submits} submissions: replays of the earlier ones read later uniform values, so their times are approximate`);
    const times = await aloneTimes(gpu, list, reps);
    for (const [label, ms] of times) {
      perLabel.get(label)!.ms = ms;
      perLabel.get(label)!.alone = true;
    }
    notes.push(`each kernel's dispatches of one step replayed alone ${reps} times in one submission and one wait; median of 3; includes one submit and wait per ${reps} replays`);
  }

  const kernelMs = [...perLabel.values()].reduce((s, e) => s + e.ms, 0);
  const ceiling = opts.ceilingGflops ?? null;
  const rows: ProfileRow[] = [...perLabel.entries()]
    .map(([kernel, e]) => {
      const gflops = e.flops !== null && e.ms > 0 ? e.flops / (e.ms * 1e6) : null;
      return {
        kernel,
        timedAlone: e.alone,
        calls: e.calls,
        ms: e.ms,
        share: kernelMs > 0 ? e.ms / kernelMs : 0,
        flops: e.flops,
        bytes: e.bytes,
        gflops,
        gbps: e.ms > 0 ? e.bytes / (e.ms * 1e6) : 0,
        fraction: gflops !== null && ceiling ? gflops / ceiling : null,
      };
    })
    .sort((a, b) => b.ms - a.ms);
  return { step: name, method, dispatches: list.length, stepMs: median(stepTimes), kernelMs, rows, notes };
}
