// Key-padding lengths for the CPU references: a right-padded batch whose example b has lengths[b]
// valid tokens (1..N). Every reference with lengths treats example b as the same attention over
// its first lengths[b] tokens, with 0 on the padding rows and no gradient into them.

/** Each (batch * head) row's valid length: lengths[b] (checked to lie in 1..N), or N without lengths. */
export function rowLengths(
  what: string,
  dims: { batch: number; heads: number; seq: number },
  lengths: ArrayLike<number> | undefined,
): (bh: number) => number {
  if (!lengths) return () => dims.seq;
  if (lengths.length !== dims.batch) throw new Error(`${what}: lengths has ${lengths.length} values; batch is ${dims.batch}`);
  for (let b = 0; b < dims.batch; b++) {
    const l = lengths[b]!;
    if (!Number.isInteger(l) || l < 1 || l > dims.seq) throw new Error(`${what}: lengths[${b}] = ${l} is not in 1..${dims.seq}`);
  }
  return (bh) => lengths[Math.floor(bh / dims.heads)]!;
}
