// A counter that moves when new metrics arrive, at most every `ms`, so a view derived from the
// metrics (the results table, the sweep view) updates a few times a second, not per batch.
import { useEffect, useState } from 'react';
import type { MetricsHub } from '../store/metrics.ts';

export function useHubTick(hub: MetricsHub, ms = 1000): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsub = hub.subscribe(() => {
      if (!timer) timer = setTimeout(() => {
        timer = null;
        setTick((t) => t + 1);
      }, ms);
    });
    return () => {
      unsub();
      if (timer) clearTimeout(timer);
    };
  }, [hub, ms]);
  return tick;
}
