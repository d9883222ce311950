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
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  InputDialog,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// The panel needs its model at once.
// eslint-disable-next-line jupyter/prefer-lazy-imports
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
import { CommandIDs, Mlvc, PANEL_ID, PLUGIN_ID } from './tokens';
import { Menu } from '@lumino/widgets';

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
  optional: [ILayoutRestorer, ITranslator, ICommandPalette, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_mlvc');
    const model = new ExperimentsModel(
      app.serviceManager.serverSettings,
      trans
    );
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
    addCommands(app, model, notebooks, trans, prefs);
    if (palette) {
      const category = trans.__('Experiments');
      for (const command of [
        CommandIDs.commit,
        CommandIDs.diff,
        CommandIDs.compare,
        CommandIDs.evaluate
      ]) {
        palette.addItem({ command, category });
      }
    }
    const { commands } = app;
    const panel = new ExperimentsPanel(model, trans, {
      commit: async message =>
        Boolean(await commands.execute(CommandIDs.commit, { message })),
      select: (id, additive) => model.select(id, additive),
      filter: text => model.setFilter(text),
      switchBranch: name => void model.switchBranch(name),
      newBranch: () => void commands.execute(CommandIDs.newBranch, {}),
      diff: () => void commands.execute(CommandIDs.diff, {}),
      compare: () => void commands.execute(CommandIDs.compare, {}),
      loadMore: () => void model.loadMore(),
      sync: (kind, remote) => void model.sync(kind, remote),
      menu: (commit, x, y) => {
        model.select(commit.id, false);
        const menu = new Menu({ commands });
        menu.addClass('jp-mlvc-RowMenu');
        const args = { id: commit.id };
        menu.addItem({ command: CommandIDs.diff, args });
        menu.addItem({ command: CommandIDs.checkout, args });
        menu.addItem({ command: CommandIDs.newBranch, args });
        menu.addItem({ command: CommandIDs.tag, args });
        menu.addItem({ command: CommandIDs.restore, args });
        menu.addItem({ command: CommandIDs.copyId, args });
        menu.aboutToClose.connect(() => {
          // Dispose after the triggered command has run.
          requestAnimationFrame(() => menu.dispose());
        });
        menu.open(x, y);
      }
    });
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
 * Register the commands of the Experiments panel.
 */
/**
 * Settings the commands read when they run.
 */
interface IPrefs {
  /** Open diffs with outputs shown. */
  diffShowOutputs: boolean;
}

function addCommands(
  app: JupyterFrontEnd,
  model: ExperimentsModel,
  notebooks: INotebookTracker,
  trans: ReturnType<typeof nullTranslator.load>,
  prefs: IPrefs
): void {
  const { commands, shell } = app;
  const notebookOf = () => {
    const path = model.state.notebookPath;
    return notebooks.find(w => w.context.path === path) ?? null;
  };
  const commitOf = (id: unknown): Mlvc.ICommitSummary | undefined =>
    model.state.commits.find(c => c.id === id);
  const reportError = (title: string, error: string | null) => {
    if (error) {
      void showErrorMessage(title, error);
    }
  };

  commands.addCommand(CommandIDs.commit, {
    describedBy: {
      args: {
        type: 'object',
        properties: {
          message: {
            type: 'string',
            description: trans.__('The commit message; asked when omitted')
          }
        }
      }
    },
    label: trans.__('Commit Experiment'),
    caption: trans.__('Save the notebook and commit it with its variables'),
    isEnabled: () => model.state.notebookPath !== null,
    execute: async args => {
      let message = typeof args.message === 'string' ? args.message : '';
      if (!message.trim()) {
        const answer = await InputDialog.getText({
          title: trans.__('Commit message'),
          label: trans.__('Message'),
          okLabel: trans.__('Commit')
        });
        if (!answer.button.accept || !answer.value?.trim()) {
          return false;
        }
        message = answer.value;
      }
      const notebook = notebookOf();
      const made = await model.commit(message, async () => {
        if (notebook) {
          await notebook.context.save();
        }
      });
      return made !== null;
    }
  });

  commands.addCommand(CommandIDs.diff, {
    describedBy: {
      args: {
        type: 'object',
        properties: {
          id: {
            type: 'string',
            description: trans.__('A commit to diff with its parent')
          },
          a: { type: 'string', description: trans.__('The old revision') },
          b: { type: 'string', description: trans.__('The new revision') }
        }
      }
    },
    label: args =>
      args.id
        ? trans.__('Diff with Parent')
        : trans.__('Diff Selected Commits'),
    isEnabled: args =>
      args.id
        ? (commitOf(args.id)?.parents?.length ?? 0) > 0
        : model.diffPair() !== null,
    execute: async args => {
      let pair: [string, string] | null;
      if (typeof args.a === 'string' && typeof args.b === 'string') {
        pair = [args.a, args.b];
      } else if (args.id) {
        const parent = commitOf(args.id)?.parents?.[0];
        pair = parent ? [parent, String(args.id)] : null;
      } else {
        pair = model.diffPair();
      }
      if (!pair) {
        return;
      }
      const [a, b] = pair;
      const label = trans.__('Diff %1 → %2', a.slice(0, 7), b.slice(0, 7));
      const { createDiffWidget } = await import('./views');
      const widget = createDiffWidget(
        () => model.loadDiff(a, b),
        label,
        trans,
        prefs.diffShowOutputs
      );
      shell.add(widget, 'main');
      shell.activateById(widget.id);
    }
  });

  commands.addCommand(CommandIDs.compare, {
    describedBy: { args: { type: 'object', properties: {} } },
    label: trans.__('Compare Experiments'),
    isEnabled: () => model.state.notebookPath !== null,
    execute: async () => {
      const name = (model.state.notebookPath ?? '').split('/').pop();
      const { createCompareWidget } = await import('./views');
      const widget = createCompareWidget(
        async () => {
          // The table matters most: the chart of steps can do without its series.
          const [compare, series] = await Promise.all([
            model.loadCompare(),
            model.loadSeries().catch(() => ({ series: {} }))
          ]);
          return { compare, series };
        },
        trans.__('Compare %1', name ?? ''),
        trans,
        {
          changed: model.stateChanged,
          selected: () => model.state.selected,
          toggle: id => model.select(id, true),
          diff: (a, b) => void commands.execute(CommandIDs.diff, { a, b })
        }
      );
      shell.add(widget, 'main');
      shell.activateById(widget.id);
    }
  });

  commands.addCommand(CommandIDs.evaluate, {
    describedBy: { args: { type: 'object', properties: {} } },
    label: trans.__('Evaluate Selected Commits…'),
    isEnabled: () => model.diffPair() !== null,
    execute: async () => {
      const pair = model.diffPair();
      const path = model.state.notebookPath;
      if (!pair || path === null) {
        return;
      }
      const data = await InputDialog.getText({
        title: trans.__('Evaluate: labeled data file'),
        label: trans.__(
          'Parquet, CSV or JSON-lines file, relative to the server root'
        ),
        placeholder: trans.__('data/test.parquet')
      });
      if (!data.button.accept || !data.value) {
        return;
      }
      const target = await InputDialog.getText({
        title: trans.__('Evaluate: target column'),
        placeholder: trans.__('y')
      });
      if (!target.button.accept || !target.value) {
        return;
      }
      const [{ createEvaluation }, { EvaluationReport }, React] =
        await Promise.all([
          import('./api'),
          import('./evaluation'),
          import('react')
        ]);
      try {
        const report = await createEvaluation(path, {
          a: pair[0],
          b: pair[1],
          data: data.value,
          target: target.value
        });
        await showDialog({
          title: trans.__(
            'Evaluation %1 → %2',
            pair[0].slice(0, 7),
            pair[1].slice(0, 7)
          ),
          body: React.createElement(EvaluationReport, { report, trans }),
          buttons: [Dialog.okButton({ label: trans.__('Close') })]
        });
        await model.refresh();
      } catch (err) {
        reportError(
          trans.__('Evaluation failed'),
          err instanceof Error ? err.message : String(err)
        );
      }
    }
  });

  commands.addCommand(CommandIDs.checkout, {
    describedBy: {
      args: {
        type: 'object',
        properties: {
          id: { type: 'string', description: trans.__('The commit id') }
        }
      }
    },
    label: trans.__('Checkout…'),
    isEnabled: args => commitOf(args.id) !== undefined,
    execute: async args => {
      const commit = commitOf(args.id);
      const path = model.state.notebookPath;
      if (!commit || path === null) {
        return;
      }
      const { CheckoutBody } = await import('./views');
      const body = new CheckoutBody(commit, path, trans);
      const result = await showDialog({
        title: trans.__('Checkout'),
        body,
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Checkout') })
        ]
      });
      if (!result.button.accept) {
        return;
      }
      const mode = result.value as Mlvc.CheckoutMode;
      const notebook = notebookOf();
      if (notebook && notebook.context.model.dirty && mode !== 'variables') {
        await notebook.context.save();
      }
      const out = await model.checkout(commit.id, mode);
      if (out?.notebook_written && notebook) {
        await notebook.context.revert();
      }
      reportError(trans.__('Checkout failed'), model.state.actionError);
    }
  });

  commands.addCommand(CommandIDs.newBranch, {
    describedBy: {
      args: {
        type: 'object',
        properties: {
          id: { type: 'string', description: trans.__('The commit id') }
        }
      }
    },
    label: args =>
      args.id ? trans.__('New Branch from Here…') : trans.__('New Branch…'),
    execute: async args => {
      const answer = await InputDialog.getText({
        title: trans.__('New branch'),
        label: trans.__('Branch name'),
        okLabel: trans.__('Create')
      });
      if (!answer.button.accept || !answer.value?.trim()) {
        return;
      }
      await model.createBranch(
        answer.value.trim(),
        typeof args.id === 'string' ? args.id : undefined
      );
      reportError(
        trans.__('Could not create the branch'),
        model.state.actionError
      );
    }
  });

  commands.addCommand(CommandIDs.tag, {
    describedBy: {
      args: {
        type: 'object',
        properties: {
          id: { type: 'string', description: trans.__('The commit id') }
        }
      }
    },
    label: trans.__('Tag…'),
    isEnabled: args => commitOf(args.id) !== undefined,
    execute: async args => {
      const answer = await InputDialog.getText({
        title: trans.__('Tag commit'),
        label: trans.__('Tag name'),
        okLabel: trans.__('Tag')
      });
      if (!answer.button.accept || !answer.value?.trim()) {
        return;
      }
      await model.tag(answer.value.trim(), String(args.id));
      reportError(
        trans.__('Could not tag the commit'),
        model.state.actionError
      );
    }
  });

  commands.addCommand(CommandIDs.restore, {
    describedBy: {
      args: {
        type: 'object',
        properties: {
          id: { type: 'string', description: trans.__('The commit id') }
        }
      }
    },
    label: trans.__('Restore Variables…'),
    isEnabled: args => commitOf(args.id) !== undefined,
    execute: async args => {
      const id = String(args.id);
      let names: string[];
      try {
        names = await model.variablesOf(id);
      } catch (reason) {
        void showErrorMessage(
          trans.__('Could not read the commit'),
          String(reason)
        );
        return;
      }
      const { RestoreBody } = await import('./views');
      const result = await showDialog({
        title: trans.__('Restore variables'),
        body: new RestoreBody(names, trans),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Restore') })
        ]
      });
      const chosen = result.value as string[] | null;
      if (!result.button.accept || !chosen || chosen.length === 0) {
        return;
      }
      await model.restore(id, chosen);
      reportError(trans.__('Restore failed'), model.state.actionError);
    }
  });

  commands.addCommand(CommandIDs.copyId, {
    describedBy: {
      args: {
        type: 'object',
        properties: {
          id: { type: 'string', description: trans.__('The commit id') }
        }
      }
    },
    label: trans.__('Copy Id'),
    execute: args => {
      Clipboard.copyToSystem(String(args.id));
    }
  });
}

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
