import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Mlvc } from '../tokens';
import { show } from './DiffView';

/**
 * Props of {@link CompareView}.
 */
export interface ICompareViewProps {
  /** The table from the server. */
  compare: Mlvc.ICompare;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
}

type SortKey = { kind: 'time' | 'params' | 'metrics'; name: string };

/**
 * Commits × params/metrics, sortable, best metric values highlighted, and a line
 * chart of one metric across commits.
 */
export function CompareView(props: ICompareViewProps): JSX.Element {
  const { compare, trans } = props;
  const { params, metrics } = compare.columns;
  const [sort, setSort] = React.useState<SortKey>({ kind: 'time', name: '' });
  const [desc, setDesc] = React.useState(true);
  const [metric, setMetric] = React.useState(metrics[0] ?? '');

  const value = (row: Mlvc.ICommitSummary, key: SortKey): unknown =>
    key.kind === 'time' ? row.time : row[key.kind][key.name];
  const rows = [...compare.rows].sort((x, y) => {
    const a = value(x, sort);
    const b = value(y, sort);
    let c: number;
    if (a === undefined || a === null) {
      c = 1;
    } else if (b === undefined || b === null) {
      c = -1;
    } else if (typeof a === 'number' && typeof b === 'number') {
      c = desc ? b - a : a - b;
    } else {
      c = desc
        ? String(b).localeCompare(String(a))
        : String(a).localeCompare(String(b));
    }
    return c;
  });
  const header = (kind: SortKey['kind'], name: string, label: string) => {
    const active = sort.kind === kind && sort.name === name;
    return (
      <th
        key={`${kind}:${name}`}
        aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'}
      >
        <button
          className="jp-mlvc-sort"
          aria-label={trans.__('Sort by %1', label)}
          onClick={() => {
            if (active) {
              setDesc(!desc);
            } else {
              setSort({ kind, name });
              setDesc(true);
            }
          }}
        >
          {label}
          {active ? (desc ? ' ▼' : ' ▲') : ''}
        </button>
      </th>
    );
  };
  return (
    <div className="jp-mlvc-CompareView">
      <h2>{trans.__('Compare runs')}</h2>
      {metrics.length > 0 && (
        <div className="jp-mlvc-chartBox">
          <label>
            {trans.__('Metric')}{' '}
            <select
              aria-label={trans.__('Chart metric')}
              value={metric}
              onChange={event => setMetric(event.target.value)}
            >
              {metrics.map(m => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <LineChart rows={compare.rows} metric={metric} trans={trans} />
        </div>
      )}
      <table className="jp-mlvc-table jp-mlvc-compareTable">
        <thead>
          <tr>
            <th>{trans.__('Commit')}</th>
            {header('time', '', trans.__('Time'))}
            {params.map(p => header('params', p, p))}
            {metrics.map(m => header('metrics', m, m))}
          </tr>
        </thead>
        <tbody>
          {rows.map(row => (
            <tr key={row.id}>
              <td title={row.id}>
                <code>{row.short_id}</code> {row.message}
              </td>
              <td>{new Date(row.time).toLocaleString()}</td>
              {params.map(p => (
                <td key={p}>{show(row.params[p])}</td>
              ))}
              {metrics.map(m => {
                const best = compare.best[m]?.ids.includes(row.id);
                return (
                  <td
                    key={m}
                    className={best ? 'jp-mlvc-best' : undefined}
                    title={best ? trans.__('Best %1', m) : undefined}
                  >
                    {show(row.metrics[m])}
                    {best ? ' ★' : ''}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * An SVG line chart of one metric over commits, oldest left.
 */
function LineChart(props: {
  rows: Mlvc.ICommitSummary[];
  metric: string;
  trans: TranslationBundle;
}): JSX.Element {
  const points = [...props.rows]
    .filter(r => typeof r.metrics[props.metric] === 'number')
    .sort((a, b) => a.time.localeCompare(b.time))
    .map(r => ({ row: r, v: r.metrics[props.metric] as number }));
  const W = 480;
  const H = 160;
  const pad = 28;
  if (points.length === 0) {
    return <p>{props.trans.__('No values')}</p>;
  }
  const vs = points.map(p => p.v);
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  const span = hi - lo || 1;
  const x = (i: number) =>
    pad + (points.length === 1 ? 0 : (i * (W - 2 * pad)) / (points.length - 1));
  const y = (v: number) => H - pad - ((v - lo) * (H - 2 * pad)) / span;
  const d = points
    .map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.v).toFixed(1)}`)
    .join(' ');
  return (
    <svg
      className="jp-mlvc-chart"
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      role="img"
      aria-label={props.trans.__('%1 across commits', props.metric)}
    >
      <line
        x1={pad}
        y1={H - pad}
        x2={W - pad}
        y2={H - pad}
        className="jp-mlvc-chart-axis"
      />
      <text x={2} y={y(hi) + 4} className="jp-mlvc-chart-label">
        {show(hi)}
      </text>
      <text x={2} y={y(lo) + 4} className="jp-mlvc-chart-label">
        {show(lo)}
      </text>
      <path d={d} className="jp-mlvc-chart-line" />
      {points.map((p, i) => (
        <circle
          key={p.row.id}
          cx={x(i)}
          cy={y(p.v)}
          r={3}
          className="jp-mlvc-chart-point"
        >
          <title>
            {p.row.short_id} {p.row.message}: {show(p.v)}
          </title>
        </circle>
      ))}
    </svg>
  );
}
