// Display names that tell runs apart: a repeat or an upload of an existing name gets a suffix.

/** `base`, or `base (2)`, `base (3)`, ... : the first that none of `taken` has. */
export function uniqueName(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) {
    const name = `${base} (${i})`;
    if (!used.has(name)) return name;
  }
}
