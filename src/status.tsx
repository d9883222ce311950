/**
 * The status-bar item: the current branch of the notebook in focus and whether
 * it changed since its last commit. It renders the model's state, so it costs no
 * request of its own; clicking it opens the Experiments panel.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { historyIcon, ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import type { ExperimentsModel, IExperimentsState } from './model';

/**
 * What the item says, in words: its text and its accessible description.
 *
 * @param state - The model's state.
 * @param trans - Translates.
 * @returns The short text, and the sentence for the tooltip and screen readers;
 *   null when there is nothing to show (no notebook in focus).
 */
export function statusText(
  state: IExperimentsState,
  trans: TranslationBundle
): { text: string; description: string } | null {
  if (state.notebookPath === null) {
    return null;
  }
  if (state.status === 'ready' && !state.initialized) {
    return {
      text: trans.__('not versioned'),
      description: trans.__(
        'Experiments: no store for this notebook yet; commit to start one'
      )
    };
  }
  if (state.detached && state.head) {
    // not on a branch tip: the branch's name would say where the notebook is not
    const at = trans.__('detached at %1', state.head.slice(0, 8));
    return {
      text: state.changed === true ? `${at} ●` : at,
      description:
        state.changed === true
          ? trans.__(
              'Experiments: detached at commit %1 (not a branch tip), changed since; the next commit starts a branch',
              state.head.slice(0, 8)
            )
          : trans.__(
              'Experiments: detached at commit %1 (not a branch tip); the next commit starts a branch',
              state.head.slice(0, 8)
            )
    };
  }
  const branch =
    state.branch ?? state.branches.find(b => b.current)?.name ?? null;
  if (branch === null) {
    return {
      text: '…',
      description: trans.__('Experiments: the status is not known yet')
    };
  }
  if (state.changed === true) {
    return {
      text: `${branch} ●`,
      description: trans.__(
        'Experiments: branch %1, changed since the last commit',
        branch
      )
    };
  }
  if (state.changed === false) {
    return {
      text: branch,
      description: trans.__(
        'Experiments: branch %1, no change since the last commit',
        branch
      )
    };
  }
  return {
    text: branch,
    description: trans.__('Experiments: branch %1', branch)
  };
}

/**
 * The status-bar item.
 */
export class ExperimentsStatusItem extends ReactWidget {
  /**
   * Create the item.
   *
   * @param model - The model it shows.
   * @param trans - Translates.
   * @param open - Opens the Experiments panel.
   */
  constructor(
    private readonly _model: ExperimentsModel,
    private readonly _trans: TranslationBundle,
    private readonly _open: () => void
  ) {
    super();
    this.addClass('jp-mlvc-StatusItem');
    this._active = this.isActive;
    _model.stateChanged.connect(this._onState, this);
  }

  /**
   * Whether the item shows: while a notebook is in focus.
   */
  get isActive(): boolean {
    return this._model.state.notebookPath !== null;
  }

  /**
   * Emitted when {@link isActive} changes.
   */
  get activeChanged(): ISignal<this, void> {
    return this._activeChanged;
  }

  private _onState(): void {
    if (this.isActive !== this._active) {
      this._active = this.isActive;
      this._activeChanged.emit();
    }
  }

  protected render(): JSX.Element {
    return (
      <UseSignal<ExperimentsModel, IExperimentsState>
        signal={this._model.stateChanged}
        initialArgs={this._model.state}
      >
        {(_, state) => {
          const said = statusText(state ?? this._model.state, this._trans);
          if (said === null) {
            return <></>;
          }
          return (
            <button
              type="button"
              className="jp-mlvc-StatusItem-button"
              title={said.description}
              aria-label={said.description}
              onClick={this._open}
            >
              <historyIcon.react
                tag="span"
                className="jp-mlvc-StatusItem-icon"
              />
              <span className="jp-mlvc-StatusItem-text">{said.text}</span>
            </button>
          );
        }}
      </UseSignal>
    );
  }

  private _active: boolean;
  private _activeChanged = new Signal<this, void>(this);
}
