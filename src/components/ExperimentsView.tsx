import { TranslationBundle } from '@jupyterlab/translation';
import { notebookIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IExperimentsState } from '../model';
import { CommitList } from './CommitList';

/** Code the empty state shows; code is not translated. */
const MAGIC_COMMIT = '%mlvc commit';
const API_COMMIT = 'mlvc.commit(...)';

/**
 * Props of {@link ExperimentsView}.
 */
export interface IExperimentsViewProps {
  /** The state to render. */
  state: IExperimentsState;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
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
      <HistoryBody state={state} trans={trans} />
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

/**
 * The history part of the view, by status.
 */
function HistoryBody(props: IExperimentsViewProps): JSX.Element {
  const { state, trans } = props;
  if (state.status === 'error') {
    return (
      <div className="jp-mlvc-message jp-mlvc-error" role="alert">
        <p>{trans.__('Could not load the experiment history.')}</p>
        <p className="jp-mlvc-error-detail">{state.error}</p>
      </div>
    );
  }
  if (state.commits.length > 0) {
    return <CommitList commits={state.commits} trans={trans} />;
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
