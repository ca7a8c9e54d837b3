// What the page, the worker and the CLI read from a checkpoint before loading it: its run config,
// from the safetensors header alone. Plain data and no engine, so the page's store can use it.
import type { RunConfig } from './types.ts';

/** Metadata 'format' of the checkpoints src/train/checkpoint.ts writes. */
export const CHECKPOINT_FORMAT = 'momentum-playground/checkpoint@1';

/**
 * The run config in a checkpoint's metadata, from the safetensors header alone (no tensor is read
 * or checked), so the right data can be loaded before the full, validating load. The one reader
 * of it for the CLI, the page's store and the worker.
 */
export function readCheckpointConfig(bytes: Uint8Array): RunConfig {
  if (bytes.byteLength < 8) throw new Error('not a safetensors file: shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = Number(view.getBigUint64(0, true));
  if (len <= 0 || 8 + len > bytes.byteLength) throw new Error(`not a safetensors file: header length ${len} does not fit the file`);
  let header: { __metadata__?: Record<string, string> };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    throw new Error('not a safetensors file: its header is not JSON');
  }
  const cfg = header?.__metadata__?.config;
  if (typeof cfg !== 'string') throw new Error('this safetensors file is not a playground checkpoint (no config in its metadata)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(cfg);
  } catch {
    throw new Error("checkpoint metadata 'config' is not valid JSON");
  }
  if (parsed === null || typeof parsed !== 'object') throw new Error("checkpoint metadata 'config' is not an object");
  return parsed as RunConfig;
}
