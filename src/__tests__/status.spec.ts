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

  it('falls back on the current branch of the history', () => {
    expect(say({ branch: null })?.text).toBe('main');
    expect(say({ branch: null, branches: [] })?.text).toBe('…');
  });
});
