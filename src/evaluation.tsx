/**
 * The report of an evaluation of two model versions, as the panel shows it in a
 * dialog: the verdict, then per metric both values, the difference B - A with its
 * interval (a bar around 0) and the paired test.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Mlvc } from './tokens';

/**
 * A number in 4 significant digits, signed when asked.
 *
 * @param value - The number.
 * @param signed - Whether to show a `+` before positive values.
 * @returns The text.
 */
export function formatNumber(
  value: number | undefined,
  signed = false
): string {
  if (value === undefined || value === null || !Number.isFinite(value)) {
    return '-';
  }
  const text = Number(value.toPrecision(4)).toString();
  return signed && value > 0 ? `+${text}` : text;
}

/**
 * One line per metric: `accuracy 0.77 → 0.81, B − A +0.036 [+0.025, +0.045], p=1e-11`.
 *
 * @param report - The evaluation report.
 * @returns The lines.
 */
export function metricLines(report: Mlvc.IEvaluationReport): string[] {
  return Object.values(report.metrics ?? {}).map(m => {
    if (m.error) {
      return `${m.metric}: ${m.error}`;
    }
    const ci = m.ci ?? [NaN, NaN];
    return (
      `${m.metric} ${formatNumber(m.a)} → ${formatNumber(m.b)}, ` +
      `B − A ${formatNumber(m.diff, true)} ` +
      `[${formatNumber(ci[0], true)}, ${formatNumber(ci[1], true)}], ` +
      `p=${formatNumber(m.p_value)}`
    );
  });
}

function Bar(props: {
  metric: Mlvc.IEvaluationMetric;
  scale: number;
}): JSX.Element {
  const { metric, scale } = props;
  const width = 120;
  if (!metric.ci || scale <= 0) {
    return <span />;
  }
  const flip = metric.lower_is_better ? -1 : 1;
  const [lo, hi] = [flip * metric.ci[0], flip * metric.ci[1]].sort(
    (x, y) => x - y
  );
  const x = (v: number) =>
    Math.max(0, Math.min(width, width / 2 + (v / scale) * (width / 2)));
  const cls =
    metric.better === 'b'
      ? 'jp-mlvc-eval-better'
      : metric.better === 'a'
        ? 'jp-mlvc-eval-worse'
        : 'jp-mlvc-eval-same';
  return (
    <svg
      width={width}
      height={12}
      role="img"
      aria-label={`interval of B − A for ${metric.metric}`}
      className={cls}
    >
      <line
        x1={width / 2}
        y1={0}
        x2={width / 2}
        y2={12}
        stroke="currentColor"
      />
      <rect
        x={x(lo)}
        y={3}
        width={Math.max(1, x(hi) - x(lo))}
        height={6}
        fill="currentColor"
      />
    </svg>
  );
}

/**
 * The report in a dialog.
 *
 * @param props - The report and the translation bundle.
 * @returns The element.
 */
export function EvaluationReport(props: {
  report: Mlvc.IEvaluationReport;
  trans: TranslationBundle;
}): JSX.Element {
  const { report, trans } = props;
  const metrics = Object.values(report.metrics ?? {});
  const bounds: number[] = [];
  metrics.forEach(m => m.ci?.forEach(v => bounds.push(Math.abs(v))));
  const scale = Math.max(0, ...bounds);
  return (
    <div className="jp-mlvc-evaluation" aria-label={trans.__('Evaluation')}>
      <p className="jp-mlvc-eval-verdict">{report.verdict.text ?? ''}</p>
      <table
        className="jp-mlvc-eval-table"
        aria-label={trans.__('Evaluation metrics')}
      >
        <thead>
          <tr>
            <th>{trans.__('Metric')}</th>
            <th>{trans.__('A')}</th>
            <th>{trans.__('B')}</th>
            <th>{trans.__('B − A')}</th>
            <th>{trans.__('Interval')}</th>
            <th>{trans.__('p')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {metrics.map(m => (
            <tr key={m.metric}>
              <td>{m.metric}</td>
              <td>{formatNumber(m.a)}</td>
              <td>{formatNumber(m.b)}</td>
              <td>{formatNumber(m.diff, true)}</td>
              <td>
                {m.ci
                  ? `[${formatNumber(m.ci[0], true)}, ${formatNumber(m.ci[1], true)}]`
                  : (m.error ?? '-')}
              </td>
              <td>{formatNumber(m.p_value)}</td>
              <td>
                <Bar metric={m} scale={scale} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="jp-mlvc-eval-methods">
        {metrics
          .filter(m => !m.error)
          .map(m => `${m.metric}: ${m.ci_method}; ${m.test}`)
          .join(' · ')}
      </p>
      <p>
        {trans.__(
          'Data %1 (%2 rows); stored as evaluation %3.',
          report.data.path ?? '',
          String(report.data.rows ?? ''),
          (report.id ?? '').slice(0, 8)
        )}
      </p>
    </div>
  );
}
