// Positional arguments of the measurement scripts: positive integers with defaults, each checked
// with its name in the error.

/** `process.argv[2 + i]` as a positive integer for each [name, default]; throws naming a bad one. */
export function positiveArgs(spec: readonly (readonly [name: string, fallback: number])[]): number[] {
  return spec.map(([name, fallback], i) => {
    const given = process.argv[2 + i];
    const x = Number(given ?? fallback);
    if (!(Number.isInteger(x) && x >= 1)) throw new Error(`${name} (argument ${i + 1}) must be a positive integer; got ${given}`);
    return x;
  });
}
