// The header-only checkpoint-config reader that the CLI and the page share, on files built with
// the safetensors writer and on damaged ones.
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, readCheckpointConfig } from '../../src/train/checkpointConfig.ts';
import { makeRunConfig } from '../../src/train/presets.ts';
import { writeSafetensors } from '../../src/train/safetensors.ts';

const cfg = makeRunConfig({ task: 'copy', variant: 'adaptive', overrides: { name: 'probe', seed: 7 } });
const tensor = { name: 'param.x', dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) };

describe('readCheckpointConfig', () => {
  it('reads the config from the metadata without the tensors', () => {
    const bytes = writeSafetensors([tensor], { format: CHECKPOINT_FORMAT, config: JSON.stringify(cfg) });
    expect(readCheckpointConfig(bytes)).toEqual(cfg);
    // A damaged data buffer does not matter to it (the full load checks the checksum).
    const damaged = bytes.slice();
    damaged[damaged.length - 1]! ^= 0xff;
    expect(readCheckpointConfig(damaged).name).toBe('probe');
  });

  it('names what is wrong with files that are not checkpoints', () => {
    expect(() => readCheckpointConfig(new Uint8Array(4))).toThrow(/not a safetensors file: shorter than its 8-byte header length/);
    expect(() => readCheckpointConfig(new TextEncoder().encode('{"name": "package"}'))).toThrow(/header length \d+ does not fit the file/);
    const notJson = new Uint8Array(16);
    new DataView(notJson.buffer).setBigUint64(0, 8n, true);
    notJson.set(new TextEncoder().encode('not json'), 8);
    expect(() => readCheckpointConfig(notJson)).toThrow(/its header is not JSON/);
    expect(() => readCheckpointConfig(writeSafetensors([tensor]))).toThrow(/not a playground checkpoint \(no config in its metadata\)/);
    expect(() => readCheckpointConfig(writeSafetensors([tensor], { config: '{' }))).toThrow(/metadata 'config' is not valid JSON/);
  });
});
