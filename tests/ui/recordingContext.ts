// A stand-in 2D canvas context for the plot tests (jsdom has no canvas).
/** A 2D context that records every call and property set, in order. */
export function recorder() {
  const log: { op: string; args: unknown[] }[] = [];
  const ctx = new Proxy({} as Record<string, unknown>, {
    get: (t, k: string) => (k in t ? t[k] : (...args: unknown[]) => void log.push({ op: k, args })),
    set: (t, k: string, v) => {
      log.push({ op: `=${k}`, args: [v] });
      t[k] = v;
      return true;
    },
  });
  return { ctx: ctx as unknown as CanvasRenderingContext2D, log };
}
