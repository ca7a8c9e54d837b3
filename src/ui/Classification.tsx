// A classifier's latest test evaluation for the selected run: the confusion matrix (true class by
// row, predicted by column, shaded by the row's share) and a few held-out examples with the true
// and predicted class: the small image for pixel sequences, the expression for ListOps.
import { useEffect, useRef } from 'react';
import { isClassificationTask } from '../train/types.ts';
import type { ClassExampleView, ClassReport } from '../worker/protocol.ts';
import { useApp } from '../store/store.ts';
import { useSession } from './context.ts';

/** Pixels of a drawn example per image pixel (a 7 x 7 digit is drawn 56 px wide). */
const SCALE = 8;

function ExampleImage({ e, side }: { e: ClassExampleView; side: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const v = e.tokens[i] ?? 0;
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [e, side]);
  return <canvas ref={canvas} width={side} height={side} className="class-image" style={{ width: side * SCALE > 112 ? 112 : side * SCALE }} aria-label={`test image, class ${e.label}`} />;
}

/** The share of a row's count, as a blue shade (white: none of the row). */
function shade(count: number, rowTotal: number): string {
  const share = rowTotal > 0 ? count / rowTotal : 0;
  const light = Math.round(100 - 55 * share);
  return `hsl(210, 70%, ${light}%)`;
}

export function ConfusionMatrix({ report }: { report: ClassReport }) {
  const k = report.classes;
  const totals = report.matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const all = totals.reduce((a, b) => a + b, 0);
  return (
    <table className="confusion" data-testid="confusion">
      <caption>
        Confusion matrix at step {report.step}: {all} test sequences, accuracy {(100 * report.accuracy).toFixed(1)}% (rows: true class, columns: predicted)
      </caption>
      <thead>
        <tr>
          <th scope="col">true \ predicted</th>
          {Array.from({ length: k }, (_, p) => (
            <th key={p} scope="col">
              {p}
            </th>
          ))}
          <th scope="col">total</th>
        </tr>
      </thead>
      <tbody>
        {report.matrix.map((row, t) => (
          <tr key={t}>
            <th scope="row">{t}</th>
            {row.map((c, p) => (
              <td
                key={p}
                className={p === t ? 'diagonal' : undefined}
                style={{ background: shade(c, totals[t]!), color: totals[t]! > 0 && c / totals[t]! > 0.6 ? 'white' : undefined }}
                title={`true ${t}, predicted ${p}: ${c} of ${totals[t]}`}
              >
                {c}
              </td>
            ))}
            <td>{totals[t]}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Examples({ report }: { report: ClassReport }) {
  return (
    <ul className="class-examples" data-testid="class-examples">
      {report.examples.map((e, i) => (
        <li key={i} className={e.predicted === e.label ? 'ok' : 'wrong'} data-testid="class-example">
          {report.side !== undefined ? <ExampleImage e={e} side={report.side} /> : <code className="listops-text">{e.text ?? e.tokens.join(' ')}</code>}
          <span className="class-verdict">
            true <b data-testid="true-class">{e.label}</b>, predicted <b data-testid="predicted-class">{e.predicted}</b> {e.predicted === e.label ? '✓' : '✗'}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function Classification() {
  const session = useSession();
  const run = useApp((s) => (s.selectedRunId ? s.runs[s.selectedRunId] : undefined));
  const report = useApp((s) => (s.selectedRunId ? s.classReports[s.selectedRunId] : undefined));
  if (!run || !isClassificationTask(run.config.task.kind)) return null;
  return (
    <section className="panel classification" aria-labelledby="classification-title">
      <h2 id="classification-title">Test evaluation: {run.name}</h2>
      <div className="row">
        <button type="button" disabled={!run.live} onClick={() => session.evaluate(run.id)}>
          Evaluate now (step {run.step})
        </button>
        {!run.live && <span className="note">resume the run (its checkpoint) first</span>}
      </div>
      {!report ? (
        <p className="note">The confusion matrix and test examples appear at the run's next evaluation (every {run.config.evalEvery} steps) or when evaluated now.</p>
      ) : (
        <>
          <ConfusionMatrix report={report} />
          <h3>First {report.examples.length} test examples</h3>
          <Examples report={report} />
        </>
      )}
    </section>
  );
}
