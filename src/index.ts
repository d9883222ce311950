/**
 * The JupyterLab plugins of mlvc: an "Experiments" panel in the left sidebar
 * that follows the notebook in focus, and the renderer through which a kernel
 * asks the frontend to save or reload its notebook.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { ExperimentsModel } from './model';
// The panel's tab must be in the sidebar from the start, so it cannot load lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ExperimentsPanel } from './panel';
import {
  KernelRequestHandler,
  REQUEST_PLUGIN_ID,
  REQUEST_RENDERER_RANK,
  requestRendererFactory
} from './request';
import { PANEL_ID, PLUGIN_ID } from './tokens';

/**
 * The rank of the panel among the left sidebar's tabs (after the file browser,
 * running sessions and table of contents).
 */
const PANEL_RANK = 600;

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Version control for machine-learning experiments: the Experiments panel.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_mlvc');
    const model = new ExperimentsModel(app.serviceManager.serverSettings);
    const panel = new ExperimentsPanel(model, trans);
    app.shell.add(panel, 'left', { rank: PANEL_RANK });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
    }

    const follow = (): void => {
      const notebook = notebooks.currentWidget;
      void model.setNotebook(notebook ? notebook.context.path : null);
    };
    notebooks.currentChanged.connect(follow);
    // A renamed notebook keeps its widget but changes path.
    notebooks.widgetUpdated.connect(follow);
    panel.disposed.connect(() => model.dispose());
    void app.restored.then(follow);
  }
};

/**
 * Carries out the requests a kernel displays as
 * `application/vnd.mlvc.request+json` outputs (save or revert its notebook).
 * It must be active before notebooks open: each notebook copies the rendermime
 * registry when it is created.
 */
const requestPlugin: JupyterFrontEndPlugin<void> = {
  id: REQUEST_PLUGIN_ID,
  description:
    'Lets the mlvc magics in a kernel save or reload the notebook they run for.',
  autoStart: true,
  requires: [IRenderMimeRegistry, INotebookTracker],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    notebooks: INotebookTracker,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_mlvc');
    const handler = new KernelRequestHandler(notebooks, trans);
    rendermime.addFactory(
      requestRendererFactory(handler),
      REQUEST_RENDERER_RANK
    );
  }
};

export default [plugin, requestPlugin];
