/**
 * What the status-bar item says for each state of the model.
 */
// The widget is not rendered here; its module needs these names only.
jest.mock('@jupyterlab/ui-components', () => ({
  historyIcon: {},
  ReactWidget: class {},
  UseSignal: () => null
}));

import { plainTranslation } from '../model';
import type { IExperimentsState } from '../model';
import { statusText } from '../status';

const BASE: IExperimentsState = {
  notebookPath: 'nb.ipynb',
  status: 'ready',
  initialized: true,
  commits: [],
  error: null,
  branches: [{ name: 'main', head: null, current: true }],
  tags: [],
  hasMore: false,
  selected: [],
  filter: '',
  busy: null,
  result: null,
  actionError: null,
  kernel: 'idle',
  pending: null,
  branch: 'main',
  head: null,
  detached: false,
  changed: null,
  headlineMetrics: 3,
  remotes: [],
  progress: null
};

const say = (state: Partial<IExperimentsState>) =>
  statusText({ ...BASE, ...state }, plainTranslation);

describe('statusText', () => {
  it('says nothing without a notebook in focus', () => {
    expect(say({ notebookPath: null })).toBeNull();
  });

  it('says when the notebook has no store', () => {
    expect(say({ initialized: false })?.text).toBe('not versioned');
  });

  it('marks a notebook changed since its last commit', () => {
    expect(say({ branch: 'exp', changed: true })).toEqual({
      text: 'exp ●',
      description: 'Experiments: branch exp, changed since the last commit'
    });
    expect(say({ changed: false })).toEqual({
      text: 'main',
      description: 'Experiments: branch main, no change since the last commit'
    });
  });

  it('says "detached at" when the notebook is not at a branch tip', () => {
    const head = '0123456789abcdef0123456789abcdef01234567';
    expect(say({ branch: 'main', detached: true, head })).toEqual({
      text: 'detached at 01234567',
      description:
        'Experiments: detached at commit 01234567 (not a branch tip); the next commit starts a branch'
    });
    expect(
      say({ branch: 'main', detached: true, head, changed: true })?.text
    ).toBe('detached at 01234567 ●');
  });

  it('falls back on the current branch of the history', () => {
    expect(say({ branch: null })?.text).toBe('main');
    expect(say({ branch: null, branches: [] })?.text).toBe('…');
  });
});
