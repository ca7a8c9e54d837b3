// The run config stored in a checkpoint's safetensors metadata, read from the header alone (no
// tensors), so an opened file is checked before anything is sent to the worker.
import type { RunConfig } from '../worker/protocol.ts';

export function checkpointConfig(bytes: Uint8Array): RunConfig {
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
  const cfg = header.__metadata__?.config;
  if (typeof cfg !== 'string') throw new Error('this safetensors file is not a playground checkpoint (no config in its metadata)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(cfg);
  } catch {
    throw new Error('this checkpoint\'s config metadata is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object') throw new Error('this checkpoint\'s config metadata is not an object');
  return parsed as RunConfig;
}
