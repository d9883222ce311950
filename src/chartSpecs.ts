/**
 * Vega-Lite specs of the Compare view. The scatter and the parallel coordinates
 * come from the server (`GET /mlvc/compare?plot=`, built by
 * `mlvc_server.render.compare_vegalite`, the spec `%mlvc compare --plot` shows);
 * here the panel picks one of the scatter's charts and sizes it. A metric across
 * the steps of each run comes from the server too (`GET /mlvc/series?plot=steps`,
 * `render.steps_vegalite`, also drawn by `%mlvc compare --plot`); a metric across
 * commits, which only the panel draws, is built here from the compare table.
 *
 * Every spec carries the top-level param {@link SELECTED_PARAM}: the ids of
 * the selected runs, which the marks outline. The view sets it without drawing
 * the chart again.
 */
import { Mlvc } from './tokens';

/** A Vega-Lite spec. */
export type Spec = { [key: string]: unknown };

/** The top-level param of the selected run ids (`render.SELECTED_PARAM`). */
export const SELECTED_PARAM = 'selected_runs';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const IS_SELECTED = `indexof(${SELECTED_PARAM}, datum.id) >= 0`;
/** The outline of a selected point (as the server's charts draw it). */
const OUTLINE = {
  stroke: { condition: { test: IS_SELECTED, value: '#e91e63' }, value: null },
  strokeWidth: { condition: { test: IS_SELECTED, value: 3 }, value: 0 }
};
// the legend is titled by the field's name, `branch`
const COLOR = { field: 'branch', type: 'nominal' };

/** One chart of the server's scatter grid: its axes' names. */
export interface IScatterPanel {
  /** The x axis: `params.NAME`, or `run` when no param is numeric. */
  x: string;
  /** The y axis: `metrics.NAME`. */
  y: string;
}

/**
 * The charts of the server's scatter grid (`concat`), in order.
 *
 * @param spec - The scatter spec from the server.
 * @returns The x and y names of each chart.
 */
export function scatterPanels(spec: Spec): IScatterPanel[] {
  const charts = (spec.concat as Spec[] | undefined) ?? [];
  return charts.map(chart => {
    const enc = (chart.encoding ?? {}) as {
      x?: { title?: string };
      y?: { title?: string };
    };
    return { x: String(enc.x?.title ?? ''), y: String(enc.y?.title ?? '') };
  });
}

/**
 * One chart of the server's scatter grid as a spec of its own, with the grid's
 * data and params (drawing one chart of 1,000 points instead of every pair).
 *
 * @param spec - The scatter spec from the server.
 * @param index - Which chart (an index of {@link scatterPanels}).
 * @returns The spec of that chart alone.
 */
export function scatterPanel(spec: Spec, index: number): Spec {
  const charts = (spec.concat as Spec[] | undefined) ?? [];
  const chart = charts[Math.min(Math.max(index, 0), charts.length - 1)] ?? {};
  const top: Spec = { ...spec };
  delete top.concat;
  delete top.columns;
  return { ...top, ...chart, height: 260 };
}

/** Below this width (px) a chart's legend labels are cut shorter. */
export const NARROW = 560;

/**
 * The spec sized to a width in pixels, everything (axes, legend) included, with
 * the selected runs in its param (outlined from the first drawing).
 *
 * @param spec - A spec of one chart or one layered chart.
 * @param width - The width available.
 * @param selected - The selected run ids.
 * @returns A new spec; `spec` is not changed.
 */
export function sized(
  spec: Spec,
  width: number,
  selected: ReadonlyArray<string>
): Spec {
  const params = ((spec.params as Spec[] | undefined) ?? []).filter(
    p => p.name !== SELECTED_PARAM
  );
  const config = (spec.config as Spec | undefined) ?? {};
  return {
    ...spec,
    params: [...params, { name: SELECTED_PARAM, value: [...selected] }],
    width,
    autosize: { type: 'fit-x', contains: 'padding' },
    // long branch names leave the plot room in a narrow view
    config: {
      ...config,
      legend: {
        labelLimit: width < NARROW ? 90 : 180,
        ...((config.legend as Spec | undefined) ?? {})
      }
    }
  };
}

/**
 * How many data rows a spec draws (in its data and its layers').
 *
 * @param spec - The spec.
 * @returns The count.
 */
export function pointCount(spec: Spec): number {
  const count = (data: unknown): number => {
    const values = (data as { values?: unknown[] } | undefined)?.values;
    return Array.isArray(values) ? values.length : 0;
  };
  let n = count(spec.data);
  for (const layer of (spec.layer as Spec[] | undefined) ?? []) {
    n += count(layer.data);
  }
  return n;
}

/** Above this many data rows a chart draws on a canvas (faster than SVG). */
export const SVG_MOST_POINTS = 500;

/**
 * SVG for small charts (its marks carry aria labels with the run's values,
 * which screen readers and tests read), canvas for large ones.
 *
 * @param spec - The spec.
 * @returns The vega-embed renderer.
 */
export function rendererFor(spec: Spec): 'svg' | 'canvas' {
  return pointCount(spec) > SVG_MOST_POINTS ? 'canvas' : 'svg';
}

/** Label integer positions only: each one when there are few. */
const MOST_LABELLED = 12;

/**
 * An axis of whole numbers (steps, commit order): no fractional ticks.
 *
 * @param positions - The values on the axis.
 * @returns The axis properties.
 */
function integerAxis(positions: number[]): Spec {
  const unique = [...new Set(positions)].sort((a, b) => a - b);
  return unique.length <= MOST_LABELLED
    ? { format: 'd', values: unique }
    : { format: 'd', tickMinStep: 1 };
}

const RUN_TOOLTIP = [
  { field: 'run', type: 'nominal' },
  { field: 'branch', type: 'nominal' },
  { field: 'message', type: 'nominal' }
];

/**
 * A metric across commits: a line per branch in time order, a point per run.
 *
 * @param rows - The compare table's rows.
 * @param metric - The metric.
 * @param xTitle - The x axis' title (translated).
 * @returns The spec, or null when no run has a numeric value.
 */
export function commitsSpec(
  rows: ReadonlyArray<Mlvc.ICompareRow>,
  metric: string,
  xTitle = 'commits, oldest first'
): Spec | null {
  const values = rows
    .filter(r => typeof r.metrics[metric] === 'number')
    .map(r => ({
      id: r.id,
      run: r.short_id,
      branch: r.branch ?? '',
      message: r.message,
      time: r.time,
      value: r.metrics[metric] as number
    }))
    .sort((a, b) => a.time.localeCompare(b.time))
    .map((v, order) => ({ ...v, order: order + 1 }));
  if (values.length === 0) {
    return null;
  }
  // commits in time order, evenly spaced (a sweep commits many in a second)
  const x = {
    field: 'order',
    type: 'quantitative',
    title: xTitle,
    axis: integerAxis(values.map(v => v.order))
  };
  const y = {
    field: 'value',
    type: 'quantitative',
    title: `metrics.${metric}`,
    scale: { zero: false }
  };
  return {
    $schema: SCHEMA,
    description: `mlvc compare: metrics.${metric} across commits, a line per branch`,
    data: { values },
    params: [{ name: SELECTED_PARAM, value: [] }],
    height: 220,
    layer: [
      {
        mark: { type: 'line', opacity: 0.5 },
        encoding: { x, y, color: COLOR, detail: { field: 'branch' } }
      },
      {
        mark: { type: 'point', filled: true, size: 60, cursor: 'pointer' },
        encoding: {
          x,
          y,
          color: COLOR,
          ...OUTLINE,
          tooltip: [
            ...RUN_TOOLTIP,
            { field: 'time', type: 'temporal', format: '%Y-%m-%d %H:%M' },
            { field: 'value', type: 'quantitative', title: metric }
          ]
        }
      }
    ]
  };
}
