import { TranslationBundle } from '@jupyterlab/translation';
import { notebookIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { foldSafety, IExperimentsState } from '../model';
import {
  completions,
  filterWords,
  queryNames,
  splitFilter,
  useQueryMatch
} from '../query';
import { Mlvc } from '../tokens';
import { CommitList } from './CommitList';

/** Code the empty state shows; code is not translated. */
const MAGIC_COMMIT = '%mlvc commit';
const API_COMMIT = 'mlvc.commit(...)';

/**
 * Props of {@link ExperimentsView}.
 */
interface IExperimentsViewProps {
  /** The state to render. */
  state: IExperimentsState;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
  /** What the controls do; a read-only view when omitted. */
  actions?: IExperimentsActions;
}

/**
 * What the panel's controls do.
 */
export interface IExperimentsActions {
  /** Commit with a message; resolves true on success. */
  commit: (message: string) => Promise<boolean>;
  /** Select a commit. */
  select: (id: string, additive: boolean) => void;
  /** Set the filter. */
  filter: (text: string) => void;
  /** Switch branch. */
  switchBranch: (name: string) => void;
  /** Ask a name and create a branch. */
  newBranch: () => void;
  /** Open the diff of the selection. */
  diff: () => void;
  /** Open the compare view. */
  compare: () => void;
  /** Load older commits. */
  loadMore: () => void;
  /** Open a row's actions menu. */
  menu: (commit: Mlvc.ICommitSummary, x: number, y: number) => void;
  /** Push to or pull from a remote. */
  sync?: (kind: 'push' | 'pull', remote: string) => void;
  /** The ids of the commits matching a query (the filter's structured terms). */
  query?: (where: string) => Promise<ReadonlySet<string>>;
  /** Cancel the running sweep. */
  cancelSweep?: () => void;
}

/**
 * The body of the Experiments panel: the notebook in focus and its history.
 */
export function ExperimentsView(props: IExperimentsViewProps): JSX.Element {
  const { state, trans } = props;
  if (state.notebookPath === null) {
    return (
      <div className="jp-mlvc-ExperimentsView">
        <p className="jp-mlvc-message">
          {trans.__('Open a notebook to see its experiments.')}
        </p>
      </div>
    );
  }
  return (
    <div
      className="jp-mlvc-ExperimentsView"
      aria-busy={state.status === 'loading'}
    >
      <NotebookHeading path={state.notebookPath} />
      {props.actions && (
        <Controls state={state} trans={trans} actions={props.actions} />
      )}
      <HistoryBody state={state} trans={trans} actions={props.actions} />
      {props.actions && (
        <div className="jp-mlvc-footer">
          <button
            className="jp-mod-styled jp-mod-accept"
            aria-label={trans.__('Diff')}
            title={trans.__(
              'Diff the two selected commits, or the selected one with its parent'
            )}
            disabled={!canDiff(state)}
            onClick={() => props.actions?.diff()}
          >
            {trans.__('Diff')}
          </button>
          <button
            className="jp-mod-styled"
            aria-label={trans.__('Compare')}
            title={trans.__('Compare params and metrics of all commits')}
            disabled={state.commits.length === 0}
            onClick={() => props.actions?.compare()}
          >
            {trans.__('Compare')}
          </button>
        </div>
      )}
    </div>
  );
}

/**
 * The notebook in focus: its name, then its folder (the full path on hover).
 */
function NotebookHeading(props: { path: string }): JSX.Element {
  const slash = props.path.lastIndexOf('/');
  const name = props.path.slice(slash + 1);
  const folder = slash > 0 ? props.path.slice(0, slash) : '';
  return (
    <div className="jp-mlvc-notebook" title={props.path}>
      <notebookIcon.react tag="span" className="jp-mlvc-notebook-icon" />
      <span className="jp-mlvc-notebook-name">{name}</span>
      {folder && <span className="jp-mlvc-notebook-folder">{folder}</span>}
    </div>
  );
}

/** The branch selector's value while the notebook is detached. */
const DETACHED = '\u0000detached';

/**
 * The history part of the view, by status.
 */
function HistoryBody(props: IExperimentsViewProps): JSX.Element {
  const { state, trans } = props;
  // Safety commits fold under the commit they protected; a row expands them.
  const [expanded, setExpanded] = React.useState<ReadonlySet<string>>(
    () => new Set()
  );
  const askedForKinds = /(^|\s)-?kind:/i.test(state.filter);
  const folding = React.useMemo(
    () =>
      foldSafety(
        state.commits,
        askedForKinds ? new Set(state.commits.map(c => c.id)) : expanded
      ),
    [state.commits, expanded, askedForKinds]
  );
  // The same array while neither changes, so the list keeps its graph layout.
  const parts = React.useMemo(() => splitFilter(state.filter), [state.filter]);
  const match = useQueryMatch(parts.where, props.actions?.query, state.commits);
  const visible = React.useMemo(() => {
    const shown = filterWords(folding.visible, parts.words);
    return match.ids ? shown.filter(c => match.ids!.has(c.id)) : shown;
  }, [folding, parts.words, match.ids]);
  const toggleFold = React.useCallback((id: string) => {
    setExpanded(old => {
      const next = new Set(old);
      if (!next.delete(id)) {
        next.add(id);
      }
      return next;
    });
  }, []);
  if (state.status === 'error') {
    return (
      <div className="jp-mlvc-message jp-mlvc-error" role="alert">
        <p>{trans.__('Could not load the experiment history.')}</p>
        <p className="jp-mlvc-error-detail">{state.error}</p>
      </div>
    );
  }
  if (state.commits.length > 0) {
    return (
      <>
        {match.error !== null && (
          <p className="jp-mlvc-message jp-mlvc-error" role="alert">
            {match.error}
          </p>
        )}
        {visible.length === 0 && match.error === null && (
          <p className="jp-mlvc-message">
            {trans.__('No commit matches the filter.')}
          </p>
        )}
        <CommitList
          commits={visible}
          all={folding.visible}
          folded={askedForKinds ? undefined : folding.folded}
          expanded={expanded}
          onToggleFold={toggleFold}
          head={state.head}
          selected={state.selected}
          headlineMetrics={state.headlineMetrics}
          trans={trans}
          onSelect={props.actions?.select}
          onMenu={props.actions?.menu}
        />
        {state.hasMore && props.actions && (
          <button
            className="jp-mod-styled jp-mlvc-loadMore"
            aria-label={trans.__('Load more')}
            onClick={() => props.actions?.loadMore()}
          >
            {trans.__('Load more')}
          </button>
        )}
      </>
    );
  }
  if (state.status === 'loading') {
    return <p className="jp-mlvc-message">{trans.__('Loading history…')}</p>;
  }
  return (
    <p className="jp-mlvc-message jp-mlvc-empty">
      {trans.__('No experiments yet for this notebook.')}{' '}
      {trans.__('Commit from a cell with')} <code>{MAGIC_COMMIT}</code>
      {trans.__(', or')} <code>{API_COMMIT}</code>
    </p>
  );
}

/**
 * Whether the Diff button applies: two selected, or one with a parent.
 */
function canDiff(state: IExperimentsState): boolean {
  if (state.selected.length === 2) {
    return true;
  }
  if (state.selected.length === 1) {
    const commit = state.commits.find(c => c.id === state.selected[0]);
    return (commit?.parents?.length ?? 0) > 0;
  }
  return false;
}

/**
 * Branch switcher, commit box and filter.
 */
function Controls(props: {
  state: IExperimentsState;
  trans: TranslationBundle;
  actions: IExperimentsActions;
}): JSX.Element {
  const { state, trans, actions } = props;
  const [message, setMessage] = React.useState('');
  const current = state.detached
    ? DETACHED
    : (state.branches.find(b => b.current)?.name ?? '');
  const busy = state.busy !== null;
  const submit = async (): Promise<void> => {
    if (await actions.commit(message)) {
      setMessage('');
    }
  };
  return (
    <div className="jp-mlvc-controls">
      <div className="jp-mlvc-row">
        <label className="jp-mlvc-label" htmlFor="jp-mlvc-branch">
          {trans.__('Branch')}
        </label>
        <select
          id="jp-mlvc-branch"
          className="jp-mlvc-branch"
          aria-label={trans.__('Branch')}
          value={current}
          disabled={busy || state.branches.length === 0}
          onChange={event => actions.switchBranch(event.target.value)}
        >
          {state.branches.length === 0 && (
            <option value="">{trans.__('(none yet)')}</option>
          )}
          {state.detached && (
            <option value={DETACHED} disabled>
              {trans.__('detached at %1', (state.head ?? '').slice(0, 8))}
            </option>
          )}
          {state.branches.map(b => (
            <option key={b.name} value={b.name}>
              {b.name}
            </option>
          ))}
        </select>
        <button
          className="jp-mod-styled jp-mlvc-newBranch"
          aria-label={trans.__('New branch')}
          title={trans.__('New branch')}
          disabled={busy || !state.initialized}
          onClick={() => actions.newBranch()}
        >
          <span className="jp-mlvc-newBranch-long">
            {trans.__('New branch')}
          </span>
          <span className="jp-mlvc-newBranch-short" aria-hidden="true">
            +
          </span>
        </button>
      </div>
      <form
        className="jp-mlvc-commit"
        onSubmit={event => {
          event.preventDefault();
          void submit();
        }}
      >
        <input
          className="jp-mod-styled jp-mlvc-message-input"
          type="text"
          aria-label={trans.__('Commit message')}
          placeholder={trans.__('Message')}
          value={message}
          disabled={busy}
          onChange={event => setMessage(event.target.value)}
        />
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          aria-label={trans.__('Commit')}
          disabled={busy || !message.trim()}
        >
          {trans.__('Commit')}
        </button>
      </form>
      {state.remotes.length > 0 && actions.sync && (
        <SyncRow state={state} trans={trans} sync={actions.sync} />
      )}
      <StatusLine
        state={state}
        trans={trans}
        cancelSweep={actions.cancelSweep}
      />
      <FilterInput state={state} trans={trans} actions={actions} />
    </div>
  );
}

/**
 * The filter: words, `-word`, and query terms (`metrics.acc > 0.9`) whose
 * param and metric names complete (src/query.ts).
 */
function FilterInput(props: {
  state: IExperimentsState;
  trans: IExperimentsViewProps['trans'];
  actions: IExperimentsActions;
}): JSX.Element {
  const { state, trans, actions } = props;
  const names = React.useMemo(() => queryNames(state.commits), [state.commits]);
  const options = completions(state.filter, names);
  const listId = 'jp-mlvc-filter-names';
  return (
    <>
      <input
        className="jp-mod-styled jp-mlvc-filter"
        type="search"
        list={listId}
        aria-label={trans.__('Filter commits')}
        title={trans.__(
          'Words search messages, tags, branches and variables; -word excludes. Terms such as metrics.acc > 0.9 or branch ~ "sweep/*" (-term excludes) are a query, as mlvc log --where.'
        )}
        placeholder={trans.__('Filter: words or a query')}
        value={state.filter}
        onChange={event => actions.filter(event.target.value)}
      />
      <datalist id={listId}>
        {options.map(o => (
          <option key={o} value={o} />
        ))}
      </datalist>
    </>
  );
}

/**
 * Push and Pull, to the remote chosen (when the store has several).
 */
function SyncRow(props: {
  state: IExperimentsState;
  trans: TranslationBundle;
  sync: (kind: 'push' | 'pull', remote: string) => void;
}): JSX.Element {
  const { state, trans } = props;
  const [chosen, setChosen] = React.useState('');
  const names = state.remotes.map(r => r.name);
  const remote = names.includes(chosen)
    ? chosen
    : names.includes('origin')
      ? 'origin'
      : names[0];
  const busy = state.busy !== null;
  return (
    <div className="jp-mlvc-row jp-mlvc-sync">
      <label className="jp-mlvc-label" htmlFor="jp-mlvc-remote">
        {trans.__('Remote')}
      </label>
      <select
        id="jp-mlvc-remote"
        className="jp-mlvc-branch"
        aria-label={trans.__('Remote')}
        title={state.remotes.find(r => r.name === remote)?.url}
        value={remote}
        disabled={busy}
        onChange={event => setChosen(event.target.value)}
      >
        {names.map(name => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      <button
        className="jp-mod-styled"
        aria-label={trans.__('Pull')}
        title={trans.__('Fetch the remote and fast-forward your branches')}
        disabled={busy}
        onClick={() => props.sync('pull', remote)}
      >
        {trans.__('Pull')}
      </button>
      <button
        className="jp-mod-styled"
        aria-label={trans.__('Push')}
        title={trans.__('Send your branches, tags and payloads to the remote')}
        disabled={busy}
        onClick={() => props.sync('push', remote)}
      >
        {trans.__('Push')}
      </button>
    </div>
  );
}

/**
 * Seconds as `m:ss` (or `h:mm:ss`), as `mlvc sweep` prints its ETA.
 *
 * @param seconds - The seconds.
 * @returns The clock text.
 */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  return s >= 3600
    ? `${Math.floor(s / 3600)}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`
    : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

/**
 * A running sweep: runs ended of all, the last one, the time left, and Cancel.
 */
function SweepProgress(props: {
  progress: NonNullable<IExperimentsState['progress']>;
  trans: TranslationBundle;
  cancel?: () => void;
}): JSX.Element {
  const { progress, trans } = props;
  const total = progress.total ?? 0;
  const done = progress.done ?? 0;
  const head = progress.cancelling
    ? trans.__('Cancelling the sweep: stopping its runs…')
    : total
      ? trans.__('Sweep: %1 of %2 runs ended', done, total)
      : trans.__('Sweep starting…');
  return (
    <div className="jp-mlvc-status jp-mlvc-busy jp-mlvc-sweepProgress">
      <p className="jp-mlvc-sweepHead" role="status">
        <span>{head}</span>
        {progress.eta !== null &&
          progress.eta !== undefined &&
          !progress.cancelling && (
            <span className="jp-mlvc-sweepEta">
              {trans.__('about %1 left', formatClock(progress.eta))}
            </span>
          )}
      </p>
      {total ? (
        <progress
          className="jp-mlvc-progress"
          max={total}
          value={done}
          aria-label={trans.__('Sweep progress')}
        />
      ) : null}
      {done > 0 && !progress.cancelling && (
        <p className="jp-mlvc-sweepLast" title={progress.phase}>
          {trans.__('Last: %1', progress.phase)}
        </p>
      )}
      {props.cancel && (progress.cancellable || progress.cancelling) && (
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn jp-mlvc-sweepCancel"
          disabled={progress.cancelling}
          onClick={props.cancel}
        >
          {progress.cancelling ? trans.__('Cancelling…') : trans.__('Cancel')}
        </button>
      )}
    </div>
  );
}

/**
 * The busy line, the outcome of the last action, or what a commit would record.
 */
function StatusLine(props: {
  state: IExperimentsState;
  trans: TranslationBundle;
  cancelSweep?: () => void;
}): JSX.Element | null {
  const { state, trans } = props;
  const busyText: { [key: string]: string } = {
    commit: trans.__('Committing…'),
    checkout: trans.__('Checking out…'),
    restore: trans.__('Restoring variables…'),
    push: trans.__('Pushing…'),
    pull: trans.__('Pulling…'),
    sweep: trans.__('Sweeping…'),
    update: trans.__('Working…')
  };
  const lines: JSX.Element[] = [];
  const progress = state.progress;
  if (state.busy && state.busy === 'sweep' && progress) {
    lines.push(
      <SweepProgress
        key="busy"
        progress={progress}
        trans={trans}
        cancel={props.cancelSweep}
      />
    );
  } else if (state.busy) {
    lines.push(
      <p key="busy" className="jp-mlvc-status jp-mlvc-busy" role="status">
        {busyText[state.busy] ?? trans.__('Working…')}
        {state.kernel === 'busy' &&
          ' ' + trans.__('(waiting for the running cell to finish)')}
        {progress && ' ' + progress.phase}
        {progress?.total ? (
          <progress
            className="jp-mlvc-progress"
            max={progress.total}
            value={progress.done ?? 0}
            aria-label={progress.phase}
          />
        ) : null}
      </p>
    );
  } else if (state.actionError) {
    lines.push(
      <p key="error" className="jp-mlvc-status jp-mlvc-error" role="alert">
        {state.actionError}
      </p>
    );
  } else if (state.result) {
    lines.push(
      <p key="result" className="jp-mlvc-status" role="status">
        {state.result}
      </p>
    );
  }
  if (state.kernel === 'none') {
    lines.push(
      <p key="kernel" className="jp-mlvc-status jp-mlvc-warn">
        {trans.__('No kernel: the notebook alone will be committed.')}
      </p>
    );
  }
  if (state.pending && !state.busy) {
    lines.push(
      <p key="pending" className="jp-mlvc-status">
        {trans.__('Since the last commit: %1', state.pending)}
      </p>
    );
  }
  return lines.length ? <>{lines}</> : null;
}
