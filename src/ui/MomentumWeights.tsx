// What beta does: momentum attention weighs key j seen from query i by
// w = (1 - beta^(i-j+1)) / (1 - beta) (eq. 13), times gamma; linear attention weighs every key 1.
import { memo } from 'react';

export const WEIGHT_LAGS = 32;

export function momentumWeights(beta: number, lags = WEIGHT_LAGS): number[] {
  return Array.from({ length: lags }, (_, d) => (beta === 0 ? 1 : (1 - beta ** (d + 1)) / (1 - beta)));
}

/** The plot, re-rendered only when beta or gamma change (not with its panel's every update). */
export const MomentumWeights = memo(function MomentumWeights({ beta, gamma }: { beta: number; gamma: number }) {
  const w = momentumWeights(beta).map((x) => x * gamma);
  const W = 320;
  const H = 150;
  const pad = { l: 36, r: 8, t: 8, b: 28 };
  const ymax = Math.max(1.05, ...w) * 1.05;
  const x = (d: number) => pad.l + (d / (WEIGHT_LAGS - 1)) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / ymax) * (H - pad.t - pad.b);
  const path = (vals: number[]) => vals.map((v, d) => `${d === 0 ? 'M' : 'L'}${x(d).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return (
    <figure className="weights" aria-labelledby="weights-caption">
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`Momentum weights for beta ${beta.toFixed(2)}, gamma ${gamma.toFixed(2)}`}>
        <line x1={pad.l} y1={y(0)} x2={W - pad.r} y2={y(0)} stroke="#999" />
        <line x1={pad.l} y1={pad.t} x2={pad.l} y2={y(0)} stroke="#999" />
        <text x={pad.l - 4} y={y(0)} textAnchor="end" fontSize="10">0</text>
        <text x={pad.l - 4} y={y(ymax / 1.05) + 4} textAnchor="end" fontSize="10">{(ymax / 1.05).toFixed(1)}</text>
        <text x={(W + pad.l) / 2} y={H - 6} textAnchor="middle" fontSize="10">distance i − j (0 = the query's own key)</text>
        <path d={path(Array(WEIGHT_LAGS).fill(1))} fill="none" stroke="#7f7f7f" strokeDasharray="4 3" data-testid="linear-weights" />
        <path d={path(w)} fill="none" stroke="#d62728" strokeWidth="2" data-testid="momentum-weights" />
      </svg>
      <figcaption id="weights-caption">
        Weight of key j for query i: momentum γ(1 − β<sup>i−j+1</sup>)/(1 − β) (red; β = {beta.toFixed(2)}, γ = {gamma.toFixed(2)}) against linear
        attention's uniform 1 (grey). Older keys weigh more, up to γ/(1 − β) = {(gamma / (1 - beta)).toFixed(2)}.
      </figcaption>
    </figure>
  );
});
