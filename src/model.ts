/**
 * The state of the Experiments panel, and the signals that announce its changes.
 */
import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  checkout,
  createBranch,
  createCommit,
  createTag,
  checkoutData,
  undoDataCheckout,
  fetchCommit,
  fetchDataDiff,
  fetchCompare,
  fetchCompareChart,
  fetchJob,
  startSweep,
  listJobs,
  cancelJob,
  fetchRemotes,
  fetchSeries,
  startSync,
  fetchDiff,
  fetchLogIfChanged,
  fetchLogPage,
  fetchStatus,
  initStore,
  MlvcRequestError,
  restoreVariables,
  switchBranch
} from './api';
import { Mlvc } from './tokens';

/**
 * What the panel is doing.
 *
 * - `no-notebook`: no notebook is in focus.
 * - `loading`: the history is being fetched.
 * - `ready`: the history is shown (it may be empty).
 * - `error`: the last fetch failed; `error` says why.
 */
type ExperimentsStatus = 'no-notebook' | 'loading' | 'ready' | 'error';

/**
 * A snapshot of the panel's state; components render it and nothing else.
 */
export interface IExperimentsState {
  /** The path of the notebook in focus, relative to the server root. */
  readonly notebookPath: string | null;
  /** What the panel is doing. */
  readonly status: ExperimentsStatus;
  /** Whether an mlvc store exists for the notebook. */
  readonly initialized: boolean;
  /** Commit summaries, newest first. */
  readonly commits: ReadonlyArray<Mlvc.ICommitSummary>;
  /** Why the last fetch failed, when `status` is `error`. */
  readonly error: string | null;
  /** All branches. */
  readonly branches: ReadonlyArray<Mlvc.IBranch>;
  /** All tags. */
  readonly tags: ReadonlyArray<Mlvc.ITag>;
  /** Whether older commits can be loaded. */
  readonly hasMore: boolean;
  /** The selected commit ids (at most two, first selected first). */
  readonly selected: ReadonlyArray<string>;
  /** The filter text. */
  readonly filter: string;
  /** A long action (commit, checkout, restore) that runs, in words; null when none. */
  readonly busy: string | null;
  /** The outcome of the last action, in words. */
  readonly result: string | null;
  /** Why the last action failed. */
  readonly actionError: string | null;
  /** The notebook's kernel: `none`, `idle`, `busy`...; null when not known. */
  readonly kernel: string | null;
  /** What a commit would record now, in words; null when not known. */
  readonly pending: string | null;
  /** The current branch as the status endpoint last said; null when not known. */
  readonly branch: string | null;
  /**
   * The commit the notebook is at (the one checked out when `detached`, else the
   * branch tip); null when not known.
   */
  readonly head: string | null;
  /** Whether the notebook was checked out at a commit that is not a branch tip. */
  readonly detached: boolean;
  /**
   * Whether the notebook file or a data file it read changed since the last commit;
   * null when not known (no store, or the status could not be fetched).
   */
  readonly changed: boolean | null;
  /** How many metrics each commit row shows (a setting). */
  readonly headlineMetrics: number;
  /** The store's remotes (push and pull go there). */
  readonly remotes: ReadonlyArray<Mlvc.IRemote>;
  /** How far a running push, pull or sweep is; null when none runs. */
  readonly progress: {
    phase: string;
    done?: number | null;
    total?: number | null;
    /** Seconds left, estimated (a sweep, once a run ended). */
    eta?: number | null;
    /** Whether {@link ExperimentsModel.cancelSweep} can stop it (a running sweep). */
    cancellable?: boolean;
    /** Whether a cancel was asked and is under way. */
    cancelling?: boolean;
  } | null;
}

/** How often a running push or pull is asked how far it is, ms. */
const JOB_POLL_MS = 500;

/**
 * How many commits one page of history holds, unless the settings say otherwise.
 */
export const PAGE_SIZE = 100;

/**
 * Untranslated text with JupyterLab's `%1`, `%2`... placeholders filled in: what
 * the model says when no translation bundle is given (tests, other front ends).
 */
export const plainTranslation = {
  __: (text: string, ...args: unknown[]): string =>
    text.replace(/%(\d+)/g, (_, n) => String(args[Number(n) - 1]))
} as unknown as TranslationBundle;

/**
 * Owns the Experiments panel's state and fetches the history of the notebook in focus.
 */
export class ExperimentsModel implements IDisposable {
  /**
   * Create a model.
   *
   * @param serverSettings - The server connection settings; the default ones if omitted.
   * @param trans - Translates what the model says; English when omitted.
   */
  constructor(
    serverSettings?: ServerConnection.ISettings,
    trans: TranslationBundle = plainTranslation
  ) {
    this._serverSettings = serverSettings;
    this._trans = trans;
  }

  /**
   * The current state.
   */
  get state(): IExperimentsState {
    return this._state;
  }

  /**
   * Emitted with the new state whenever it changes.
   */
  get stateChanged(): ISignal<this, IExperimentsState> {
    return this._stateChanged;
  }

  /**
   * Whether the model is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Follow another notebook (or none) and fetch its history.
   *
   * @param path - The notebook path relative to the server root, or null.
   */
  async setNotebook(path: string | null): Promise<void> {
    if (path === this._state.notebookPath && this._state.status !== 'error') {
      return;
    }
    if (path === null) {
      this._requestId++;
      this._setState({
        ...EMPTY_STATE,
        headlineMetrics: this._state.headlineMetrics
      });
      return;
    }
    this._setState({
      ...EMPTY_STATE,
      headlineMetrics: this._state.headlineMetrics,
      remotes: this._state.remotes,
      notebookPath: path,
      status: 'loading'
    });
    await this.refresh();
    void this._findRunningSweep(path);
  }

  /**
   * Fetch the history of the notebook in focus again.
   *
   * A response that arrives after the user moved to another notebook is dropped.
   */
  async refresh(): Promise<void> {
    const path = this._state.notebookPath;
    if (path === null || this._isDisposed) {
      return;
    }
    const requestId = ++this._requestId;
    this._setState({ ...this._state, status: 'loading', error: null });
    const limit = Math.max(this._pageSize, this._state.commits.length);
    void this._refreshStatus(path, requestId);
    void this._refreshRemotes(path, requestId);
    try {
      const log = await fetchLogPage(path, limit, 0, this._serverSettings);
      if (requestId === this._requestId && !this._isDisposed) {
        const ids = new Set(log.commits.map(c => c.id));
        this._setState({
          ...this._state,
          notebookPath: path,
          status: 'ready',
          initialized: log.initialized,
          commits: log.commits,
          branches: log.branches ?? [],
          tags: log.tags ?? [],
          hasMore: log.has_more ?? false,
          selected: this._state.selected.filter(id => ids.has(id)),
          error: null
        });
      }
    } catch (reason) {
      if (requestId === this._requestId && !this._isDisposed) {
        this._setState({
          ...this._state,
          status: 'error',
          error: this._errorMessage(reason)
        });
      }
    }
  }

  /**
   * Bring the history up to date if it changed (live sync): a conditional GET of
   * the first page, cheap when nothing changed; the status follows when it did
   * (the branch selector follows a branch switched elsewhere). Unlike
   * {@link refresh} it shows no loading state. Calls made while one is in flight
   * run once after it.
   */
  async catchUp(): Promise<void> {
    const path = this._state.notebookPath;
    if (path === null || this._isDisposed) {
      return;
    }
    if (this._syncing) {
      this._syncAgain = true;
      return;
    }
    this._syncing = true;
    try {
      const requestId = this._requestId;
      const limit = Math.max(this._pageSize, this._state.commits.length);
      const etag = this._etagPath === path ? this._etag : null;
      const answer = await fetchLogIfChanged(
        path,
        limit,
        etag,
        this._serverSettings
      );
      if (
        answer === null ||
        requestId !== this._requestId ||
        this._isDisposed ||
        path !== this._state.notebookPath
      ) {
        return;
      }
      this._etag = answer.etag;
      this._etagPath = path;
      const { log } = answer;
      const ids = new Set(log.commits.map(c => c.id));
      this._setState({
        ...this._state,
        status: this._state.status === 'error' ? 'ready' : this._state.status,
        initialized: log.initialized,
        commits: log.commits,
        branches: log.branches ?? [],
        tags: log.tags ?? [],
        hasMore: log.has_more ?? false,
        selected: this._state.selected.filter(id => ids.has(id)),
        error: null
      });
      await this._refreshStatus(path, requestId);
    } catch {
      // A failed sync keeps what is shown; the next event or check tries again.
    } finally {
      this._syncing = false;
      if (this._syncAgain) {
        this._syncAgain = false;
        void this.catchUp();
      }
    }
  }

  /**
   * Apply the user's settings.
   *
   * @param options - Commits per page, metrics per row.
   */
  configure(options: { pageSize?: number; headlineMetrics?: number }): void {
    if (options.pageSize !== undefined) {
      this._pageSize = options.pageSize;
    }
    if (
      options.headlineMetrics !== undefined &&
      options.headlineMetrics !== this._state.headlineMetrics
    ) {
      this._setState({
        ...this._state,
        headlineMetrics: options.headlineMetrics
      });
    }
  }

  /**
   * Load the next page of older commits.
   */
  async loadMore(): Promise<void> {
    const path = this._state.notebookPath;
    if (path === null || !this._state.hasMore) {
      return;
    }
    const requestId = ++this._requestId;
    try {
      const log = await fetchLogPage(
        path,
        this._pageSize,
        this._state.commits.length,
        this._serverSettings
      );
      if (requestId === this._requestId && !this._isDisposed) {
        this._setState({
          ...this._state,
          commits: [...this._state.commits, ...log.commits],
          hasMore: log.has_more ?? false
        });
      }
    } catch (reason) {
      this._setAction(null, null, this._errorMessage(reason));
    }
  }

  /**
   * Select a commit.
   *
   * @param id - The commit id.
   * @param additive - Keep the previous selection as the first of two (Ctrl/Cmd-click).
   */
  select(id: string, additive = false): void {
    let selected: string[];
    const current = this._state.selected;
    if (!additive) {
      selected = [id];
    } else if (current.includes(id)) {
      selected = current.filter(x => x !== id);
    } else {
      selected = [...current, id].slice(-2);
    }
    this._setState({ ...this._state, selected });
  }

  /**
   * Set the filter text.
   *
   * @param filter - Words matched against message, tags, branch and variable names.
   */
  setFilter(filter: string): void {
    this._setState({ ...this._state, filter });
  }

  /**
   * The commits that match the filter.
   */
  get visibleCommits(): Mlvc.ICommitSummary[] {
    return filterCommits(this._state.commits, this._state.filter);
  }

  /**
   * The pair of revisions a Diff shows for the selection: two selected (older first),
   * or one and its parent; null when there is none.
   */
  diffPair(): [string, string] | null {
    const sel = this._state.selected;
    const order = (id: string) =>
      this._state.commits.findIndex(c => c.id === id);
    if (sel.length === 2) {
      const [x, y] = sel;
      // Newest first: the larger index is the older commit.
      return order(x) > order(y) ? [x, y] : [y, x];
    }
    if (sel.length === 1) {
      const commit = this._state.commits.find(c => c.id === sel[0]);
      const parent = commit?.parents?.[0];
      return parent ? [parent, sel[0]] : null;
    }
    return null;
  }

  /**
   * Commit the notebook (through its kernel), after saving it.
   *
   * @param message - The commit message.
   * @param save - Saves the notebook first.
   */
  async commit(
    message: string,
    save?: () => Promise<void>
  ): Promise<Mlvc.ICommitCreated | null> {
    const path = this._state.notebookPath;
    if (path === null || !message.trim() || this._state.busy) {
      return null;
    }
    this._setAction('commit', null, null);
    try {
      if (save) {
        await save();
      }
      if (!this._state.initialized) {
        await initStore(path, this._serverSettings);
      }
      const made = await createCommit(path, message, this._serverSettings);
      const skipped = Object.keys(made.skipped ?? {});
      const trans = this._trans;
      let result = trans.__('Committed %1', made.commit.short_id);
      if (made.kernel === 'none') {
        result = trans.__(
          'Committed %1: no kernel, the notebook alone was committed',
          made.commit.short_id
        );
      } else if (skipped.length > 0) {
        result = trans.__(
          'Committed %1 (skipped: %2)',
          made.commit.short_id,
          skipped.join(', ')
        );
      }
      this._setAction(null, result, null);
      await this.refresh();
      return made;
    } catch (reason) {
      this._setAction(null, null, this._errorMessage(reason));
      return null;
    }
  }

  /**
   * Switch to another branch.
   *
   * @param name - The branch.
   */
  async switchBranch(name: string): Promise<void> {
    await this._act(path => switchBranch(path, name, this._serverSettings));
  }

  /**
   * Create a branch and switch to it.
   *
   * @param name - The branch.
   * @param from - Where it starts; HEAD when omitted.
   */
  async createBranch(name: string, from?: string): Promise<void> {
    await this._act(path =>
      createBranch(path, name, from, this._serverSettings)
    );
  }

  /**
   * Tag a commit.
   *
   * @param name - The tag.
   * @param rev - The commit.
   */
  async tag(name: string, rev: string): Promise<void> {
    await this._act(path => createTag(path, name, rev, this._serverSettings));
  }

  /**
   * Check a commit out (the server commits the current state first).
   *
   * @param rev - The commit.
   * @param mode - What to bring back.
   * @returns The server's answer, or null on failure.
   */
  async checkout(
    rev: string,
    mode: Mlvc.CheckoutMode,
    data: string[] = []
  ): Promise<Mlvc.ICheckout | null> {
    let out: Mlvc.ICheckout | null = null;
    await this._act(async path => {
      out = await checkout(path, rev, mode, this._serverSettings, data);
      const failed = Object.keys(out.failed ?? {});
      const trans = this._trans;
      const parts = [trans.__('Checked out %1', rev.slice(0, 7))];
      if (out.safety_commit) {
        parts.push(trans.__('safety commit %1', out.safety_commit.slice(0, 7)));
      }
      if (out.data && out.data.restored.length > 0) {
        parts.push(
          trans.__('%1 data file(s) put back', out.data.restored.length)
        );
      }
      if (failed.length > 0) {
        parts.push(trans.__('not restored: %1', failed.join(', ')));
      }
      return parts.join('; ');
    }, 'checkout');
    return out;
  }

  /**
   * Restore variables of a commit into the kernel.
   *
   * @param rev - The commit.
   * @param names - The variables.
   */
  async restore(rev: string, names: string[]): Promise<void> {
    await this._act(async path => {
      const out = await restoreVariables(
        path,
        rev,
        names,
        this._serverSettings
      );
      const failed = Object.keys(out.failed ?? {});
      const trans = this._trans;
      const parts = [
        out.restored.length
          ? trans.__('Restored %1', out.restored.join(', '))
          : trans.__('Restored nothing')
      ];
      if (failed.length) {
        parts.push(trans.__('failed: %1', failed.join(', ')));
      }
      if (out.safety_commit) {
        parts.push(
          trans.__(
            'the replaced values are in safety commit %1',
            out.safety_commit.slice(0, 7)
          )
        );
      }
      return parts.join('; ');
    }, 'restore');
  }

  /**
   * Push to a remote, or pull from it, following the server's job until it ends.
   *
   * @param kind - push or pull.
   * @param remote - The remote's name.
   * @returns The notebooks a pull wrote (paths in the project): their open
   * documents are behind the files.
   */
  async sync(kind: 'push' | 'pull', remote: string): Promise<string[]> {
    let written: string[] = [];
    await this._act(async path => {
      let job = await startSync(kind, path, remote, this._serverSettings);
      while (job.state === 'running' && !this._isDisposed) {
        this._setState({
          ...this._state,
          progress: { phase: job.phase, done: job.done, total: job.total }
        });
        await new Promise(resolve => setTimeout(resolve, JOB_POLL_MS));
        job = await fetchJob(path, job.id, this._serverSettings);
      }
      this._setState({ ...this._state, progress: null });
      if (job.state === 'failed') {
        throw new MlvcRequestError(
          job.error?.message ?? this._trans.__('The %1 failed.', kind),
          job.error?.status ?? 500
        );
      }
      const report = job.result as Mlvc.ISyncReport | null | undefined;
      written = [...(report?.notebooks ?? [])];
      return this._syncReport(kind, remote, report?.refs ?? []);
    }, kind);
    return written;
  }

  /**
   * Run a sweep of the notebook in focus (`POST /mlvc/sweeps`), showing its
   * progress run by run, then what came of it.
   *
   * @param request - The values to try, runs at a time, the sweep's name.
   */
  async sweep(request: Mlvc.ISweepRequest): Promise<void> {
    await this._act(async path => {
      const job = await startSweep(path, request, this._serverSettings);
      return this._followSweep(path, job);
    }, 'sweep');
  }

  /**
   * Show a sweep that runs on the store of the notebook now in focus (started by
   * another page, or by this one before a reload), with its progress and Cancel.
   */
  private async _findRunningSweep(path: string): Promise<void> {
    if (this._sweepJob !== null) {
      return;
    }
    let jobs: Mlvc.IJob[];
    try {
      jobs = await listJobs(path, this._serverSettings);
    } catch {
      return; // no store yet, or an older server
    }
    const running = jobs.find(j => j.kind === 'sweep' && j.state === 'running');
    if (
      running === undefined ||
      this._sweepJob !== null ||
      this._isDisposed ||
      this._state.notebookPath !== path
    ) {
      return;
    }
    await this._act(p => this._followSweep(p, running), 'sweep');
  }

  /**
   * Poll a sweep job until it ends, showing its progress; say what came of it.
   */
  private async _followSweep(
    path: string,
    started: Mlvc.IJob
  ): Promise<string> {
    let job = started;
    this._sweepJob = { path, id: job.id };
    try {
      while (job.state === 'running' && !this._isDisposed) {
        const cancelling = this._state.progress?.cancelling ?? false;
        this._setState({
          ...this._state,
          progress: {
            phase: job.phase,
            done: job.done,
            total: job.total,
            eta: job.eta,
            cancellable: (job.cancellable ?? false) && !cancelling,
            cancelling
          }
        });
        await new Promise(resolve => setTimeout(resolve, JOB_POLL_MS));
        job = await fetchJob(path, job.id, this._serverSettings);
      }
    } finally {
      this._sweepJob = null;
    }
    this._setState({ ...this._state, progress: null });
    if (job.state === 'failed') {
      throw new MlvcRequestError(
        job.error?.message ?? this._trans.__('The sweep failed.'),
        job.error?.status ?? 500
      );
    }
    const result = job.result as Mlvc.ISweepReport | null | undefined;
    const outcomes = result?.outcomes ?? [];
    const counts = new Map<string, number>();
    for (const o of outcomes) {
      counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
    }
    const shown = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
    if (job.state === 'cancelled') {
      return this._trans.__(
        'Sweep cancelled: %1 runs (%2). Start it again to run only the missing ones.',
        outcomes.length,
        shown || this._trans.__('none reported')
      );
    }
    return this._trans.__('Sweep: %1 runs (%2)', outcomes.length, shown);
  }

  /**
   * Cancel the running sweep (`DELETE /mlvc/jobs/{job}`): its running runs stop and
   * commit nothing, and a new sweep can start as soon as this resolves.
   */
  async cancelSweep(): Promise<void> {
    const job = this._sweepJob;
    if (job === null || this._state.progress?.cancelling) {
      return;
    }
    this._setState({
      ...this._state,
      progress: {
        ...(this._state.progress ?? { phase: '' }),
        cancellable: false,
        cancelling: true
      }
    });
    try {
      await cancelJob(job.path, job.id, this._serverSettings);
    } catch (reason) {
      this._setState({
        ...this._state,
        progress: this._state.progress && {
          ...this._state.progress,
          cancelling: false
        },
        actionError: this._errorMessage(reason)
      });
    }
  }

  /**
   * Say what a push or pull did, in one line: counts per outcome, then what needs
   * the user (a rejected push, a diverged branch) in the server's words.
   */
  private _syncReport(
    kind: 'push' | 'pull',
    remote: string,
    refs: ReadonlyArray<Mlvc.IRefUpdate>
  ): string {
    const trans = this._trans;
    const counts = new Map<string, number>();
    for (const r of refs) {
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    }
    const parts = [...counts].map(([status, n]) => `${n} ${status}`);
    const head =
      kind === 'push'
        ? trans.__('Pushed to %1: %2', remote, parts.join(', ') || '—')
        : trans.__('Pulled from %1: %2', remote, parts.join(', ') || '—');
    const attention = refs
      .filter(r => ['rejected', 'diverged', 'conflict'].includes(r.status))
      .map(r => r.message);
    if (attention.length) {
      throw new MlvcRequestError([head, ...attention].join(' '), 409);
    }
    return head;
  }

  /**
   * Fetch the diff of two revisions of the notebook in focus.
   *
   * @param a - The old revision.
   * @param b - The new revision.
   * @returns The diff.
   */
  async loadDiff(a: string, b: string): Promise<Mlvc.IDiff> {
    return fetchDiff(this._path(), a, b, this._serverSettings);
  }

  /**
   * Fetch what changed in the data files two commits read (sizes, rows, columns).
   *
   * @param a - The old revision.
   * @param b - The new revision.
   * @returns The data diff.
   */
  async loadDataDiff(a: string, b: string): Promise<Mlvc.IDataFilesDiff> {
    return fetchDataDiff(this._path(), a, b, this._serverSettings);
  }

  /**
   * Put the data files a commit read back in place (each replaced file kept first as
   * a safety copy), or with `dryRun` say which files that would write.
   *
   * @param rev - The revision.
   * @param dryRun - Only say what would be written.
   * @returns What was (or would be) written.
   */
  async checkoutData(
    rev: string,
    dryRun: boolean
  ): Promise<Mlvc.IDataCheckout> {
    return checkoutData(this._path(), rev, dryRun, null, this._serverSettings);
  }

  /**
   * Undo a data checkout (the files it replaced put back, those it created removed).
   *
   * @param safety - The checkout's `safety` name.
   * @returns What was put back, removed and left alone.
   */
  async undoDataCheckout(safety: string): Promise<Mlvc.IDataUndo> {
    return undoDataCheckout(this._path(), safety, this._serverSettings);
  }

  /**
   * Fetch the params/metrics table of the notebook in focus.
   *
   * @returns The table.
   */
  async loadCompare(): Promise<Mlvc.ICompare> {
    return fetchCompare(this._path(), this._serverSettings);
  }

  /**
   * The ids of the notebook's commits matching a query (`GET /mlvc/log?where=`,
   * the grammar of `mlvc log --where`), for the panel's filter.
   *
   * @param where - The query.
   * @returns The ids (at most 10,000, newest first).
   */
  async queryIds(where: string): Promise<ReadonlySet<string>> {
    const log = await fetchLogPage(
      this._path(),
      10000,
      0,
      this._serverSettings,
      where
    );
    return new Set(log.commits.map(c => c.id));
  }

  /**
   * Fetch the Vega-Lite spec of a compare chart of the notebook in focus.
   *
   * @param plot - `scatter` or `parallel`.
   * @param limit - The newest this many commits (default 1,000).
   * @returns The spec.
   */
  async loadCompareChart(
    plot: 'scatter' | 'parallel',
    limit = 1000
  ): Promise<Record<string, unknown> | null> {
    const table = await fetchCompareChart(
      this._path(),
      plot,
      limit,
      this._serverSettings
    );
    // no spec (nothing numeric to chart): the view says so instead of drawing `{}`
    const spec = table.vegalite as Record<string, unknown> | null | undefined;
    return spec && Object.keys(spec).length > 0 ? spec : null;
  }

  /**
   * Fetch the metric series of the notebook in focus.
   *
   * @returns The series.
   */
  async loadSeries(): Promise<Mlvc.ISeries> {
    return fetchSeries(this._path(), this._serverSettings);
  }

  /**
   * The names of the variables a commit stored.
   *
   * @param rev - The commit.
   * @returns The names.
   */
  async variablesOf(rev: string): Promise<string[]> {
    const record = await fetchCommit(this._path(), rev, this._serverSettings);
    return Object.keys(record.variables ?? {});
  }

  private _path(): string {
    const path = this._state.notebookPath;
    if (path === null) {
      throw new MlvcRequestError('No notebook is in focus.', 0);
    }
    return path;
  }

  private async _act(
    action: (path: string) => Promise<unknown>,
    busy = 'update'
  ): Promise<void> {
    const path = this._state.notebookPath;
    if (path === null) {
      return;
    }
    this._setAction(busy, null, null);
    try {
      const result = await action(path);
      this._setAction(null, typeof result === 'string' ? result : null, null);
    } catch (reason) {
      this._setAction(null, null, this._errorMessage(reason));
    }
    await this.refresh();
  }

  private _setAction(
    busy: string | null,
    result: string | null,
    actionError: string | null
  ): void {
    this._setState({ ...this._state, busy, result, actionError });
  }

  private async _refreshRemotes(
    path: string,
    requestId: number
  ): Promise<void> {
    try {
      const remotes = await fetchRemotes(path, this._serverSettings);
      if (requestId === this._requestId && !this._isDisposed) {
        this._setState({ ...this._state, remotes });
      }
    } catch {
      // No store yet, or an older server: no Push/Pull then.
    }
  }

  /**
   * Fetch the status alone again (branch, what changed since the last commit,
   * kernel): cheaper than {@link refresh}, for after a save or a cell run.
   */
  async refreshStatus(): Promise<void> {
    const path = this._state.notebookPath;
    if (path === null || this._isDisposed) {
      return;
    }
    await this._refreshStatus(path, this._requestId);
  }

  private async _refreshStatus(path: string, requestId: number): Promise<void> {
    try {
      const status = await fetchStatus(path, this._serverSettings);
      if (requestId !== this._requestId || this._isDisposed) {
        return;
      }
      const parts: string[] = [];
      if (status.notebook_changed) {
        parts.push(this._trans.__('notebook changed'));
      }
      const said: { [status: string]: string } = {
        changed: this._trans.__('changed'),
        added: this._trans.__('added'),
        removed: this._trans.__('removed'),
        missing: this._trans.__('missing')
      };
      const data = Object.entries(status.data ?? {})
        .filter(([, st]) => st !== 'unchanged')
        .map(([file, st]) => `${file} ${said[st] ?? st}`);
      parts.push(...data);
      this._setState({
        ...this._state,
        kernel: status.kernel,
        pending: parts.join(' · ') || null,
        branch: status.branch ?? null,
        head: status.head ?? null,
        detached: Boolean(status.detached),
        changed: status.initialized
          ? Boolean(status.notebook_changed || status.data_changed)
          : null
      });
    } catch {
      // The status line is a hint; the history still shows without it.
    }
  }

  /**
   * Dispose of the model's resources.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _setState(state: IExperimentsState): void {
    this._state = state;
    this._stateChanged.emit(state);
  }

  private _isDisposed = false;
  /** The sweep running from this panel (to cancel it). */
  private _sweepJob: { path: string; id: string } | null = null;
  private _errorMessage(reason: unknown): string {
    return reason instanceof MlvcRequestError
      ? reason.message
      : this._trans.__('Unexpected error: %1', String(reason));
  }

  private _pageSize = PAGE_SIZE;
  private _syncing = false;
  private _syncAgain = false;
  private _etag: string | null = null;
  private _etagPath: string | null = null;
  private _trans: TranslationBundle;
  private _requestId = 0;
  private _serverSettings: ServerConnection.ISettings | undefined;
  private _state: IExperimentsState = EMPTY_STATE;
  private _stateChanged = new Signal<this, IExperimentsState>(this);
}

const EMPTY_STATE: IExperimentsState = {
  notebookPath: null,
  status: 'no-notebook',
  initialized: false,
  commits: [],
  error: null,
  branches: [],
  tags: [],
  hasMore: false,
  selected: [],
  filter: '',
  busy: null,
  result: null,
  actionError: null,
  kernel: null,
  pending: null,
  branch: null,
  head: null,
  detached: false,
  changed: null,
  headlineMetrics: 3,
  remotes: [],
  progress: null
};

/**
 * The history with safety commits folded under the commit they protected (their
 * parent), unless that commit is in `expanded`.
 *
 * @param commits - The commits, newest first.
 * @param expanded - Ids of the commits whose safety commits are shown.
 * @returns `visible`: the commits shown, where a parent that is folded away is
 *   replaced by its own parents (the graph stays connected); `folded`: for each
 *   protected commit, the ids of its safety commits (shown or not).
 */
export function foldSafety(
  commits: ReadonlyArray<Mlvc.ICommitSummary>,
  expanded: ReadonlySet<string>
): { visible: Mlvc.ICommitSummary[]; folded: Map<string, string[]> } {
  const folded = new Map<string, string[]>();
  const hidden = new Map<string, ReadonlyArray<string>>();
  for (const c of commits) {
    if (c.kind === 'safety') {
      const parent = c.parents?.[0];
      if (parent !== undefined) {
        folded.set(parent, [...(folded.get(parent) ?? []), c.id]);
      }
      if (parent === undefined || !expanded.has(parent)) {
        hidden.set(c.id, c.parents ?? []);
      }
    }
  }
  if (hidden.size === 0) {
    return { visible: [...commits], folded };
  }
  const through = (ids: ReadonlyArray<string>, depth = 0): string[] => {
    const out: string[] = [];
    for (const id of ids) {
      const up = hidden.get(id);
      if (up !== undefined && depth < 100) {
        out.push(...through(up, depth + 1));
      } else {
        out.push(id);
      }
    }
    return out;
  };
  const visible = commits
    .filter(c => !hidden.has(c.id))
    .map(c =>
      (c.parents ?? []).some(p => hidden.has(p))
        ? { ...c, parents: [...new Set(through(c.parents ?? []))] }
        : c
    );
  return { visible, folded };
}

/**
 * The commits whose message, tags, branches or variable names hold every word of
 * `filter`; `kind:safety` keeps only commits of that kind, `-kind:safety` leaves
 * them out (plain commits are of kind `commit`).
 *
 * @param commits - The commits.
 * @param filter - Words, case-insensitive.
 * @returns The matching commits, in order.
 */
export function filterCommits(
  commits: ReadonlyArray<Mlvc.ICommitSummary>,
  filter: string
): Mlvc.ICommitSummary[] {
  const all = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const kindOf = (c: Mlvc.ICommitSummary): string => c.kind ?? 'commit';
  const include = all
    .filter(w => w.startsWith('kind:'))
    .map(w => w.slice('kind:'.length));
  const exclude = all
    .filter(w => w.startsWith('-kind:'))
    .map(w => w.slice('-kind:'.length));
  const words = all.filter(w => !/^-?kind:/.test(w));
  if (words.length === 0 && include.length === 0 && exclude.length === 0) {
    return [...commits];
  }
  return commits.filter(c => {
    if (include.length > 0 && !include.includes(kindOf(c))) {
      return false;
    }
    if (exclude.includes(kindOf(c))) {
      return false;
    }
    const text = [
      c.message,
      c.branch ?? '',
      ...(c.tags ?? []),
      ...(c.branches ?? []),
      ...(c.variables ?? []),
      ...Object.keys(c.params ?? {}),
      ...Object.keys(c.metrics ?? {})
    ]
      .join(' ')
      .toLowerCase();
    return words.every(w => text.includes(w));
  });
}
