/**
 * The JupyterLab plugins of mlvc: the Experiments panel in the left sidebar that
 * follows the notebook in focus, with its commands in the palette, the main menu
 * (schema/plugin.json), the notebook toolbar and the status bar; and the renderer
 * through which a kernel asks the frontend to save or reload its notebook.
 *
 * This module only wires plugins together: the commands are in `commands.ts`.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// The commands must be registered before the menus, toolbars and palette render.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addCommands, addToPalette, IPrefs, openRowMenu } from './commands';
import { followNotebooks } from './follow';
import { liveSync } from './live';
import { tellKernelsWhenMoved } from './rename';
// The panel needs its model at once.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ExperimentsModel } from './model';
// The panel's tab must be in the sidebar from the start, so it cannot load lazily.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ExperimentsPanel } from './panel';
import { mermaidRenderer } from './mermaid';
// The Models section is part of the panel, so it cannot load lazily either.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ModelsSection } from './modelsSection';
// The Models section's model is created with the panel's.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ModelsModel } from './registry';
// The registry's commands must be registered before the row menu opens.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import {
  addRegistryCommands,
  addRegistryToPalette,
  openVersionMenu
} from './registryCommands';
import {
  KernelRequestHandler,
  REQUEST_PLUGIN_ID,
  REQUEST_RENDERER_RANK,
  requestRendererFactory
} from './request';
import { ExperimentsStatusItem } from './status';
import { CommandIDs, PANEL_ID, PLUGIN_ID, RegistryCommandIDs } from './tokens';

/**
 * The rank of the panel among the left sidebar's tabs (after the file browser,
 * running sessions and table of contents).
 */
const PANEL_RANK = 600;

/**
 * The id of the status-bar item.
 */
const STATUS_ITEM_ID = 'jupyterlab-mlvc:status';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Version control for machine-learning experiments: the Experiments panel, its commands, menu, toolbar button and status-bar item.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [
    ILayoutRestorer,
    ITranslator,
    ICommandPalette,
    ISettingRegistry,
    IStatusBar,
    IRenderMimeRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    statusBar: IStatusBar | null,
    rendermime: IRenderMimeRegistry | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_mlvc');
    const model = new ExperimentsModel(
      app.serviceManager.serverSettings,
      trans
    );
    const models = new ModelsModel(app.serviceManager.serverSettings, trans);
    const prefs: IPrefs = { diffShowOutputs: false };
    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings): void => {
        model.configure({
          pageSize: settings.get('pageSize').composite as number,
          headlineMetrics: settings.get('headlineMetrics').composite as number
        });
        prefs.diffShowOutputs = settings.get('diffShowOutputs')
          .composite as boolean;
      };
      settingRegistry.load(PLUGIN_ID).then(
        settings => {
          apply(settings);
          settings.changed.connect(apply);
        },
        reason => console.warn('mlvc: settings not loaded', reason)
      );
    }

    addCommands({
      app,
      model,
      notebooks,
      trans,
      prefs,
      panelVisible: () => panel.isVisible
    });
    addRegistryCommands({
      app,
      model,
      models,
      trans,
      renderMermaid: rendermime ? mermaidRenderer(rendermime) : undefined
    });
    if (palette) {
      addToPalette(palette, trans);
      addRegistryToPalette(palette, trans);
    }

    const { commands } = app;
    const modelsSection = new ModelsSection(models, trans, {
      menu: (name, version, x, y) =>
        openVersionMenu(commands, name, version, x, y),
      rollback: (name, alias) =>
        void commands.execute(RegistryCommandIDs.rollbackModel, {
          name,
          alias
        }),
      gates: (name, alias) =>
        void commands.execute(RegistryCommandIDs.modelGates, { name, alias }),
      refresh: () => void models.refresh()
    });
    const panel = new ExperimentsPanel(model, trans, {
      commit: async message =>
        Boolean(await commands.execute(CommandIDs.commit, { message })),
      select: (id, additive) => model.select(id, additive),
      filter: text => model.setFilter(text),
      query: where => model.queryIds(where),
      switchBranch: name => void model.switchBranch(name),
      newBranch: () => void commands.execute(CommandIDs.newBranch, {}),
      diff: () => void commands.execute(CommandIDs.diff, {}),
      compare: () => void commands.execute(CommandIDs.compare, {}),
      loadMore: () => void model.loadMore(),
      cancelSweep: () => void model.cancelSweep(),
      sync: (kind, remote) =>
        void commands.execute(
          kind === 'push' ? CommandIDs.push : CommandIDs.pull,
          { remote }
        ),
      menu: (commit, x, y) => {
        model.select(commit.id, false);
        openRowMenu(commands, commit.id, x, y);
      }
    });
    // The Models section, below the history.
    panel.addWidget(modelsSection);
    app.shell.add(panel, 'left', { rank: PANEL_RANK });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
    }

    if (statusBar) {
      const item = new ExperimentsStatusItem(model, trans, () =>
        app.shell.activateById(PANEL_ID)
      );
      statusBar.registerStatusItem(STATUS_ITEM_ID, {
        item,
        align: 'left',
        rank: 5,
        isActive: () => item.isActive,
        activeStateChanged: item.activeChanged
      });
    }

    const following = followNotebooks(notebooks, model);
    const followingModels = models.follow(model);
    const live = liveSync(model, app.serviceManager.events ?? null);
    panel.disposed.connect(() => {
      live.dispose();
      following.dispose();
      followingModels.dispose();
      models.dispose();
      model.dispose();
    });
  }
};

/**
 * Carries out the requests a kernel displays as
 * `application/vnd.mlvc.request+json` outputs (save or revert its notebook), and
 * tells a kernel when its notebook was renamed or moved.
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
    tellKernelsWhenMoved(notebooks);
  }
};

export default [plugin, requestPlugin];
