/**
 * The Compare view's Vega-Lite charts: the selection marked in the spec's data,
 * and the chart tabs.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { withSelection } from '../charts';
import { CompareView } from '../components/CompareView';

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
