/**
 * The Experiments side panel: a header, a toolbar and the React body.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  historyIcon,
  ReactWidget,
  refreshIcon,
  SidePanel,
  ToolbarButton,
  UseSignal
} from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';
import * as React from 'react';

import {
  ExperimentsView,
  IExperimentsActions
} from './components/ExperimentsView';
import { ExperimentsModel, IExperimentsState } from './model';
import { PANEL_ID } from './tokens';

/**
 * The left-sidebar panel that lists the experiments of the notebook in focus.
 */
export class ExperimentsPanel extends SidePanel {
  /**
   * Create the panel.
   *
   * @param model - The model the panel shows and drives.
   * @param trans - The translation bundle of the extension.
   * @param actions - What the panel's controls do.
   */
  constructor(
    model: ExperimentsModel,
    trans: TranslationBundle,
    actions?: IExperimentsActions
  ) {
    super({ content: new Panel() });
    this.model = model;
    this.id = PANEL_ID;
    this.addClass('jp-mlvc-ExperimentsPanel');
    this.title.icon = historyIcon;
    this.title.caption = trans.__('Experiments');

    const heading = document.createElement('h2');
    heading.textContent = trans.__('Experiments');
    heading.classList.add('jp-text-truncated');
    this.header.addWidget(new Widget({ node: heading }));

    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Refresh'),
        onClick: () => {
          void this.model.refresh();
        }
      })
    );

    this.addWidget(new ExperimentsBody(model, trans, actions));
  }

  /**
   * The model the panel shows.
   */
  readonly model: ExperimentsModel;

  /**
   * Fetch the history again each time the panel is shown, so it is never stale.
   */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refresh();
  }
}

/**
 * Renders the model's state with React, again on each change.
 */
class ExperimentsBody extends ReactWidget {
  constructor(
    private readonly _model: ExperimentsModel,
    private readonly _trans: TranslationBundle,
    private readonly _actions?: IExperimentsActions
  ) {
    super();
    this.addClass('jp-mlvc-ExperimentsBody');
  }

  protected render(): JSX.Element {
    return (
      <UseSignal<ExperimentsModel, IExperimentsState>
        signal={this._model.stateChanged}
        initialArgs={this._model.state}
      >
        {(_, state) => (
          <ExperimentsView
            state={state ?? this._model.state}
            trans={this._trans}
            actions={this._actions}
          />
        )}
      </UseSignal>
    );
  }
}
