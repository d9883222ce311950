/**
 * The Models section at the bottom of the Experiments panel: a header that folds
 * it (with the number of models and a refresh button), then the models.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  ReactWidget,
  refreshIcon,
  UseSignal
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { IModelsActions, ModelsView } from './components/ModelsView';
import { IModelsState, ModelsModel } from './registry';

/**
 * The Models section.
 */
export class ModelsSection extends ReactWidget {
  /**
   * Create the section.
   *
   * @param model - The Models model.
   * @param trans - The translation bundle of the extension.
   * @param actions - What the controls do.
   */
  constructor(
    readonly model: ModelsModel,
    private readonly _trans: TranslationBundle,
    private readonly _actions?: IModelsActions
  ) {
    super();
    this.addClass('jp-mlvc-ModelsSection');
  }

  /** Whether the section is folded to its header. */
  get collapsed(): boolean {
    return this._collapsed;
  }

  set collapsed(value: boolean) {
    this._collapsed = value;
    this.toggleClass('jp-mlvc-mod-collapsed', value);
    this.update();
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    return (
      <UseSignal<ModelsModel, IModelsState>
        signal={this.model.stateChanged}
        initialArgs={this.model.state}
      >
        {(_, state) => {
          const s = state ?? this.model.state;
          const Caret = this._collapsed ? caretRightIcon : caretDownIcon;
          return (
            <>
              <div className="jp-mlvc-ModelsSection-header">
                <button
                  className="jp-mlvc-ModelsSection-toggle"
                  aria-expanded={!this._collapsed}
                  aria-controls="jp-mlvc-models-body"
                  onClick={() => {
                    this.collapsed = !this._collapsed;
                  }}
                >
                  <Caret.react
                    tag="span"
                    className="jp-mlvc-ModelsSection-caret"
                  />
                  <h3>{trans.__('Models')}</h3>
                  {s.models.length > 0 && (
                    <span className="jp-mlvc-ModelsSection-count">
                      {s.models.length}
                    </span>
                  )}
                </button>
                {this._actions && (
                  <button
                    className="jp-mlvc-ModelsSection-refresh"
                    aria-label={trans.__('Reload models')}
                    title={trans.__('Reload models')}
                    onClick={() => this._actions?.refresh()}
                  >
                    <refreshIcon.react tag="span" />
                  </button>
                )}
              </div>
              {!this._collapsed && (
                <div
                  id="jp-mlvc-models-body"
                  className="jp-mlvc-ModelsSection-body"
                >
                  <ModelsView state={s} trans={trans} actions={this._actions} />
                </div>
              )}
            </>
          );
        }}
      </UseSignal>
    );
  }

  private _collapsed = false;
}
