/**
 * The views rendered to HTML (no DOM needed): the commit graph, the notebook
 * diff's folding and line diffs, and the compare view's columns and selection.
 */
// The panel's heading draws this icon; its ES module is not compiled for Jest.
jest.mock('@jupyterlab/ui-components', () => ({
  notebookIcon: { react: () => null }
}));

import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { CommitList, graphLayout } from '../components/CommitList';
import { CompareView } from '../components/CompareView';
import { ExperimentsView, formatClock } from '../components/ExperimentsView';
import { NotebookDiff } from '../components/DiffView';
import { ExperimentsModel, filterCommits, foldSafety } from '../model';
import { Mlvc } from '../tokens';

/** JupyterLab's null translation: %1, %2... replaced by the arguments. */
function fill(text: string, args: unknown[]): string {
  return text.replace(/%(\d+)/g, (_, n) => String(args[Number(n) - 1]));
}
const trans = {
  __: (text: string, ...args: unknown[]) => fill(text, args),
  _n: (one: string, many: string, n: number, ...args: unknown[]) =>
    fill(n === 1 ? one : many, [n, ...args])
} as unknown as TranslationBundle;

function commit(
  id: string,
  parents: string[],
  extra: Partial<Mlvc.ICommitSummary> = {}
): Mlvc.ICommitSummary {
  return {
    id,
    short_id: id.slice(0, 7),
    message: `commit ${id}`,
    author: 'ana',
    email: 'ana@example.org',
    status: 'ok',
    time: '2026-01-01T00:00:00+00:00',
    branch: 'main',
    notebook: 'nb.ipynb',
    params: {},
    metrics: {},
    parents,
    branches: [],
    tags: [],
    variables: [],
    ...extra
  };
}

describe('graphLayout', () => {
  it('keeps a linear history in one lane', () => {
    const { rows, width } = graphLayout([
      commit('c', ['b']),
      commit('b', ['a']),
      commit('a', [])
    ]);
    expect(width).toBe(1);
    expect(rows.map(r => r.col)).toEqual([0, 0, 0]);
    expect(rows[0]).toEqual({ col: 0, up: [], through: [], down: [0] });
    expect(rows[1].up).toEqual([0]);
    expect(rows[2].down).toEqual([]);
  });

  it('gives a branch its own lane that joins at the fork', () => {
    // x and y both branch off a; y is on a second lane that ends in a.
    const { rows, width } = graphLayout([
      commit('y', ['a']),
      commit('x', ['a']),
      commit('a', [])
    ]);
    expect(width).toBe(2);
    expect(rows[0]).toEqual({ col: 0, up: [], through: [], down: [0] });
    // x starts a new lane and goes straight to the lane already waiting for a.
    expect(rows[1]).toEqual({ col: 1, up: [], through: [0], down: [0] });
    expect(rows[2]).toEqual({ col: 0, up: [0], through: [], down: [] });
  });

  it('opens a lane per extra parent of a merge', () => {
    const { rows } = graphLayout([
      commit('m', ['a', 'b']),
      commit('b', ['a']),
      commit('a', [])
    ]);
    expect(rows[0].down).toEqual([0, 1]);
    expect(rows[1]).toEqual({ col: 1, up: [1], through: [0], down: [0] });
    expect(rows[2].up).toEqual([0]);
  });

  it('draws one dot per commit and lines only between loaded commits', () => {
    const html = renderToStaticMarkup(
      <CommitList
        commits={[commit('c', ['b']), commit('b', ['a'])]}
        trans={trans}
      />
    );
    expect(html.match(/<circle/g)).toHaveLength(2);
    // b's parent a is not loaded: its line still runs to the bottom of the row.
    expect(html).toContain('y2="100%"');
  });

  it('shows dots without lines when a filter hides commits', () => {
    const all = [commit('c', ['b']), commit('b', ['a']), commit('a', [])];
    const html = renderToStaticMarkup(
      <CommitList commits={[all[0], all[2]]} all={all} trans={trans} />
    );
    expect(html.match(/<circle/g)).toHaveLength(2);
    expect(html).not.toContain('<line');
  });

  it('shows as many headline metrics as asked', () => {
    const c = commit('c', [], { metrics: { acc: 0.9, loss: 0.1, f1: 0.8 } });
    const one = renderToStaticMarkup(
      <CommitList commits={[c]} trans={trans} headlineMetrics={1} />
    );
    expect(one).toContain('acc 0.9');
    expect(one).not.toContain('loss');
  });
});

describe('safety commits', () => {
  // d was committed on top of the safety commit s, which protected b
  const history = [
    commit('d', ['s']),
    commit('s', ['b'], { kind: 'safety', message: 'Before checkout of main' }),
    commit('b', ['a']),
    commit('a', [])
  ];

  it('fold under the commit they protected, keeping the graph connected', () => {
    const { visible, folded } = foldSafety(history, new Set());
    expect(visible.map(c => c.id)).toEqual(['d', 'b', 'a']);
    expect(visible[0].parents).toEqual(['b']);
    expect(folded.get('b')).toEqual(['s']);
    const html = renderToStaticMarkup(
      <CommitList
        commits={visible}
        all={visible}
        folded={folded}
        expanded={new Set()}
        onToggleFold={() => undefined}
        trans={trans}
      />
    );
    expect(html).toContain('▸ 1 safety commit');
    expect(html).toContain('aria-expanded="false"');
    expect(html).not.toContain('Before checkout');
    expect(html.match(/<line/g)?.length).toBeGreaterThan(0); // lanes, not dots only
  });

  it('show when their commit is expanded, marked as safety', () => {
    const { visible, folded } = foldSafety(history, new Set(['b']));
    expect(visible.map(c => c.id)).toEqual(['d', 's', 'b', 'a']);
    const html = renderToStaticMarkup(
      <CommitList
        commits={visible}
        all={visible}
        folded={folded}
        expanded={new Set(['b'])}
        onToggleFold={() => undefined}
        trans={trans}
      />
    );
    expect(html).toContain('▾ 1 safety commit');
    expect(html).toContain('jp-mlvc-mod-safety');
    expect(html).toContain('jp-mlvc-chip-safety');
  });

  it('are kept or left out by the filter by kind', () => {
    expect(filterCommits(history, 'kind:safety').map(c => c.id)).toEqual(['s']);
    expect(filterCommits(history, '-kind:safety').map(c => c.id)).toEqual([
      'd',
      'b',
      'a'
    ]);
    expect(
      filterCommits(history, 'kind:commit commit b').map(c => c.id)
    ).toEqual(['b']);
  });
});

describe('HEAD', () => {
  it('marks the row of the commit the notebook is at', () => {
    const all = [commit('b', ['a']), commit('a', [])];
    const html = renderToStaticMarkup(
      <CommitList commits={all} head="a" trans={trans} />
    );
    expect(html.match(/Checked out \(HEAD\)/g)).toHaveLength(1);
    const rows = html.split('<li ').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain('jp-mlvc-mod-head');
    expect(rows[0]).not.toContain('jp-mlvc-mod-head');
  });
});

function side(source: string, outputs: string[] = []): Mlvc.ICellSide {
  return {
    source,
    execution_count: 1,
    outputs: outputs.map(text => ({ kind: 'stream', text }))
  };
}

describe('NotebookDiff', () => {
  const cell_view: Mlvc.ICellPair[] = [
    { status: 'unchanged', cell_type: 'code', a: side('a'), b: side('a') },
    { status: 'unchanged', cell_type: 'code', a: side('b'), b: side('b') },
    {
      status: 'modified',
      cell_type: 'code',
      a: side('C = 1\nfit()'),
      b: side('C = 2\nfit()'),
      lines: [
        ['-', 'C = 1'],
        ['+', 'C = 2'],
        [' ', 'fit()']
      ]
    },
    {
      status: 'outputs',
      cell_type: 'code',
      a: side('print(acc)', ['0.91']),
      b: side('print(acc)', ['0.95'])
    },
    { status: 'added', cell_type: 'markdown', b: side('# Notes') }
  ];
  const notebook: Mlvc.IDiff['notebook'] = {
    status: 'changed',
    path_a: 'nb.ipynb',
    path_b: 'nb.ipynb',
    cells: { added: 1, removed: 0, modified: 1, outputs_changed: 1 },
    cell_view
  };

  it('folds unchanged cells and hides outputs by default', () => {
    const html = renderToStaticMarkup(
      <NotebookDiff notebook={notebook} trans={trans} />
    );
    expect(html).toContain('2 unchanged cells');
    expect(html).toContain('1 unchanged cell (1 with new outputs)');
    expect(html).toContain('jp-mlvc-line jp-mlvc-removed');
    expect(html).toContain('C = 2');
    expect(html).toContain('# Notes');
    expect(html).not.toContain('0.95');
    expect(html).toContain('aria-label="Cell 3, modified"');
    expect(html).toContain('aria-label="Cell 5, added"');
  });

  it('shows outputs and execution counts when asked', () => {
    const html = renderToStaticMarkup(
      <NotebookDiff notebook={notebook} trans={trans} showOutputs={true} />
    );
    expect(html).toContain('0.91');
    expect(html).toContain('0.95');
    expect(html).toContain('Cell 4, outputs changed');
    expect(html).toContain('[1] → [1]');
  });

  it('says when the notebook did not change', () => {
    const html = renderToStaticMarkup(
      <NotebookDiff
        notebook={{
          status: 'unchanged',
          path_a: 'nb.ipynb',
          path_b: 'nb.ipynb'
        }}
        trans={trans}
      />
    );
    expect(html).toContain('unchanged');
    expect(html).not.toContain('jp-mlvc-cell');
  });
});

describe('CompareView', () => {
  const rows = [
    commit('a'.repeat(40), [], {
      time: '2026-01-01T00:00:00+00:00',
      params: { C: 1 },
      metrics: { acc: 0.9 }
    }),
    commit('b'.repeat(40), [], {
      time: '2026-01-02T00:00:00+00:00',
      params: { C: 2 },
      metrics: { acc: 0.95 }
    })
  ];
  const compare: Mlvc.ICompare = {
    rows,
    columns: { params: ['C'], metrics: ['acc'] },
    best: { acc: { goal: 'max', value: 0.95, ids: ['b'.repeat(40)] } }
  };

  it('marks the best value and the selected rows', () => {
    const html = renderToStaticMarkup(
      <CompareView
        compare={compare}
        selected={[rows[0].id]}
        onToggle={() => undefined}
        trans={trans}
      />
    );
    expect(html).toContain('jp-mlvc-best');
    expect(html.match(/jp-mlvc-selectedRow/g)).toHaveLength(1);
    expect(html).toContain('aria-label="Select aaaaaaa"');
    expect(html).toContain('Columns (2 of 2)');
    expect(html).toContain('acc across commits');
    // Diff needs two selected rows.
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*>Diff selected/);
  });

  it('enables Diff with two rows and offers the step chart when steps exist', () => {
    const series: Mlvc.ISeries = {
      series: {
        acc: {
          goal: 'max',
          points: [],
          steps: [
            {
              id: rows[1].id,
              short_id: 'bbbbbbb',
              steps: [
                [1, 0.5],
                [2, 0.9]
              ]
            }
          ]
        }
      },
      // the chart of the steps, built by the server (render.steps_vegalite)
      vegalite: { acc: { mark: 'line', data: { values: [] } } }
    };
    const html = renderToStaticMarkup(
      <CompareView
        compare={compare}
        series={series}
        selected={[rows[0].id, rows[1].id]}
        onToggle={() => undefined}
        onDiff={() => undefined}
        trans={trans}
      />
    );
    expect(html).not.toMatch(/<button[^>]*disabled=""[^>]*>Diff selected/);
    expect(html).not.toMatch(/type="radio"[^>]*disabled=""/);
    // steps without the server's chart (an older server): not offered
    const older = renderToStaticMarkup(
      <CompareView
        compare={compare}
        series={{ series: series.series }}
        trans={trans}
      />
    );
    expect(older).toMatch(/type="radio"[^>]*disabled=""/);
  });
});

describe('a running sweep in the panel', () => {
  const actions = {
    commit: async () => true,
    select: () => undefined,
    filter: () => undefined,
    switchBranch: () => undefined,
    newBranch: () => undefined,
    diff: () => undefined,
    compare: () => undefined,
    loadMore: () => undefined,
    menu: () => undefined,
    cancelSweep: () => undefined
  };
  const base = { ...new ExperimentsModel().state, notebookPath: 'nb.ipynb' };

  it('formats the time left as mlvc sweep prints it', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(59.6)).toBe('1:00');
    expect(formatClock(3725)).toBe('1:02:05');
  });

  it('shows runs ended, the time left, the last run and Cancel', () => {
    const html = renderToStaticMarkup(
      <ExperimentsView
        trans={trans}
        actions={actions}
        state={{
          ...base,
          busy: 'sweep',
          progress: {
            phase: 'lr=0.1: ok 1234abcd',
            done: 2,
            total: 6,
            eta: 125,
            cancellable: true
          }
        }}
      />
    );
    expect(html).toContain('Sweep: 2 of 6 runs ended');
    expect(html).toContain('about 2:05 left');
    expect(html).toContain('Last: lr=0.1: ok 1234abcd');
    expect(html).toMatch(
      /<button[^>]*jp-mlvc-sweepCancel[^>]*>Cancel<\/button>/
    );
  });

  it('says it is cancelling, with Cancel disabled', () => {
    const html = renderToStaticMarkup(
      <ExperimentsView
        trans={trans}
        actions={actions}
        state={{
          ...base,
          busy: 'sweep',
          progress: {
            phase: 'x',
            done: 2,
            total: 6,
            eta: 125,
            cancellable: false,
            cancelling: true
          }
        }}
      />
    );
    expect(html).toContain('Cancelling the sweep: stopping its runs');
    expect(html).not.toContain('left');
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*>Cancelling…<\/button>/);
  });
});
