/**
 * The Compare view's Vega-Lite charts: one chart of the scatter grid at a time,
 * sized to its container, the metric charts' specs, the theme's colours, and
 * the chart tabs.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { rendererFor, themeConfig } from '../charts';
import {
  commitsSpec,
  scatterPanel,
  scatterPanels,
  SELECTED_PARAM,
  sized
} from '../chartSpecs';
import { Mlvc } from '../tokens';
import { CompareView } from '../components/CompareView';
import { completions, filterWords, queryNames, splitFilter } from '../query';

const trans = {
  __: (text: string) => text,
  _n: (one: string) => one
} as unknown as TranslationBundle;

/** A scatter grid as the server builds it (render.compare_vegalite). */
const grid = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  data: { values: [{ id: 'a' }, { id: 'b' }] },
  params: [{ name: 'selected_runs', value: [] }],
  columns: 3,
  concat: [
    {
      title: 'acc vs lr',
      mark: 'point',
      encoding: { x: { title: 'params.lr' }, y: { title: 'metrics.acc' } }
    },
    {
      title: 'loss vs lr',
      mark: 'point',
      encoding: { x: { title: 'params.lr' }, y: { title: 'metrics.loss' } }
    }
  ]
};

describe('chart specs', () => {
  it('draws one chart of the scatter grid at a time', () => {
    expect(scatterPanels(grid)).toEqual([
      { x: 'params.lr', y: 'metrics.acc' },
      { x: 'params.lr', y: 'metrics.loss' }
    ]);
    const one = scatterPanel(grid, 1) as any;
    expect(one.concat).toBeUndefined();
    expect(one.columns).toBeUndefined();
    expect(one.title).toBe('loss vs lr');
    expect(one.data).toBe(grid.data);
    expect(one.params).toEqual(grid.params);
    // an index past the end: the last chart
    expect((scatterPanel(grid, 9) as any).title).toBe('loss vs lr');
  });

  it('sizes a chart to its container with the selection in its param', () => {
    const one = scatterPanel(grid, 0);
    const out = sized(one, 480, ['b']) as any;
    expect(out.width).toBe(480);
    expect(out.autosize).toEqual({ type: 'fit-x', contains: 'padding' });
    expect(out.params).toEqual([{ name: SELECTED_PARAM, value: ['b'] }]);
    // the spec given is not changed
    expect((one as any).params[0].value).toEqual([]);
  });

  const row = (id: string, branch: string, time: string, acc?: number) =>
    ({
      id,
      short_id: id.slice(0, 7),
      message: `run ${id}`,
      author: 'ana',
      time,
      branch,
      status: 'ok',
      branches: [],
      tags: [],
      params: {},
      metrics: acc === undefined ? {} : { acc }
    }) as Mlvc.ICompareRow;
  const rows = [
    row('b'.repeat(40), 'sweep/x', '2026-01-02T00:00:00Z', 0.9),
    row('a'.repeat(40), 'main', '2026-01-01T00:00:00Z', 0.8),
    row('c'.repeat(40), 'main', '2026-01-03T00:00:00Z')
  ];

  it('draws a metric across commits, oldest first, a line per branch', () => {
    const spec = commitsSpec(rows, 'acc') as any;
    expect(
      spec.data.values.map((v: any) => [v.run, v.branch, v.value])
    ).toEqual([
      ['aaaaaaa', 'main', 0.8],
      ['bbbbbbb', 'sweep/x', 0.9]
    ]);
    const [line, points] = spec.layer;
    expect(line.encoding.detail.field).toBe('branch');
    expect(points.encoding.color.field).toBe('branch');
    expect(points.encoding.y.title).toBe('metrics.acc');
    expect(points.encoding.tooltip[0].field).toBe('run');
    expect(points.encoding.stroke.condition.test).toContain(SELECTED_PARAM);
    // commits evenly spaced, whole numbers only on the axis
    expect(points.encoding.x.axis.values).toEqual([1, 2]);
    expect(commitsSpec(rows, 'loss')).toBeNull();
  });

  it('takes its colours from the JupyterLab theme', () => {
    const vars: { [name: string]: string } = {
      '--jp-layout-color0': ' #111111',
      '--jp-ui-font-color1': '#eeeeee',
      '--jp-border-color2': '#333333'
    };
    const config = themeConfig({
      getPropertyValue: (name: string) => vars[name] ?? ''
    }) as any;
    expect(config.background).toBe('#111111');
    expect(config.axis.titleColor).toBe('#eeeeee');
    expect(config.axis.gridColor).toBe('#333333');
    expect(config.legend.titleColor).toBe('#eeeeee');
    // unset variables fall back to light colours
    expect(config.axis.domainColor).toBe('#bdbdbd');
  });
});

describe('CompareView charts', () => {
  it('offers the scatter and parallel coordinates as tabs', () => {
    const html = renderToStaticMarkup(
      <CompareView
        compare={{ rows: [], columns: { params: [], metrics: [] }, best: {} }}
        charts={{ scatter: grid, parallel: null }}
        trans={trans}
      />
    );
    expect(html).toContain('role="tablist"');
    expect(html).toContain('Params vs metrics');
    expect(html).toContain('Parallel coordinates');
    expect(html).toContain('aria-selected="true"');
    expect(html).toContain('jp-mlvc-vegaHost');
  });
});

describe('the filter', () => {
  const c = (id: string, message: string, extra = {}) =>
    ({
      id,
      short_id: id,
      message,
      params: { lr: 0.1 },
      metrics: { acc: 0.9 },
      ...extra
    }) as any;

  it('splits query terms from words', () => {
    expect(
      splitFilter('metrics.acc > 0.9 best -branch ~ "sweep/*" run')
    ).toEqual({
      where: 'metrics.acc > 0.9 and not (branch ~ "sweep/*")',
      words: 'best run'
    });
    expect(splitFilter('just words -safety')).toEqual({
      where: null,
      words: 'just words -safety'
    });
    expect(splitFilter('params.C<=1').where).toBe('params.C <= 1');
  });

  it('excludes -words and completes names', () => {
    const commits = [c('a', 'first run'), c('b', 'safety net')];
    expect(filterWords(commits, '-safety').map(x => x.id)).toEqual(['a']);
    expect(filterWords(commits, 'run').map(x => x.id)).toEqual(['a']);
    const names = queryNames(commits);
    expect(names.slice(0, 2)).toEqual(['params.lr', 'metrics.acc']);
    expect(completions('best -met', names)).toEqual(['best -metrics.acc ']);
    expect(completions('metrics.acc ', names)).toEqual([]);
  });

  it('draws large charts on a canvas', () => {
    const values = (n: number) => ({ values: new Array(n).fill({}) });
    expect(rendererFor({ data: values(20) })).toBe('svg');
    expect(
      rendererFor({ layer: [{ data: values(400) }, { data: values(400) }] })
    ).toBe('canvas');
  });
});
