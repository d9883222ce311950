/**
 * The Diff view's variables and data: the presenter's words from the server (the
 * same as `mlvc diff` and `%mlvc diff`), a model's or frame's lines one a line, and
 * data hashes without their `blake3:` prefix, in full on hover, with sizes.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import {
  DiffView,
  headline,
  shortHash,
  whatChanged
} from '../components/DiffView';
import { Mlvc } from '../tokens';

function fill(text: string, args: unknown[]): string {
  return text.replace(/%(\d+)/g, (_, n) => String(args[Number(n) - 1]));
}
const trans = {
  __: (text: string, ...args: unknown[]) => fill(text, args),
  _n: (one: string, many: string, n: number, ...args: unknown[]) =>
    fill(n === 1 ? one : many, [n, ...args])
} as unknown as TranslationBundle;

type Variable = Mlvc.IDiff['variables'][number];

const frame: Variable = {
  name: 'df',
  status: 'changed',
  a: { type: 'pandas.DataFrame', shape: [3, 2] },
  b: { type: 'pandas.DataFrame', shape: [4, 2] },
  kind: 'frame',
  lines: ['rows: 3 -> 4', 'columns changed: y'],
  change:
    'DataFrame (3, 2) → DataFrame (4, 2) · rows: 3 → 4 · columns changed: y',
  segments_changed: ['data'],
  segments_total: 1
};

describe('whatChanged', () => {
  it("uses the presenter's words, one part a line, not parts and bytes", () => {
    expect(whatChanged(frame, trans)).toEqual([
      'DataFrame (3, 2) → DataFrame (4, 2)',
      'rows: 3 → 4',
      'columns changed: y'
    ]);
  });

  it('adds the semantic lines the presenter cut', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `layer${i}.weight`);
    const model: Variable = {
      name: 'model',
      status: 'changed',
      a: { type: 'torch.nn.Linear' },
      b: { type: 'torch.nn.Linear' },
      kind: 'tensors',
      lines,
      change: ['Linear', ...lines.slice(0, 8)].join(' · ')
    };
    expect(whatChanged(model, trans)).toEqual(['Linear', ...lines]);
  });

  it("leaves other kinds' lines out (the presenter already said them)", () => {
    const w: Variable = {
      name: 'w',
      status: 'changed',
      a: { type: 'numpy.ndarray' },
      b: { type: 'numpy.ndarray' },
      kind: 'array',
      lines: ['values: 100.0% of values changed, max |delta| 1'],
      change: 'ndarray float64 (4,) · 100% of values changed, max |Δ| 1'
    };
    expect(whatChanged(w, trans)).toEqual([
      'ndarray float64 (4,)',
      '100% of values changed, max |Δ| 1'
    ]);
  });

  it('falls back to the numbers from an older server', () => {
    const old: Variable = {
      name: 'x',
      status: 'changed',
      a: { value: 1 },
      b: { value: 2 }
    };
    expect(whatChanged(old, trans)).toEqual(['1 → 2']);
    expect(whatChanged({ ...old, status: 'unchanged' }, trans)).toEqual([]);
  });
});

describe('headline', () => {
  it('caps a long message at its first line and 80 characters', () => {
    expect(headline('fit\n\nlong body')).toBe('fit');
    expect(headline('x'.repeat(200))).toBe(`${'x'.repeat(79)}…`);
  });
});

describe('shortHash', () => {
  it('drops the algorithm prefix', () => {
    expect(shortHash('blake3:0123456789abcdef')).toBe('0123456789');
    expect(shortHash(undefined)).toBe('—');
  });
});

describe('DiffView', () => {
  it('shows the lines and the data sides with full hashes on hover', () => {
    const side = (id: string) => ({
      id,
      short_id: id.slice(0, 7),
      message: `m ${id}`,
      author: 'ana',
      time: '2026-01-01T00:00:00+00:00',
      branch: 'main'
    });
    const diff = {
      a: side('aaaaaaaaaa'),
      b: side('bbbbbbbbbb'),
      params: [],
      metrics: [],
      variables: [frame],
      data: [
        {
          path: 'data/train.csv',
          status: 'changed',
          a: { hash: 'blake3:1111111111ffff', size: 2048 },
          b: { hash: 'blake3:0000000000eeee', size: 4096 }
        }
      ],
      env: { changed: [], unchanged: 0 },
      hardware: { changed: [], unchanged: 0 },
      notebook: { status: 'unchanged' }
    } as unknown as Mlvc.IDiff;
    const html = renderToStaticMarkup(<DiffView diff={diff} trans={trans} />);
    expect(html).toContain('<li>rows: 3 → 4</li>');
    expect(html).toContain('<li>columns changed: y</li>');
    expect(html).not.toContain('parts');
    expect(html).toContain('title="blake3:1111111111ffff"');
    expect(html).toContain('<code>1111111111</code> (2.0 KiB)');
    expect(html).toContain('<code>0000000000</code> (4.0 KiB)');
  });
});
