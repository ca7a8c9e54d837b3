// Autoregressive sampling through the recurrent steps (MATH.md sections 3 and 9): one token per
// step for B sequences at once, each layer's attention carried by a recurrent state (a KV cache for
// softmax; (z, S, m) of the recurrence (12) for momentum, and for linear attention at beta = 0,
// gamma = 1). The step is the model's own forward at one position with the attention replaced
// (Transformer's `decode` hooks), so its rows equal the parallel forward's. The connection's
// momentum (fixed or adaptive beta~) runs across layers at one position, so it needs no state.
//
// The parts live in src/model/sampling/: rows.ts (one token from an output row), decoder.ts (the
// Sampler), images.ts (MNIST images pixel by pixel) and speed.ts (throughput).
export { checkTemperature, sampleRow } from './sampling/rows.ts';
export { Sampler, type GenerateOptions, type Generated } from './sampling/decoder.ts';
export { generateImages, type GeneratedImages, type ImageOptions } from './sampling/images.ts';
export { measureSampling, type SamplingSpeed } from './sampling/speed.ts';
