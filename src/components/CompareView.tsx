import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { VegaChart } from '../charts';
import { commitsSpec, scatterPanel, scatterPanels } from '../chartSpecs';
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
  const scatter = props.charts?.scatter ?? null;
  const parallel = props.charts?.parallel ?? null;
  // The scatter draws one param/metric pair at a time, picked here from the
  // server's grid (1,000 runs draw in one chart, not in every pair's).
  const panels = React.useMemo(
    () => (scatter ? scatterPanels(scatter) : []),
    [scatter]
  );
  const [xName, setXName] = React.useState(panels[0]?.x ?? '');
  const [yName, setYName] = React.useState(panels[0]?.y ?? '');
  const xs = [...new Set(panels.map(p => p.x))];
  const ys = [...new Set(panels.map(p => p.y))];
  let panelIndex = panels.findIndex(p => p.x === xName && p.y === yName);
  if (panelIndex < 0) {
    panelIndex = Math.max(
      0,
      panels.findIndex(p => p.y === yName)
    );
  }
  const scatterSpec = React.useMemo(
    () => (scatter && panels.length ? scatterPanel(scatter, panelIndex) : null),
    [scatter, panelIndex]
  );
  const chartSpec = chartKind === 'scatter' ? scatterSpec : parallel;
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
  // the server's chart of the steps (`GET /mlvc/series?plot=steps`)
  const stepsChart = props.series?.vegalite?.[metric] ?? null;
  const metricSpec = React.useMemo(
    () =>
      bySteps && stepsChart
        ? stepsChart
        : commitsSpec(compare.rows, metric, trans.__('commits, oldest first')),
    [compare, props.series, metric, bySteps]
  );
  const showSteps = bySteps && stepsChart !== null;
  const unavailable = trans.__(
    'The chart cannot be drawn: JupyterLab provides no vega-embed'
  );

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
          {chartKind === 'scatter' && panels.length > 1 && (
            <div className="jp-mlvc-chartControls">
              <label>
                {trans.__('x')}{' '}
                <select
                  aria-label={trans.__('Scatter x axis')}
                  value={panels[panelIndex]?.x}
                  onChange={event => setXName(event.target.value)}
                >
                  {xs.map(x => (
                    <option key={x} value={x}>
                      {x}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {trans.__('y')}{' '}
                <select
                  aria-label={trans.__('Scatter y axis')}
                  value={panels[panelIndex]?.y}
                  onChange={event => {
                    setXName(panels[panelIndex]?.x ?? '');
                    setYName(event.target.value);
                  }}
                >
                  {ys.map(y => (
                    <option key={y} value={y}>
                      {y}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          )}
          {chartSpec ? (
            <VegaChart
              key={chartKind}
              spec={chartSpec}
              fileName={`mlvc-${chartKind}`}
              selected={selected}
              onSelect={props.onToggle}
              label={
                chartKind === 'scatter'
                  ? trans.__('Params against metrics, one point per run')
                  : trans.__('Parallel coordinates, one line per run')
              }
              unavailable={unavailable}
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
                disabled={stepsChart === null}
                onChange={() => setBySteps(true)}
              />{' '}
              {trans.__('Across steps')}
            </label>
          </div>
          {metricSpec ? (
            <VegaChart
              key={showSteps ? 'steps' : 'commits'}
              spec={metricSpec}
              selected={selected}
              onSelect={props.onToggle}
              fileName={`mlvc-${metric}`}
              label={
                showSteps
                  ? trans.__('%1 across steps', metric)
                  : trans.__('%1 across commits', metric)
              }
              unavailable={unavailable}
            />
          ) : (
            <p className="jp-mlvc-message">{trans.__('No values')}</p>
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
      <div className="jp-mlvc-tableScroll">
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
    </div>
  );
}
