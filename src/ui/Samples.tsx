// Samples of the selected run: MNIST digits generated pixel by pixel (recurrent form) with the
// rate, or copy-task inputs beside the model's greedy output with errors marked.
import { useEffect, useRef } from 'react';
import type { SamplesCopy, SamplesMnist } from '../worker/protocol.ts';
import { useApp } from '../store/store.ts';
import { isClassificationTask } from '../train/types.ts';
import { useSession } from './context.ts';

function Digits({ s }: { s: SamplesMnist }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const cols = Math.min(s.count, 8);
  const rows = Math.ceil(s.count / cols);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(cols * s.cols, rows * s.rows);
    for (let n = 0; n < s.count; n++) {
      const ox = (n % cols) * s.cols;
      const oy = Math.floor(n / cols) * s.rows;
      for (let r = 0; r < s.rows; r++) {
        for (let c = 0; c < s.cols; c++) {
          const v = s.pixels[n * s.rows * s.cols + r * s.cols + c]!;
          const at = ((oy + r) * cols * s.cols + ox + c) * 4;
          img.data[at] = img.data[at + 1] = img.data[at + 2] = v;
          img.data[at + 3] = 255;
        }
      }
    }
    ctx.putImageData(img, 0, 0);
  }, [s, cols, rows]);
  return (
    <figure>
      <canvas ref={canvas} width={cols * s.cols} height={rows * s.rows} className="digits" aria-label={`${s.count} generated digits`} />
      <figcaption>
        {s.count} digits at {s.rows}x{s.cols}, {s.imagesPerSec.toFixed(1)} images/s
      </figcaption>
    </figure>
  );
}

function CopyRows({ s }: { s: SamplesCopy }) {
  const rows = [];
  for (let n = 0; n < s.count; n++) {
    const cells = [];
    for (let i = 0; i < s.maxLen; i++) {
      const at = n * s.maxLen + i;
      const scored = s.mask[at] === 1;
      // The output at position i predicts the input at i + 1.
      const want = i + 1 < s.maxLen ? s.inputs[at + 1]! : 0;
      const got = s.outputs[at]!;
      cells.push(
        <td key={i} className={scored ? (got === want ? 'ok' : 'wrong') : 'unscored'} title={scored ? `expected ${want}, got ${got}` : undefined}>
          {scored ? got : ''}
        </td>,
      );
    }
    rows.push(
      <tr key={`in${n}`}>
        <th scope="row">input</th>
        {Array.from(s.inputs.subarray(n * s.maxLen, (n + 1) * s.maxLen), (v, i) => (
          <td key={i}>{v}</td>
        ))}
      </tr>,
      <tr key={`out${n}`} className="output">
        <th scope="row">output</th>
        {cells}
      </tr>,
    );
  }
  return (
    <table className="copy-samples">
      <caption>Held-out sequences and the model's greedy output on the copied half (errors in red)</caption>
      <tbody>{rows}</tbody>
    </table>
  );
}

export function Samples() {
  const session = useSession();
  const id = useApp((s) => s.selectedRunId);
  const run = useApp((s) => (s.selectedRunId ? s.runs[s.selectedRunId] : undefined));
  const samples = useApp((s) => (s.selectedRunId ? s.samples[s.selectedRunId] : undefined));
  return (
    <section className="panel samples" aria-labelledby="samples-title">
      <h2 id="samples-title">Samples</h2>
      {!run ? (
        <p className="note">Select a run to see what it generates.</p>
      ) : isClassificationTask(run.config.task.kind) ? (
        <p className="note">A classifier generates nothing: its test examples and confusion matrix are under Test evaluation.</p>
      ) : (
        <>
          <button type="button" disabled={!run.live} onClick={() => id && void session.requestSamples(id, run.config.task.kind === 'mnist' ? 16 : 4)}>
            {run.config.task.kind === 'mnist' ? 'Generate digits' : 'Show copy outputs'} ({run.name})
          </button>
          {samples?.kind === 'mnist' && <Digits s={samples} />}
          {samples?.kind === 'copy' && <CopyRows s={samples} />}
        </>
      )}
    </section>
  );
}
