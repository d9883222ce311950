import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { VegaChart } from '../charts';
import { Mlvc } from '../tokens';
import { show } from './DiffView';

/** The Vega-Lite charts of the Compare view, by kind. */
export interface ICompareCharts {
  /** Each numeric param against each numeric metric. */
  scatter?: { [key: string]: unknown } | null;
  /** Parallel coordinates over the params and metrics. */
  parallel?: { [key: string]: unknown } | null;
}

/**
 * Props of {@link CompareView}.
 */
interface ICompareViewProps {
  /** The table from the server. */
  compare: Mlvc.ICompare;
  /** The metric series (per step) from the server. */
  series?: Mlvc.ISeries;
  /** Vega-Lite specs of the charts (from `GET /mlvc/compare?plot=`). */
  charts?: ICompareCharts;
  /** The commits selected (shared with the Experiments panel). */
  selected?: ReadonlyArray<string>;
  /** Select or unselect a commit. */
  onToggle?: (id: string) => void;
  /** Open the diff of two commits, older first. */
  onDiff?: (a: string, b: string) => void;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
}

type SortKey = { kind: 'time' | 'params' | 'metrics'; name: string };

/** Line colours of the step chart, theme variables so dark themes work. */
const PALETTE = [
  'var(--jp-brand-color1)',
  'var(--jp-warn-color1)',
  'var(--jp-success-color1)',
  'var(--jp-error-color1)',
  'var(--jp-info-color0)',
  'var(--jp-ui-font-color2)'
];

/** Step-chart lines shown when no commit is selected. */
const STEP_LINES = 6;

/**
 * Commits × params/metrics: sortable, columns to choose, best metric values
 * highlighted, rows selectable (linked to the panel's selection); a chart of a
 * metric across commits or across the steps of each commit.
 */
export function CompareView(props: ICompareViewProps): JSX.Element {
  const { compare, trans } = props;
  const selected = props.selected ?? [];
  const { params, metrics } = compare.columns;
  const [sort, setSort] = React.useState<SortKey>({ kind: 'time', name: '' });
  const [desc, setDesc] = React.useState(true);
  const [metric, setMetric] = React.useState(metrics[0] ?? '');
  const [hidden, setHidden] = React.useState<Set<string>>(new Set());
  const [bySteps, setBySteps] = React.useState(false);
  const [chartKind, setChartKind] = React.useState<'scatter' | 'parallel'>(
    'scatter'
  );
  const chartSpec = props.charts?.[chartKind];
  const shownParams = params.filter(p => !hidden.has(`params:${p}`));
  const shownMetrics = metrics.filter(m => !hidden.has(`metrics:${m}`));

  const value = (row: Mlvc.ICompareRow, key: SortKey): unknown =>
    key.kind === 'time' ? row.time : row[key.kind][key.name];
  const rows = [...compare.rows].sort((x, y) => {
    const a = value(x, sort);
    const b = value(y, sort);
    if (a === undefined || a === null) {
      return 1;
    }
    if (b === undefined || b === null) {
      return -1;
    }
    if (typeof a === 'number' && typeof b === 'number') {
      return desc ? b - a : a - b;
    }
    return desc
      ? String(b).localeCompare(String(a))
      : String(a).localeCompare(String(b));
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
  const toggleColumn = (key: string) => {
    const next = new Set(hidden);
    if (next.has(key)) {
      next.delete(key);
    } else {
      next.add(key);
    }
    setHidden(next);
  };
  const pair = (): [string, string] | null => {
    if (selected.length !== 2) {
      return null;
    }
    const time = (id: string) =>
      compare.rows.find(r => r.id === id)?.time ?? '';
    const [x, y] = selected;
    return time(x) <= time(y) ? [x, y] : [y, x];
  };
  const diffPair = pair();
  const stepSeries = props.series?.series[metric]?.steps ?? [];

  return (
    <div className="jp-mlvc-CompareView">
      <h2>{trans.__('Compare runs')}</h2>
      {props.charts && (
        <div className="jp-mlvc-vegaBox">
          <div
            className="jp-mlvc-chartTabs"
            role="tablist"
            aria-label={trans.__('Charts')}
          >
            {(
              [
                ['scatter', trans.__('Params vs metrics')],
                ['parallel', trans.__('Parallel coordinates')]
              ] as const
            ).map(([kind, label]) => (
              <button
                key={kind}
                role="tab"
                aria-selected={chartKind === kind}
                className={
                  chartKind === kind
                    ? 'jp-mlvc-chartTab jp-mod-active'
                    : 'jp-mlvc-chartTab'
                }
                onClick={() => setChartKind(kind)}
              >
                {label}
              </button>
            ))}
          </div>
          {chartSpec ? (
            <VegaChart
              key={chartKind}
              spec={chartSpec}
              selected={selected}
              onSelect={props.onToggle}
              label={
                chartKind === 'scatter'
                  ? trans.__('Params against metrics, one point per run')
                  : trans.__('Parallel coordinates, one line per run')
              }
              unavailable={trans.__(
                'JupyterLab has no Vega-Lite renderer (the vega5 extension is disabled).'
              )}
            />
          ) : (
            <p className="jp-mlvc-message">
              {trans.__('No numeric params or metrics to chart.')}
            </p>
          )}
        </div>
      )}
      {metrics.length > 0 && (
        <div className="jp-mlvc-chartBox">
          <div className="jp-mlvc-chartControls">
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
            <label>
              <input
                type="radio"
                name="jp-mlvc-chart-x"
                checked={!bySteps}
                onChange={() => setBySteps(false)}
              />{' '}
              {trans.__('Across commits')}
            </label>
            <label>
              <input
                type="radio"
                name="jp-mlvc-chart-x"
                checked={bySteps}
                disabled={stepSeries.length === 0}
                onChange={() => setBySteps(true)}
              />{' '}
              {trans.__('Across steps')}
            </label>
          </div>
          {bySteps && stepSeries.length > 0 ? (
            <StepChart
              steps={stepSeries}
              metric={metric}
              selected={selected}
              trans={trans}
            />
          ) : (
            <CommitChart
              rows={compare.rows}
              metric={metric}
              selected={selected}
              onToggle={props.onToggle}
              trans={trans}
            />
          )}
        </div>
      )}
      <div className="jp-mlvc-tableBar">
        <details className="jp-mlvc-columns">
          <summary aria-label={trans.__('Choose columns')}>
            {trans.__(
              'Columns (%1 of %2)',
              shownParams.length + shownMetrics.length,
              params.length + metrics.length
            )}
          </summary>
          <div className="jp-mlvc-columnList">
            {[
              ...params.map(p => ['params', p, trans.__('param')]),
              ...metrics.map(m => ['metrics', m, trans.__('metric')])
            ].map(([kind, name, what]) => (
              <label key={`${kind}:${name}`}>
                <input
                  type="checkbox"
                  checked={!hidden.has(`${kind}:${name}`)}
                  onChange={() => toggleColumn(`${kind}:${name}`)}
                />{' '}
                {name} <span className="jp-mlvc-muted">{what}</span>
              </label>
            ))}
          </div>
        </details>
        <button
          className="jp-mod-styled"
          disabled={diffPair === null || !props.onDiff}
          title={trans.__('Select two rows to diff them')}
          onClick={() => diffPair && props.onDiff?.(diffPair[0], diffPair[1])}
        >
          {trans.__('Diff selected')}
        </button>
      </div>
      <table className="jp-mlvc-table jp-mlvc-compareTable">
        <thead>
          <tr>
            <th>
              <span className="jp-mlvc-visuallyHidden">
                {trans.__('Selected')}
              </span>
            </th>
            <th>{trans.__('Commit')}</th>
            {header('time', '', trans.__('Time'))}
            {shownParams.map(p => header('params', p, p))}
            {shownMetrics.map(m => header('metrics', m, m))}
          </tr>
        </thead>
        <tbody>
          {rows.map(row => {
            const isSelected = selected.includes(row.id);
            return (
              <tr
                key={row.id}
                className={isSelected ? 'jp-mlvc-selectedRow' : undefined}
                aria-selected={isSelected}
              >
                <td>
                  <input
                    type="checkbox"
                    aria-label={trans.__('Select %1', row.short_id)}
                    checked={isSelected}
                    disabled={!props.onToggle}
                    onChange={() => props.onToggle?.(row.id)}
                  />
                </td>
                <td title={row.id}>
                  <code>{row.short_id}</code> {row.message}
                </td>
                <td>{new Date(row.time).toLocaleString()}</td>
                {shownParams.map(p => (
                  <td key={p}>{show(row.params[p])}</td>
                ))}
                {shownMetrics.map(m => {
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
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/**
 * One line of a {@link Chart}.
 */
interface IChartLine {
  key: string;
  label: string;
  color: string;
  points: { x: number; y: number; title: string; id?: string }[];
}

/**
 * An SVG line chart: lines of (x, y) points, y range labelled, points with titles.
 */
function Chart(props: {
  lines: IChartLine[];
  label: string;
  xLabel: string;
  /** Label the first and last x values. */
  xTicks?: boolean;
  selected: ReadonlyArray<string>;
  onPoint?: (id: string) => void;
}): JSX.Element {
  const W = 560;
  const H = 180;
  const left = 56;
  const pad = 16;
  const all = ([] as IChartLine['points']).concat(
    ...props.lines.map(l => l.points)
  );
  const xs = all.map(p => p.x);
  const ys = all.map(p => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) =>
    left + (x1 === x0 ? 0 : ((x - x0) * (W - left - pad)) / (x1 - x0));
  const sy = (y: number) =>
    H - 2 * pad - ((y - y0) * (H - 3 * pad)) / (y1 - y0 || 1);
  return (
    <svg
      className="jp-mlvc-chart"
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      role="img"
      aria-label={props.label}
    >
      <line
        x1={left}
        y1={H - 2 * pad}
        x2={W - pad}
        y2={H - 2 * pad}
        className="jp-mlvc-chart-axis"
      />
      <text x={2} y={sy(y1) + 4} className="jp-mlvc-chart-label">
        {show(y1)}
      </text>
      <text x={2} y={sy(y0) + 4} className="jp-mlvc-chart-label">
        {show(y0)}
      </text>
      <text
        x={(left + W - pad) / 2}
        y={H - 4}
        textAnchor="middle"
        className="jp-mlvc-chart-label"
      >
        {props.xLabel}
      </text>
      {props.xTicks && (
        <>
          <text
            x={sx(x0)}
            y={H - 2 * pad + 12}
            textAnchor="middle"
            className="jp-mlvc-chart-label"
          >
            {show(x0)}
          </text>
          <text
            x={sx(x1)}
            y={H - 2 * pad + 12}
            textAnchor="middle"
            className="jp-mlvc-chart-label"
          >
            {show(x1)}
          </text>
        </>
      )}
      {props.lines.map(line => (
        <g key={line.key} style={{ color: line.color }}>
          <path
            d={line.points
              .map(
                (p, i) =>
                  `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`
              )
              .join(' ')}
            className="jp-mlvc-chart-line"
          />
          {line.points.map((p, i) => {
            const on = p.id !== undefined && props.selected.includes(p.id);
            return (
              <circle
                key={i}
                cx={sx(p.x)}
                cy={sy(p.y)}
                r={on ? 5 : 3}
                className={
                  on
                    ? 'jp-mlvc-chart-point jp-mlvc-chart-selected'
                    : 'jp-mlvc-chart-point'
                }
                onClick={() => p.id && props.onPoint?.(p.id)}
              >
                <title>{p.title}</title>
              </circle>
            );
          })}
        </g>
      ))}
    </svg>
  );
}

/**
 * One metric across commits, oldest left; clicking a point selects its commit.
 */
function CommitChart(props: {
  rows: Mlvc.ICompareRow[];
  metric: string;
  selected: ReadonlyArray<string>;
  onToggle?: (id: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const rows = [...props.rows]
    .filter(r => typeof r.metrics[props.metric] === 'number')
    .sort((a, b) => a.time.localeCompare(b.time));
  if (rows.length === 0) {
    return <p>{trans.__('No values')}</p>;
  }
  const line: IChartLine = {
    key: props.metric,
    label: props.metric,
    color: PALETTE[0],
    points: rows.map((r, i) => ({
      x: i,
      y: r.metrics[props.metric] as number,
      id: r.id,
      title: `${r.short_id} ${r.message}: ${show(r.metrics[props.metric])}`
    }))
  };
  return (
    <Chart
      lines={[line]}
      label={trans.__('%1 across commits', props.metric)}
      xLabel={trans.__('commits, oldest first')}
      selected={props.selected}
      onPoint={props.onToggle}
    />
  );
}

/**
 * One metric across the steps of each commit: the selected commits, or the newest.
 */
function StepChart(props: {
  steps: Mlvc.ISeries['series'][string]['steps'];
  metric: string;
  selected: ReadonlyArray<string>;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const chosen = props.steps.filter(s => props.selected.includes(s.id));
  const shown = chosen.length ? chosen : props.steps.slice(-STEP_LINES);
  const lines: IChartLine[] = shown.map((s, i) => ({
    key: s.id,
    label: s.short_id,
    color: PALETTE[i % PALETTE.length],
    points: s.steps.map(([x, y]) => ({
      x,
      y,
      title: `${s.short_id} step ${x}: ${show(y)}`
    }))
  }));
  return (
    <>
      <Chart
        lines={lines}
        label={trans.__('%1 across steps', props.metric)}
        xLabel={trans.__('step')}
        xTicks={true}
        selected={[]}
      />
      <ul className="jp-mlvc-legend" aria-label={trans.__('Legend')}>
        {lines.map(l => (
          <li key={l.key}>
            <span className="jp-mlvc-swatch" style={{ background: l.color }} />
            <code>{l.label}</code>
          </li>
        ))}
      </ul>
    </>
  );
}
