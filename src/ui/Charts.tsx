// The live charts and their options (x axis, log scale, smoothing, the seed groups' band, members).
import { useApp } from '../store/store.ts';
import { Chart } from './Chart.tsx';
import { Check, Select, Slider } from './fields.tsx';
import { METRICS } from './traces.ts';

export function Charts() {
  const chart = useApp((s) => s.chart);
  const setChart = useApp((s) => s.setChart);
  const kinds = useApp((s) => {
    const k = new Set<string>();
    for (const id of s.order) {
      const r = s.runs[id]!;
      k.add(r.config.task.kind);
      if (r.config.model.connection.kind === 'adaptive') k.add('adaptive');
    }
    return [...k].sort().join(',');
  });
  const has = (k: string) => kinds.split(',').includes(k);
  const shown = METRICS.filter(
    (m) =>
      (m.id !== 'accuracy' || has('copy')) &&
      (m.id !== 'class-accuracy' || has('listops') || has('images')) && (m.id !== 'bits-per-dim' || has('mnist')) && (m.id !== 'beta-tilde' || has('adaptive')),
  );
  return (
    <section className="panel charts" aria-labelledby="charts-title">
      <h2 id="charts-title">Curves</h2>
      <div className="row">
        <Select
          label="Horizontal axis"
          value={chart.x}
          options={[
            { value: 'step', label: 'Step' },
            { value: 'time', label: 'Wall-clock time' },
          ]}
          onChange={(x) => setChart({ x })}
        />
        <Check label="Log scale" checked={chart.logY} onChange={(logY) => setChart({ logY })} />
        <Slider label="Smoothing" min={0} max={0.99} step={0.01} value={chart.smoothing} onChange={(smoothing) => setChart({ smoothing })} />
        <Select
          label="Seed band"
          value={chart.band}
          options={[
            { value: 'minmax', label: 'min–max over seeds' },
            { value: 'std', label: '±1 standard deviation' },
            { value: 'se', label: '±1 standard error' },
          ]}
          onChange={(band) => setChart({ band })}
        />
        <Check label="Show member runs" checked={chart.members} onChange={(members) => setChart({ members })} />
      </div>
      <div className="chart-grid">
        {shown.map((m) => (
          <Chart key={m.id} def={m} />
        ))}
      </div>
    </section>
  );
}
