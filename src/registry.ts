/**
 * The state of the Models section of the Experiments panel: the registered models
 * of the store of the notebook in focus, and the registry's actions (register,
 * check gates, promote, roll back, approve, set gates, lineage).
 */
import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  approveModel,
  fetchCommit,
  fetchLineage,
  fetchModelHistory,
  fetchModels,
  MlvcRequestError,
  promoteModel,
  registerModel,
  rollbackModel,
  setModelGates
} from './api';
import { plainTranslation } from './model';
import type { ExperimentsModel } from './model';
import { Registry } from './tokens';

/**
 * A snapshot of the Models section's state.
 */
export interface IModelsState {
  /** The notebook whose store is shown; null when none is in focus. */
  readonly notebookPath: string | null;
  /** What the section is doing. */
  readonly status: 'no-notebook' | 'loading' | 'ready' | 'error';
  /** The models, by name. */
  readonly models: ReadonlyArray<Registry.IModelInfo>;
  /** Why the last fetch failed. */
  readonly error: string | null;
  /** The registry action that runs, in words; null when none. */
  readonly busy: string | null;
  /** The outcome of the last action, in words. */
  readonly result: string | null;
  /** Why the last action failed. */
  readonly actionError: string | null;
}

/**
 * What checking the gates of a promotion found (a dry run: nothing changes).
 */
export interface IGateCheck {
  /** Whether every gate passed, so the promotion can go ahead. */
  ok: boolean;
  /** Each gate's outcome. */
  gates: Registry.IGateResult[];
  /** The version that holds the alias now; null when none. */
  previous: number | null;
  /** Why the check itself failed (not a gate: a bad alias, a missing version...). */
  error: string | null;
}

/** The names a model may have (the registry's rule). */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Aliases offered when a model has none yet. */
export const COMMON_ALIASES: ReadonlyArray<string> = [
  'production',
  'staging',
  'champion',
  'challenger'
];

/**
 * The gate results a refused promotion carries in its error body (`{reason, gates}`).
 *
 * @param reason - What the request threw.
 * @returns The gates, or null when the error is not a gate refusal.
 */
export function refusedGates(reason: unknown): Registry.IGateResult[] | null {
  if (!(reason instanceof MlvcRequestError) || reason.status !== 409) {
    return null;
  }
  const body = reason.body as { gates?: unknown } | null;
  return body && Array.isArray(body.gates)
    ? (body.gates as Registry.IGateResult[])
    : null;
}

/**
 * The gates of an alias in words, one per gate: `metrics.auc >= 0.8`,
 * `evaluated`, `2 approvals`.
 *
 * @param gates - The alias's gates; undefined when none are set.
 * @param trans - Translates the words.
 */
export function describeGates(
  gates: Registry.IGates | undefined,
  trans: TranslationBundle = plainTranslation
): string[] {
  const out: string[] = [];
  if (gates?.metrics) {
    out.push(gates.metrics);
  }
  if (gates?.evaluated) {
    out.push(trans.__('evaluated against the holder'));
  }
  if (gates?.approvals) {
    out.push(
      gates.approvals === 1
        ? trans.__('1 approval')
        : trans.__('%1 approvals', gates.approvals)
    );
  }
  return out;
}

/** The storage formats of data, not models: offered after the others. */
const DATA_FORMATS = new Set([
  'json',
  'bytes',
  'random',
  'arrow',
  'parquet',
  'npy',
  'sparse',
  'image'
]);

/**
 * The variables of a commit record, models first: a variable stored in a data
 * format (a number, a frame, an array) comes after those that are not.
 *
 * @param variables - The record's variables: name -> what the commit stored.
 * @returns The names, models first, each group in name order.
 */
export function rankVariables(variables: {
  [name: string]: { format?: unknown };
}): string[] {
  const isData = (name: string): number =>
    DATA_FORMATS.has(String(variables[name]?.format ?? '')) ? 1 : 0;
  return Object.keys(variables).sort(
    (a, b) => isData(a) - isData(b) || a.localeCompare(b)
  );
}

/**
 * The version a rollback of `alias` moves it to: the registry keeps, per alias, the
 * stack of the versions that held it (a promotion pushes the holder it replaces,
 * then the new one; a rollback pops one), so rolling back twice goes two
 * promotions back. The stack is replayed here from the history.
 *
 * @param events - The model's history, newest first.
 * @param alias - The alias.
 * @returns The version, or null when the alias has no earlier holder.
 */
export function rollbackTarget(
  events: ReadonlyArray<Registry.IRegistryEvent>,
  alias: string
): number | null {
  const stack: number[] = [];
  for (const e of [...events].reverse()) {
    if (e.alias !== alias || e.version === null || e.version === undefined) {
      continue;
    }
    if (e.type === 'promote') {
      const previous = e.previous;
      if (
        previous !== null &&
        previous !== undefined &&
        stack[stack.length - 1] !== previous
      ) {
        stack.push(previous);
      }
      stack.push(e.version);
    } else if (e.type === 'rollback') {
      while (stack.length && stack[stack.length - 1] !== e.version) {
        stack.pop();
      }
      if (!stack.length) {
        stack.push(e.version);
      }
    }
  }
  stack.pop();
  return stack.length ? stack[stack.length - 1] : null;
}

/**
 * Owns the Models section's state and runs the registry's actions.
 */
export class ModelsModel implements IDisposable {
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

  /** The current state. */
  get state(): IModelsState {
    return this._state;
  }

  /** Emitted with the new state whenever it changes. */
  get stateChanged(): ISignal<this, IModelsState> {
    return this._stateChanged;
  }

  /** Whether the model is disposed. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * One model by name.
   *
   * @param name - The model's name.
   */
  find(name: string): Registry.IModelInfo | undefined {
    return this._state.models.find(m => m.name === name);
  }

  /**
   * Show the models of another notebook's store (or none).
   *
   * @param path - The notebook path, or null.
   */
  async setNotebook(path: string | null): Promise<void> {
    if (path === this._state.notebookPath) {
      return;
    }
    this._requestId++;
    this._setState({
      ...EMPTY,
      notebookPath: path,
      status: path === null ? 'no-notebook' : 'loading'
    });
    await this.refresh();
  }

  /**
   * Follow the notebook the Experiments model shows, and fetch the models again
   * when its history changes (a new commit, another branch, a pull).
   *
   * @param experiments - The Experiments model.
   * @returns Stops following when disposed.
   */
  follow(
    experiments: Pick<ExperimentsModel, 'state' | 'stateChanged'>
  ): IDisposable {
    let commits = experiments.state.commits;
    const onChange = (): void => {
      const state = experiments.state;
      if (state.notebookPath !== this._state.notebookPath) {
        commits = state.commits;
        void this.setNotebook(state.notebookPath);
      } else if (state.commits !== commits) {
        commits = state.commits;
        void this.refresh(true);
      }
    };
    experiments.stateChanged.connect(onChange);
    void this.setNotebook(experiments.state.notebookPath);
    return new DisposableDelegate(() =>
      experiments.stateChanged.disconnect(onChange)
    );
  }

  /**
   * Fetch the models again. A response that arrives after the notebook changed is
   * dropped.
   *
   * @param quiet - Keep what is shown while fetching (no loading state).
   */
  async refresh(quiet = false): Promise<void> {
    const path = this._state.notebookPath;
    if (path === null || this._isDisposed) {
      return;
    }
    const requestId = ++this._requestId;
    if (!quiet) {
      this._setState({ ...this._state, status: 'loading', error: null });
    }
    try {
      const models = await fetchModels(path, this._serverSettings);
      if (requestId === this._requestId && !this._isDisposed) {
        const sorted = [...models].sort((a, b) => a.name.localeCompare(b.name));
        this._setState({
          ...this._state,
          status: 'ready',
          models: sorted,
          error: null
        });
      }
    } catch (reason) {
      if (requestId === this._requestId && !this._isDisposed) {
        // A store without a registry yet, or no store: no models, not an error.
        if (reason instanceof MlvcRequestError && reason.status === 404) {
          this._setState({
            ...this._state,
            status: 'ready',
            models: [],
            error: null
          });
        } else {
          this._setState({
            ...this._state,
            status: 'error',
            error: this._errorMessage(reason)
          });
        }
      }
    }
  }

  /**
   * Register a variable of a commit as the next version of a model.
   *
   * @param name - The model (created by its first version).
   * @param rev - The commit.
   * @param variable - The variable of the commit.
   * @param message - Why this version.
   * @returns The new version, or null when it failed (`actionError` says why).
   */
  async register(
    name: string,
    rev: string,
    variable: string,
    message = ''
  ): Promise<Registry.IModelVersion | null> {
    return this._act('register', async path => {
      const made = await registerModel(
        path,
        name,
        { rev, variable, message, notebook: path },
        this._serverSettings
      );
      return [
        made,
        this._trans.__(
          'Registered %1 version %2 (%3 of %4)',
          made.name,
          made.version,
          made.variable,
          made.short_id
        )
      ];
    });
  }

  /**
   * The variables a commit stored, models first (for the Register dialog).
   *
   * @param rev - The commit.
   */
  async variablesOf(rev: string): Promise<string[]> {
    const record = await fetchCommit(this._path(), rev, this._serverSettings);
    return rankVariables(
      (record.variables ?? {}) as { [name: string]: { format?: unknown } }
    );
  }

  /**
   * Check the gates of a promotion without moving the alias (a dry run).
   *
   * @param name - The model.
   * @param version - The version to promote.
   * @param alias - The alias.
   * @param reason - Why (the server records it only when the promotion happens).
   * @returns What the gates say.
   */
  async checkGates(
    name: string,
    version: number,
    alias: string,
    reason: string
  ): Promise<IGateCheck> {
    const previous = this.find(name)?.aliases[alias] ?? null;
    try {
      const out = await promoteModel(
        this._path(),
        name,
        { version, alias, reason, dry_run: true },
        this._serverSettings
      );
      const gates = out.gates ?? [];
      return {
        ok: gates.every(g => g.ok),
        gates,
        previous: out.previous ?? previous,
        error: null
      };
    } catch (reason) {
      const gates = refusedGates(reason);
      if (gates !== null) {
        return { ok: false, gates, previous, error: null };
      }
      return {
        ok: false,
        gates: [],
        previous,
        error: this._errorMessage(reason)
      };
    }
  }

  /**
   * Move an alias to a version; the server checks the gates again and refuses
   * (nothing changes) when one fails.
   *
   * @param name - The model.
   * @param version - The version.
   * @param alias - The alias.
   * @param reason - Why, recorded with the move.
   * @returns The promotion, or null when it was refused or failed.
   */
  async promote(
    name: string,
    version: number,
    alias: string,
    reason: string
  ): Promise<Registry.IPromotion | null> {
    return this._act('promote', async path => {
      const out = await promoteModel(
        path,
        name,
        { version, alias, reason },
        this._serverSettings
      );
      return [
        out,
        out.previous === null || out.previous === undefined
          ? this._trans.__('%1 %2 is now version %3', name, alias, version)
          : this._trans.__(
              '%1 %2 is now version %3 (was %4)',
              name,
              alias,
              version,
              out.previous
            )
      ];
    });
  }

  /**
   * Move an alias back to the version that held it before.
   *
   * @param name - The model.
   * @param alias - The alias.
   * @param reason - Why, recorded with the move.
   * @returns The rollback, or null when it failed.
   */
  async rollback(
    name: string,
    alias: string,
    reason: string
  ): Promise<Registry.IPromotion | null> {
    return this._act('rollback', async path => {
      const out = await rollbackModel(
        path,
        name,
        { alias, reason },
        this._serverSettings
      );
      return [
        out,
        this._trans.__(
          '%1 %2 rolled back to version %3',
          name,
          alias,
          out.version
        )
      ];
    });
  }

  /**
   * Approve a version for an alias.
   *
   * @param name - The model.
   * @param version - The version.
   * @param alias - The alias.
   * @param comment - A comment.
   * @returns The approval, or null when it failed.
   */
  async approve(
    name: string,
    version: number,
    alias: string,
    comment = ''
  ): Promise<Registry.IRegistryEvent | null> {
    return this._act('approve', async path => {
      const out = await approveModel(
        path,
        name,
        { version, alias, comment },
        this._serverSettings
      );
      return [
        out,
        this._trans.__('Approved %1 version %2 for %3', name, version, alias)
      ];
    });
  }

  /**
   * Set the gates an alias checks.
   *
   * @param name - The model.
   * @param alias - The alias.
   * @param gates - The gates.
   * @returns The model, or null when it failed.
   */
  async setGates(
    name: string,
    alias: string,
    gates: Registry.IGates
  ): Promise<Registry.IModelInfo | null> {
    return this._act('gates', async path => {
      const out = await setModelGates(
        path,
        name,
        alias,
        gates,
        this._serverSettings
      );
      const words = describeGates(out.gates?.[alias] ?? gates, this._trans);
      return [
        out,
        words.length
          ? this._trans.__('%1 %2 gates: %3', name, alias, words.join(', '))
          : this._trans.__('%1 %2 has no gates', name, alias)
      ];
    });
  }

  /**
   * The history of a model, newest first.
   *
   * @param name - The model.
   */
  async history(name: string): Promise<Registry.IRegistryEvent[]> {
    return fetchModelHistory(this._path(), name, this._serverSettings);
  }

  /**
   * The version an alias goes back to on a rollback, from the history; null when
   * it has none (see {@link rollbackTarget}).
   *
   * @param name - The model.
   * @param alias - The alias.
   */
  async previousHolder(name: string, alias: string): Promise<number | null> {
    try {
      return rollbackTarget(await this.history(name), alias);
    } catch {
      return null;
    }
  }

  /**
   * The lineage of a model version or a commit.
   *
   * @param of - `{model: 'NAME@VERSION'}` or `{rev}`.
   */
  async lineage(
    of: { model: string } | { rev: string }
  ): Promise<Registry.ILineage> {
    return fetchLineage(this._path(), of, this._serverSettings);
  }

  /** Dispose of the model's resources. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _path(): string {
    const path = this._state.notebookPath;
    if (path === null) {
      throw new MlvcRequestError(this._trans.__('No notebook is in focus.'), 0);
    }
    return path;
  }

  private async _act<T>(
    busy: string,
    action: (path: string) => Promise<[T, string]>
  ): Promise<T | null> {
    const path = this._state.notebookPath;
    if (path === null || this._state.busy !== null) {
      return null;
    }
    this._setState({ ...this._state, busy, result: null, actionError: null });
    let out: T | null = null;
    try {
      const [value, said] = await action(path);
      out = value;
      this._setState({ ...this._state, busy: null, result: said });
    } catch (reason) {
      this._setState({
        ...this._state,
        busy: null,
        actionError: this._errorMessage(reason)
      });
    }
    await this.refresh(true);
    return out;
  }

  private _errorMessage(reason: unknown): string {
    return reason instanceof MlvcRequestError
      ? reason.message
      : this._trans.__('Unexpected error: %1', String(reason));
  }

  private _setState(state: IModelsState): void {
    this._state = state;
    this._stateChanged.emit(state);
  }

  private _isDisposed = false;
  private _requestId = 0;
  private _serverSettings: ServerConnection.ISettings | undefined;
  private _trans: TranslationBundle;
  private _state: IModelsState = EMPTY;
  private _stateChanged = new Signal<this, IModelsState>(this);
}

const EMPTY: IModelsState = {
  notebookPath: null,
  status: 'no-notebook',
  models: [],
  error: null,
  busy: null,
  result: null,
  actionError: null
};
