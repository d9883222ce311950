/**
 * The state of the Experiments panel, and the signals that announce its changes.
 */
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { fetchLog, MlvcRequestError } from './api';
import { Mlvc } from './tokens';

/**
 * What the panel is doing.
 *
 * - `no-notebook`: no notebook is in focus.
 * - `loading`: the history is being fetched.
 * - `ready`: the history is shown (it may be empty).
 * - `error`: the last fetch failed; `error` says why.
 */
export type ExperimentsStatus = 'no-notebook' | 'loading' | 'ready' | 'error';

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
}

/**
 * Owns the Experiments panel's state and fetches the history of the notebook in focus.
 */
export class ExperimentsModel implements IDisposable {
  /**
   * Create a model.
   *
   * @param serverSettings - The server connection settings; the default ones if omitted.
   */
  constructor(serverSettings?: ServerConnection.ISettings) {
    this._serverSettings = serverSettings;
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
        notebookPath: null,
        status: 'no-notebook',
        initialized: false,
        commits: [],
        error: null
      });
      return;
    }
    this._setState({ ...EMPTY_STATE, notebookPath: path, status: 'loading' });
    await this.refresh();
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
    try {
      const log = await fetchLog(path, undefined, this._serverSettings);
      if (requestId === this._requestId && !this._isDisposed) {
        this._setState({
          notebookPath: path,
          status: 'ready',
          initialized: log.initialized,
          commits: log.commits,
          error: null
        });
      }
    } catch (reason) {
      if (requestId === this._requestId && !this._isDisposed) {
        const message =
          reason instanceof MlvcRequestError
            ? reason.message
            : `Unexpected error: ${String(reason)}`;
        this._setState({
          ...this._state,
          status: 'error',
          error: message
        });
      }
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
  error: null
};
