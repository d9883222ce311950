/**
 * The model's behaviour against a mocked request layer.
 */
jest.mock('../api', () => {
  class MlvcRequestError extends Error {
    constructor(
      message: string,
      readonly status: number
    ) {
      super(message);
    }
  }
  return {
    MlvcRequestError,
    fetchLogPage: jest.fn(),
    fetchLogIfChanged: jest.fn(),
    fetchStatus: jest.fn(),
    initStore: jest.fn(),
    createCommit: jest.fn(),
    createBranch: jest.fn(),
    switchBranch: jest.fn(),
    createTag: jest.fn(),
    checkout: jest.fn(),
    restoreVariables: jest.fn(),
    fetchCommit: jest.fn(),
    fetchCompare: jest.fn(),
    fetchDiff: jest.fn(),
    startSweep: jest.fn(),
    fetchJob: jest.fn(),
    cancelJob: jest.fn()
  };
});

import * as api from '../api';
import { ExperimentsModel, filterCommits, PAGE_SIZE } from '../model';
import { Mlvc } from '../tokens';

const mocked = api as jest.Mocked<typeof api>;

function summary(
  id: string,
  extra: Partial<Mlvc.ICommitSummary> = {}
): Mlvc.ICommitSummary {
  return {
    id: id.repeat(40),
    short_id: id.repeat(7),
    message: `commit ${id}`,
    author: 'ana',
    email: 'ana@example.org',
    status: 'ok',
    time: '2026-01-01T00:00:00+00:00',
    branch: 'main',
    notebook: 'nb.ipynb',
    params: {},
    metrics: {},
    parents: [],
    branches: [],
    tags: [],
    variables: [],
    ...extra
  };
}

const B = summary('b', { parents: ['a'.repeat(40)], tags: ['champion'] });
const A = summary('a', { variables: ['model'] });

function log(
  commits: Mlvc.ICommitSummary[],
  hasMore = false
): Mlvc.ILogResponse {
  return {
    initialized: true,
    commits,
    branches: [{ name: 'main', head: commits[0]?.id ?? null, current: true }],
    tags: [],
    skip: 0,
    limit: 100,
    has_more: hasMore
  };
}

beforeEach(() => {
  jest.resetAllMocks();
  mocked.fetchStatus.mockResolvedValue({ initialized: true, kernel: 'idle' });
});

describe('ExperimentsModel', () => {
  it('catches up with a changed history without a loading state, and asks with the last ETag', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([A]));
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    const states: string[] = [];
    model.stateChanged.connect((_, s) => states.push(s.status));
    mocked.fetchStatus.mockResolvedValue({
      initialized: true,
      kernel: 'idle',
      branch: 'other'
    });
    mocked.fetchLogIfChanged.mockResolvedValueOnce({
      log: log([B, A]),
      etag: '"e1"'
    });
    await model.catchUp();
    expect(mocked.fetchLogIfChanged).toHaveBeenLastCalledWith(
      'nb.ipynb',
      PAGE_SIZE,
      null,
      undefined
    );
    expect(model.state.commits.map(c => c.id)).toEqual([B.id, A.id]);
    expect(model.state.branch).toBe('other'); // the selector follows the branch
    expect(states).not.toContain('loading');

    // unchanged: a 304 leaves everything as it is and fetches no status
    mocked.fetchStatus.mockClear();
    mocked.fetchLogIfChanged.mockResolvedValueOnce(null);
    const before = model.state;
    await model.catchUp();
    expect(mocked.fetchLogIfChanged).toHaveBeenLastCalledWith(
      'nb.ipynb',
      PAGE_SIZE,
      '"e1"',
      undefined
    );
    expect(model.state).toBe(before);
    expect(mocked.fetchStatus).not.toHaveBeenCalled();
  });

  it('knows where the notebook is: HEAD and whether it is detached', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([B, A]));
    mocked.fetchStatus.mockResolvedValue({
      initialized: true,
      kernel: 'idle',
      branch: 'main',
      head: A.id,
      detached: true
    });
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    await model.refreshStatus();
    expect(model.state.head).toBe(A.id);
    expect(model.state.detached).toBe(true);
  });

  it('runs a catch-up asked for during one once after it, and keeps the history on failure', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([A]));
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    let release: (v: api.ILogAnswer | null) => void = () => undefined;
    mocked.fetchLogIfChanged
      .mockImplementationOnce(() => new Promise(r => (release = r)))
      .mockRejectedValueOnce(new api.MlvcRequestError('gone', 0));
    const first = model.catchUp();
    void model.catchUp();
    void model.catchUp();
    release({ log: log([B, A]), etag: '"e2"' });
    await first;
    await new Promise(r => setTimeout(r, 0));
    expect(mocked.fetchLogIfChanged).toHaveBeenCalledTimes(2);
    expect(model.state.commits.map(c => c.id)).toEqual([B.id, A.id]);
    expect(model.state.status).toBe('ready');
  });

  it('loads the first page when a notebook comes into focus', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([B, A]));
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    expect(mocked.fetchLogPage).toHaveBeenCalledWith(
      'nb.ipynb',
      PAGE_SIZE,
      0,
      undefined
    );
    expect(model.state.status).toBe('ready');
    expect(model.state.commits.map(c => c.id)).toEqual([B.id, A.id]);
    expect(model.state.branches[0].name).toBe('main');
  });

  it('reports a failed fetch as an error state', async () => {
    mocked.fetchLogPage.mockRejectedValue(
      new api.MlvcRequestError('store is locked', 500)
    );
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    expect(model.state.status).toBe('error');
    expect(model.state.error).toBe('store is locked');
  });

  it('loads more commits after the ones it has', async () => {
    mocked.fetchLogPage
      .mockResolvedValueOnce(log([B], true))
      .mockResolvedValueOnce(log([A], false));
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    expect(model.state.hasMore).toBe(true);
    await model.loadMore();
    expect(mocked.fetchLogPage).toHaveBeenLastCalledWith(
      'nb.ipynb',
      PAGE_SIZE,
      1,
      undefined
    );
    expect(model.state.commits.map(c => c.id)).toEqual([B.id, A.id]);
    expect(model.state.hasMore).toBe(false);
  });

  it('follows the settings: page size, and headline metrics kept across notebooks', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([B, A]));
    const model = new ExperimentsModel();
    model.configure({ pageSize: 250, headlineMetrics: 1 });
    await model.setNotebook('nb.ipynb');
    expect(mocked.fetchLogPage).toHaveBeenLastCalledWith(
      'nb.ipynb',
      250,
      0,
      undefined
    );
    await model.setNotebook('other.ipynb');
    expect(model.state.headlineMetrics).toBe(1);
  });

  it('says what happened through its translation bundle', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([B, A]));
    mocked.createCommit.mockResolvedValue({
      commit: B,
      kernel: 'none',
      skipped: {}
    } as any);
    const said: string[] = [];
    const trans = {
      __: (text: string, ...args: unknown[]) => {
        said.push(text);
        return `<${text}>${args.join(',')}`;
      }
    } as any;
    const model = new ExperimentsModel(undefined, trans);
    await model.setNotebook('nb.ipynb');
    await model.commit('try');
    expect(said).toContain(
      'Committed %1: no kernel, the notebook alone was committed'
    );
    expect(model.state.result).toBe(
      `<Committed %1: no kernel, the notebook alone was committed>${B.short_id}`
    );
  });

  it('selects one row, or two with the additive click, older first in a diff', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([B, A]));
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    expect(model.diffPair()).toBeNull();
    model.select(B.id);
    // One selected: diff with its parent.
    expect(model.diffPair()).toEqual([A.id, B.id]);
    model.select(A.id);
    expect(model.state.selected).toEqual([A.id]);
    expect(model.diffPair()).toBeNull(); // A has no parent
    model.select(B.id, true);
    expect(model.state.selected).toEqual([A.id, B.id]);
    expect(model.diffPair()).toEqual([A.id, B.id]);
    model.select(A.id, true);
    expect(model.state.selected).toEqual([B.id]);
  });

  it('saves, commits and refreshes; says when there was no kernel', async () => {
    mocked.fetchLogPage
      .mockResolvedValueOnce(log([]))
      .mockResolvedValueOnce(log([A]));
    mocked.createCommit.mockResolvedValue({
      commit: A,
      kernel: 'none',
      skipped: {},
      note: 'no kernel: the notebook alone was committed'
    });
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    const busy: (string | null)[] = [];
    model.stateChanged.connect((_, s) => busy.push(s.busy));
    const save = jest.fn().mockResolvedValue(undefined);
    const made = await model.commit('first', save);
    expect(save).toHaveBeenCalled();
    expect(mocked.createCommit).toHaveBeenCalledWith(
      'nb.ipynb',
      'first',
      undefined
    );
    expect(made?.commit.id).toBe(A.id);
    expect(busy[0]).toBe('commit');
    expect(model.state.busy).toBeNull();
    expect(model.state.result).toContain('no kernel');
    expect(model.state.commits).toHaveLength(1);
  });

  it('keeps a failed commit as an action error', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([A]));
    mocked.createCommit.mockRejectedValue(
      new api.MlvcRequestError('kernel busy', 409)
    );
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    expect(await model.commit('x')).toBeNull();
    expect(model.state.actionError).toBe('kernel busy');
    expect(model.state.busy).toBeNull();
  });

  it('does not commit an empty message', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([A]));
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    expect(await model.commit('   ')).toBeNull();
    expect(mocked.createCommit).not.toHaveBeenCalled();
  });

  it('checks out and reports the safety commit', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([B, A]));
    mocked.checkout.mockResolvedValue({
      commit: A.id,
      branch: 'main',
      safety_commit: 'c'.repeat(40),
      notebook_written: true,
      variables_restored: ['model'],
      skipped: {},
      failed: {},
      kernel: 'used',
      data: null
    });
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    const out = await model.checkout(A.id, 'both');
    expect(mocked.checkout).toHaveBeenCalledWith(
      'nb.ipynb',
      A.id,
      'both',
      undefined,
      []
    );
    expect(out?.notebook_written).toBe(true);
    expect(model.state.result).toContain('safety commit ccccccc');
  });

  it('checks out with the data files chosen, and says how many came back', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([B, A]));
    mocked.checkout.mockResolvedValue({
      commit: A.id,
      branch: 'main',
      safety_commit: null,
      notebook_written: true,
      variables_restored: [],
      skipped: {},
      failed: {},
      kernel: 'used',
      data: {
        commit: A.id,
        restored: ['data/t.csv'],
        unchanged: [],
        not_captured: [],
        safety_copies: {},
        bytes: 13,
        dry_run: false,
        sizes: { 'data/t.csv': 13 },
        current_sizes: {},
        safety: null
      }
    });
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    await model.checkout(A.id, 'notebook', ['data/t.csv']);
    expect(mocked.checkout).toHaveBeenCalledWith(
      'nb.ipynb',
      A.id,
      'notebook',
      undefined,
      ['data/t.csv']
    );
    expect(model.state.result).toContain('1 data file(s) put back');
  });

  it('knows the branch and whether the notebook changed since the last commit', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([B, A]));
    mocked.fetchStatus.mockResolvedValue({
      initialized: true,
      kernel: 'idle',
      branch: 'wide-c',
      notebook_changed: true,
      data_changed: false
    });
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(model.state.branch).toBe('wide-c');
    expect(model.state.changed).toBe(true);

    // After a save: the status alone is fetched again, not the history.
    mocked.fetchStatus.mockResolvedValue({
      initialized: true,
      kernel: 'idle',
      branch: 'wide-c',
      notebook_changed: false,
      data_changed: false
    });
    await model.refreshStatus();
    expect(model.state.changed).toBe(false);
    expect(mocked.fetchLogPage).toHaveBeenCalledTimes(1);
    expect(mocked.fetchStatus).toHaveBeenCalledTimes(2);

    // No store: not known.
    mocked.fetchStatus.mockResolvedValue({
      initialized: false,
      kernel: 'none'
    });
    await model.refreshStatus();
    expect(model.state.changed).toBeNull();
    expect(model.state.branch).toBeNull();
  });
});

describe('filterCommits', () => {
  it('matches message, tag and variable names, all words', () => {
    expect(filterCommits([B, A], 'champ')).toEqual([B]);
    expect(filterCommits([B, A], 'model')).toEqual([A]);
    expect(filterCommits([B, A], 'COMMIT b')).toEqual([B]);
    expect(filterCommits([B, A], '')).toEqual([B, A]);
  });
});

describe('sweeps from the panel', () => {
  function job(extra: Partial<Mlvc.IJob>): Mlvc.IJob {
    return {
      id: 'f00d',
      kind: 'sweep',
      state: 'running',
      phase: 'lr=0.1: ok 1234abcd',
      done: 1,
      total: 3,
      eta: 42,
      cancellable: true,
      started: '2026-01-01T00:00:00+00:00',
      ...extra
    };
  }
  const outcome = (status: string) => ({
    params: {},
    branch: `sweep/s/${status}`,
    status,
    commit: status === 'ok' ? 'c'.repeat(40) : null,
    error: null,
    seconds: 1
  });

  it('shows the ETA, cancels the job and says what ran', async () => {
    mocked.fetchLogPage.mockResolvedValue(log([A]));
    const ended = job({
      state: 'cancelled',
      phase: 'cancelled',
      eta: null,
      cancellable: false,
      result: {
        outcomes: [outcome('ok'), outcome('cancelled'), outcome('cancelled')]
      } as Mlvc.IJob['result']
    });
    mocked.startSweep.mockResolvedValue(job({}));
    mocked.cancelJob.mockResolvedValue(ended);
    mocked.fetchJob.mockResolvedValue(ended);
    const model = new ExperimentsModel();
    await model.setNotebook('nb.ipynb');
    const states: (typeof model.state)[] = [];
    model.stateChanged.connect((_, s) => states.push(s));
    const running = model.sweep({ params: { lr: [0.1, 0.2, 0.3] }, jobs: 1 });
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(model.state.busy).toBe('sweep');
    expect(model.state.progress).toMatchObject({
      done: 1,
      total: 3,
      eta: 42,
      cancellable: true
    });
    await model.cancelSweep();
    expect(mocked.cancelJob).toHaveBeenCalledWith(
      'nb.ipynb',
      'f00d',
      undefined
    );
    expect(states.some(s => s.progress?.cancelling)).toBe(true);
    await running;
    expect(mocked.fetchJob).toHaveBeenCalled();
    expect(model.state.busy).toBeNull();
    expect(model.state.progress).toBeNull();
    expect(model.state.result).toBe(
      'Sweep cancelled: 3 runs (1 ok, 2 cancelled). Start it again to run only the missing ones.'
    );
    // no sweep runs now: nothing to cancel
    await model.cancelSweep();
    expect(mocked.cancelJob).toHaveBeenCalledTimes(1);
  });
});
