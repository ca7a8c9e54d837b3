// An adapter's (or device's) features and the limits that matter to the engine, as plain JSON:
// what the benchmark report records and the worker tells the playground's device panel.

export interface AdapterFacts {
  features: string[];
  limits: Record<string, number>;
}

/** The limits shown beside an adapter's name: buffer sizes, workgroup storage and invocations. */
export const LIMITS_SHOWN = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** The features the playground's panel names, present or not. */
export const FEATURES_SHOWN = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

export function adapterFacts(a: { features: Iterable<string>; limits: object }): AdapterFacts {
  const limits: Record<string, number> = {};
  for (const name of LIMITS_SHOWN) limits[name] = Number((a.limits as Record<string, unknown>)[name]);
  return { features: [...a.features].sort(), limits };
}
