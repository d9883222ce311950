/**
 * The Compare view's Vega-Lite charts: the selection marked in the spec's data,
 * and the chart tabs.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { rendererFor, withSelection } from '../charts';
import { CompareView } from '../components/CompareView';
import { completions, filterWords, queryNames, splitFilter } from '../query';

const trans = {
  __: (text: string) => text,
  _n: (one: string) => one
} as unknown as TranslationBundle;

describe('withSelection', () => {
  it('marks the selected runs in the data and in each layer', () => {
    const spec = {
      data: { values: [{ id: 'a' }, { id: 'b' }] },
      layer: [{ data: { values: [{ id: 'b', axis: 'x' }] } }, { mark: 'text' }]
    };
    const out = withSelection(spec, ['b']) as any;
    expect(out.data.values).toEqual([
      { id: 'a', selected: false },
      { id: 'b', selected: true }
    ]);
    expect(out.layer[0].data.values[0]).toEqual({
      id: 'b',
      axis: 'x',
      selected: true
    });
    expect(out.layer[1]).toEqual({ mark: 'text' });
    // the spec given is not changed
    expect((spec.data.values[1] as any).selected).toBeUndefined();
  });
});

describe('CompareView charts', () => {
  it('offers the scatter and parallel coordinates as tabs', () => {
    const html = renderToStaticMarkup(
      <CompareView
        compare={{ rows: [], columns: { params: [], metrics: [] }, best: {} }}
        charts={{ scatter: { data: { values: [] } }, parallel: null }}
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
