/**
 * The commands of mlvc. The panel's buttons, its row menu, the main menu, the
 * notebook toolbar, the command palette and the keyboard shortcuts all run
 * these, so each action is written once.
 *
 * Every command takes the same arguments, {@link ICommandArgs}, described once
 * by {@link argsSchema} and read once by {@link readArgs}.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  InputDialog,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';
import type {
  ReadonlyJSONObject,
  ReadonlyPartialJSONObject
} from '@lumino/coreutils';
import type { CommandRegistry } from '@lumino/commands';
import { Menu } from '@lumino/widgets';

import type { ExperimentsModel } from './model';
import { sessionSettled } from './rename';
import { TabReuse, type ViewArea } from './tabs';
import { CommandIDs, Mlvc, PANEL_ID, RegistryCommandIDs } from './tokens';

/**
 * The arguments every mlvc command takes; each command reads those it needs.
 */
export interface ICommandArgs {
  /** A commit id: the row a menu was opened on. Else the selected commit, else one is asked. */
  id?: string;
  /** The old revision of a diff. */
  a?: string;
  /** The new revision of a diff. */
  b?: string;
  /** The commit message; asked when omitted. */
  message?: string;
  /** The remote of a push or pull; the only one (or `origin`) when omitted, else asked. */
  remote?: string;
  /** Set by JupyterLab when a toolbar runs the command: the short label. */
  toolbar?: boolean;
}

/**
 * The JSON schema of {@link ICommandArgs}, for `describedBy`.
 *
 * @param trans - Translates the descriptions.
 */
export function argsSchema(trans: TranslationBundle): ReadonlyJSONObject {
  return {
    type: 'object',
    properties: {
      id: {
        type: 'string',
        description: trans.__(
          'A commit id; the selected commit when omitted, else one is asked'
        )
      },
      a: { type: 'string', description: trans.__('The old revision') },
      b: { type: 'string', description: trans.__('The new revision') },
      message: {
        type: 'string',
        description: trans.__('The commit message; asked when omitted')
      },
      remote: {
        type: 'string',
        description: trans.__(
          'The remote; the only one (or origin) when omitted, else asked'
        )
      },
      toolbar: {
        type: 'boolean',
        description: trans.__('Run from a toolbar (shows the short label)')
      }
    }
  };
}

/**
 * The arguments a command was given, typed: values of the wrong type are dropped.
 *
 * @param args - The raw arguments.
 */
export function readArgs(args: ReadonlyPartialJSONObject): ICommandArgs {
  const out: ICommandArgs = {};
  for (const key of ['id', 'a', 'b', 'message', 'remote'] as const) {
    const value = args[key];
    if (typeof value === 'string' && value !== '') {
      out[key] = value;
    }
  }
  if (args.toolbar === true) {
    out.toolbar = true;
  }
  return out;
}

/**
 * Settings the commands read when they run.
 */
export interface IPrefs {
  /** Open diffs with outputs shown. */
  diffShowOutputs: boolean;
}

/**
 * What the commands work on.
 */
export interface ICommandContext {
  /** The application. */
  app: JupyterFrontEnd;
  /** The Experiments model (the notebook in focus, its history and selection). */
  model: ExperimentsModel;
  /** The open notebooks. */
  notebooks: INotebookTracker;
  /** The extension's translation bundle. */
  trans: TranslationBundle;
  /** The settings the commands read. */
  prefs: IPrefs;
  /**
   * Whether the Experiments panel shows: it reports what commit, push and pull
   * did itself, so they open an error dialog only when it is hidden.
   */
  panelVisible?: () => boolean;
  /** Where Diff and Compare open (`main`, or `down` in Notebook 7). */
  viewArea?: ViewArea;
}

/**
 * The commands the command palette lists: all of them (those of a commit row work
 * on the selected commit there, or ask for one).
 */
const PALETTE_COMMANDS: ReadonlyArray<string> = [
  CommandIDs.commit,
  CommandIDs.newBranch,
  CommandIDs.diff,
  CommandIDs.compare,
  CommandIDs.startSweep,
  CommandIDs.evaluate,
  CommandIDs.checkout,
  CommandIDs.dataCheckout,
  CommandIDs.tag,
  CommandIDs.restore,
  CommandIDs.copyId,
  CommandIDs.push,
  CommandIDs.pull,
  CommandIDs.refresh,
  CommandIDs.showPanel,
  CommandIDs.openSettings
];

/**
 * The commands of a commit row's context menu, in order.
 */
const ROW_COMMANDS: ReadonlyArray<string> = [
  CommandIDs.diff,
  CommandIDs.checkout,
  CommandIDs.dataCheckout,
  CommandIDs.newBranch,
  CommandIDs.tag,
  CommandIDs.restore,
  RegistryCommandIDs.registerModel,
  RegistryCommandIDs.lineage,
  CommandIDs.copyId
];

/**
 * The command of JupyterLab's settings editor.
 */
const SETTING_EDITOR_OPEN = 'settingeditor:open';

/**
 * Register the mlvc commands.
 *
 * @param ctx - What the commands work on.
 */
export function addCommands(ctx: ICommandContext): void {
  const { app, model, notebooks, trans, prefs, panelVisible } = ctx;
  const { commands, shell } = app;
  const tabs = new TabReuse(shell, ctx.viewArea ?? 'main');
  const describedBy = { args: argsSchema(trans) };
  const notebookOf = (): NotebookPanel | null => {
    const path = model.state.notebookPath;
    return notebooks.find(w => w.context.path === path) ?? null;
  };
  const commitOf = (id: string | undefined): Mlvc.ICommitSummary | undefined =>
    id === undefined ? undefined : model.state.commits.find(c => c.id === id);
  const selectedCommit = (): Mlvc.ICommitSummary | undefined => {
    const sel = model.state.selected;
    return commitOf(sel[sel.length - 1]);
  };
  // The commit a row command works on: the row's, else the selected one.
  const targetOf = (args: ICommandArgs): Mlvc.ICommitSummary | undefined =>
    args.id !== undefined ? commitOf(args.id) : selectedCommit();
  // ... else one the user picks among the loaded commits.
  const chooseCommit = async (
    args: ICommandArgs,
    title: string
  ): Promise<Mlvc.ICommitSummary | undefined> => {
    const target = targetOf(args);
    if (target || args.id !== undefined) {
      return target;
    }
    const commits = model.state.commits;
    const items = commits.map(c => `${c.short_id}  ${c.message}`);
    const answer = await InputDialog.getItem({
      title,
      label: trans.__('Commit'),
      items
    });
    if (!answer.button.accept || answer.value === null) {
      return undefined;
    }
    return commits[items.indexOf(answer.value)];
  };
  const canTarget = (args: ICommandArgs): boolean =>
    args.id !== undefined
      ? commitOf(args.id) !== undefined
      : model.state.commits.length > 0;
  const idle = (): boolean =>
    model.state.notebookPath !== null && model.state.busy === null;
  const reportError = (title: string, unlessPanel = false): void => {
    const error = model.state.actionError;
    if (error && !(unlessPanel && panelVisible?.())) {
      void showErrorMessage(title, error);
    }
  };
  // Undo a data checkout, and say what it did (a file changed since is named).
  const undoData = async (safety: string): Promise<void> => {
    try {
      const r = await model.undoDataCheckout(safety);
      const alone = Object.keys(r.left_alone);
      const text = trans.__(
        'Data files put back as they were: %1.',
        [...r.put_back, ...r.removed].join(', ') || trans.__('none')
      );
      if (alone.length > 0) {
        Notification.warning(
          `${text} ${trans.__('Changed since, left alone: %1.', alone.join(', '))}`,
          { autoClose: false }
        );
      } else {
        Notification.success(text, { autoClose: 5000 });
      }
    } catch (reason) {
      void showErrorMessage(
        trans.__('Undo of the data checkout failed'),
        String((reason as Error)?.message ?? reason)
      );
    }
  };
  // The pair a diff shows: given, the row's with its parent, the selection, or
  // the last commit with its parent.
  const diffPairOf = (args: ICommandArgs): [string, string] | null => {
    if (args.a !== undefined && args.b !== undefined) {
      return [args.a, args.b];
    }
    if (args.id !== undefined) {
      const parent = commitOf(args.id)?.parents[0];
      return parent ? [parent, args.id] : null;
    }
    const pair = model.diffPair();
    if (pair || model.state.selected.length > 0) {
      return pair;
    }
    const last = model.state.commits[0];
    return last && last.parents.length > 0 ? [last.parents[0], last.id] : null;
  };

  // Toolbar buttons render again only when told: tell them when Commit turns on or off.
  let canCommit = idle();
  model.stateChanged.connect(() => {
    if (idle() !== canCommit) {
      canCommit = idle();
      commands.notifyCommandChanged(CommandIDs.commit);
    }
  });

  commands.addCommand(CommandIDs.commit, {
    describedBy,
    label: raw =>
      readArgs(raw).toolbar
        ? trans.__('Commit')
        : trans.__('Commit Experiment'),
    caption: trans.__('Save the notebook and commit it with its variables'),
    isEnabled: idle,
    execute: async raw => {
      const args = readArgs(raw);
      let message = args.message ?? '';
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
          await sessionSettled(notebook);
        }
      });
      reportError(trans.__('Commit failed'), true);
      return made !== null;
    }
  });

  commands.addCommand(CommandIDs.diff, {
    describedBy,
    label: raw => {
      const args = readArgs(raw);
      if (args.id !== undefined) {
        return trans.__('Diff with Parent');
      }
      return model.state.selected.length > 0
        ? trans.__('Diff Selected Commits')
        : trans.__('Diff Last Commit with Parent');
    },
    caption: trans.__(
      'Compare two commits: params, metrics, variables, data and notebook cells'
    ),
    isEnabled: raw => diffPairOf(readArgs(raw)) !== null,
    execute: async raw => {
      const pair = diffPairOf(readArgs(raw));
      if (!pair) {
        return;
      }
      const [a, b] = pair;
      const label = trans.__('Diff %1 → %2', a.slice(0, 7), b.slice(0, 7));
      const { createDiffWidget } = await import('./views');
      const messages = [a, b].map(id => commitOf(id)?.message.split('\n')[0]);
      await tabs.open(`diff:${model.state.notebookPath}:${a}:${b}`, () => {
        const widget = createDiffWidget(
          () => model.loadDiff(a, b),
          label,
          trans,
          prefs.diffShowOutputs,
          () => model.loadDataDiff(a, b)
        );
        widget.title.caption = `${a.slice(0, 8)} ${messages[0] ?? ''}\n→ ${b.slice(0, 8)} ${messages[1] ?? ''}`;
        return widget;
      });
    }
  });

  commands.addCommand(CommandIDs.compare, {
    describedBy,
    label: trans.__('Compare Experiments'),
    caption: trans.__(
      'A table and charts of the params and metrics of commits'
    ),
    isEnabled: () => model.state.notebookPath !== null,
    execute: async () => {
      const name = (model.state.notebookPath ?? '').split('/').pop();
      const { createCompareWidget } = await import('./views');
      const create = () =>
        createCompareWidget(
          async () => {
            // The table matters most: the chart of steps can do without its series.
            const chart = (kind: 'scatter' | 'parallel') =>
              model.loadCompareChart(kind).catch(() => null);
            const [compare, series, scatter, parallel] = await Promise.all([
              model.loadCompare(),
              model.loadSeries().catch(() => ({ series: {} })),
              chart('scatter'),
              chart('parallel')
            ]);
            return { compare, series, charts: { scatter, parallel } };
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
      // one Compare tab per notebook, refreshed when opened again
      await tabs.open(`compare:${model.state.notebookPath}`, create, true);
    }
  });

  commands.addCommand(CommandIDs.startSweep, {
    describedBy,
    label: trans.__('Start Sweep…'),
    caption: trans.__(
      'Run the notebook for every combination of values of its parameters cell'
    ),
    isEnabled: () => model.state.notebookPath !== null,
    execute: async () => {
      const panel = notebookOf();
      const path = model.state.notebookPath;
      if (!panel || path === null) {
        return;
      }
      const { parametersOf, SweepBody } = await import('./sweep');
      const cells = panel.content.model?.sharedModel.cells ?? [];
      const parameters = parametersOf(
        cells.map(c => ({
          source: c.getSource(),
          tags: ((c.getMetadata('tags') as string[] | undefined) ?? []).map(
            String
          )
        }))
      );
      if (parameters.length === 0) {
        await showErrorMessage(
          trans.__('Start Sweep'),
          trans.__(
            'The notebook has no cell tagged "parameters" (Property Inspector > Cell Tags): its assignments are what a sweep varies.'
          )
        );
        return;
      }
      await panel.context.save();
      const stem = (path.split('/').pop() ?? 'sweep').replace(/\.ipynb$/, '');
      const body = new SweepBody(parameters, stem, trans);
      const result = await showDialog({
        title: trans.__('Start Sweep of %1', path.split('/').pop() ?? path),
        body,
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Start') })
        ]
      });
      if (!result.button.accept || !result.value) {
        return;
      }
      if (Object.keys(result.value.params).length === 0) {
        await showErrorMessage(
          trans.__('Start Sweep'),
          trans.__('Give at least one parameter its values.')
        );
        return;
      }
      await model.sweep(result.value);
    }
  });

  commands.addCommand(CommandIDs.evaluate, {
    describedBy,
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
        void showErrorMessage(
          trans.__('Evaluation failed'),
          err instanceof Error ? err.message : String(err)
        );
      }
    }
  });

  commands.addCommand(CommandIDs.checkout, {
    describedBy,
    label: trans.__('Checkout…'),
    caption: trans.__(
      'Bring back the notebook and/or the variables of a commit (your state is committed first)'
    ),
    isEnabled: raw => idle() && canTarget(readArgs(raw)),
    execute: async raw => {
      const commit = await chooseCommit(readArgs(raw), trans.__('Checkout'));
      const path = model.state.notebookPath;
      if (!commit || path === null) {
        return;
      }
      const { CheckoutBody } = await import('./views');
      // the data files it read that differ here, to put back too (none known when
      // the plan cannot be had: the checkout itself still can)
      const plan = await model.checkoutData(commit.id, true).catch(() => null);
      const body = new CheckoutBody(commit, path, trans, plan);
      const result = await showDialog({
        title: trans.__('Checkout'),
        body,
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Checkout') })
        ]
      });
      if (!result.button.accept || result.value === null) {
        return;
      }
      const { mode, data } = result.value;
      const notebook = notebookOf();
      const { branch, head, detached } = model.state;
      const go = async (
        rev: string,
        how: Mlvc.CheckoutMode,
        files: string[] = []
      ) => {
        if (notebook && notebook.context.model.dirty && how !== 'variables') {
          await notebook.context.save();
        }
        if (notebook) {
          await sessionSettled(notebook);
        }
        const out = await model.checkout(rev, how, files);
        if (out?.notebook_written && notebook) {
          await notebook.context.revert();
        }
        reportError(trans.__('Checkout failed'));
        return out;
      };
      const out = await go(commit.id, mode, data);
      if (out) {
        const { notifyCheckout } = await import('./notify');
        const label = `${commit.id.slice(0, 8)} "${commit.message.split('\n')[0].slice(0, 30)}"`;
        const safety = out.data?.safety ?? null;
        notifyCheckout(
          out,
          label,
          { branch, head, detached },
          rev =>
            void go(rev, mode).then(async back => {
              // the data files it replaced go back too (those changed since stay)
              if (back && safety) {
                await undoData(safety);
              }
            }),
          trans
        );
      }
    }
  });

  commands.addCommand(CommandIDs.dataCheckout, {
    describedBy,
    label: trans.__('Check Out Data Files…'),
    caption: trans.__(
      'Put back the data files a commit read (each replaced file is kept as a safety copy)'
    ),
    isEnabled: raw => idle() && canTarget(readArgs(raw)),
    execute: async raw => {
      const commit = await chooseCommit(
        readArgs(raw),
        trans.__('Check out data files')
      );
      if (!commit) {
        return;
      }
      const failed = (reason: unknown) =>
        void showErrorMessage(
          trans.__('Data checkout failed'),
          String((reason as Error)?.message ?? reason)
        );
      let plan: Mlvc.IDataCheckout;
      try {
        plan = await model.checkoutData(commit.id, true);
      } catch (reason) {
        failed(reason);
        return;
      }
      const { dataCheckoutBody } = await import('./datadialog');
      const nothing = plan.restored.length === 0;
      const result = await showDialog({
        title: trans.__('Check out data files of %1', commit.short_id),
        body: dataCheckoutBody(plan, trans),
        buttons: nothing
          ? [Dialog.okButton({ label: trans.__('Close') })]
          : [
              Dialog.cancelButton({ label: trans.__('Cancel') }),
              Dialog.warnButton({ label: trans.__('Replace Files') })
            ]
      });
      if (nothing || !result.button.accept) {
        return;
      }
      try {
        const done = await model.checkoutData(commit.id, false);
        const copies = Object.keys(done.safety_copies).length;
        const safety = done.safety;
        Notification.success(
          copies
            ? trans.__(
                'Checked out %1 data file(s) of %2; the files replaced are kept under .mlvc/mlvc/data-safety/',
                done.restored.length,
                commit.short_id
              )
            : trans.__(
                'Checked out %1 data file(s) of %2',
                done.restored.length,
                commit.short_id
              ),
          {
            autoClose: 15000,
            actions: safety
              ? [
                  {
                    label: trans.__('Undo'),
                    caption: trans.__(
                      'Put back the files as they were before this checkout'
                    ),
                    callback: () => void undoData(safety)
                  }
                ]
              : []
          }
        );
      } catch (reason) {
        failed(reason);
      }
    }
  });

  commands.addCommand(CommandIDs.newBranch, {
    describedBy,
    label: raw =>
      readArgs(raw).id !== undefined
        ? trans.__('New Branch from Here…')
        : trans.__('New Branch…'),
    caption: trans.__('Start a new experiment: a branch, made current'),
    isEnabled: raw => {
      const args = readArgs(raw);
      return (
        idle() && (args.id === undefined || commitOf(args.id) !== undefined)
      );
    },
    execute: async raw => {
      const args = readArgs(raw);
      const answer = await InputDialog.getText({
        title: trans.__('New branch'),
        label: trans.__('Branch name'),
        okLabel: trans.__('Create')
      });
      if (!answer.button.accept || !answer.value?.trim()) {
        return;
      }
      await model.createBranch(answer.value.trim(), args.id);
      reportError(trans.__('Could not create the branch'));
    }
  });

  commands.addCommand(CommandIDs.tag, {
    describedBy,
    label: trans.__('Tag…'),
    caption: trans.__('Name a commit, e.g. a model version'),
    isEnabled: raw => idle() && canTarget(readArgs(raw)),
    execute: async raw => {
      const commit = await chooseCommit(readArgs(raw), trans.__('Tag commit'));
      if (!commit) {
        return;
      }
      const answer = await InputDialog.getText({
        title: trans.__('Tag commit'),
        label: trans.__('Tag name'),
        okLabel: trans.__('Tag')
      });
      if (!answer.button.accept || !answer.value?.trim()) {
        return;
      }
      await model.tag(answer.value.trim(), commit.id);
      reportError(trans.__('Could not tag the commit'));
    }
  });

  commands.addCommand(CommandIDs.restore, {
    describedBy,
    label: trans.__('Restore Variables…'),
    caption: trans.__('Load chosen variables of a commit into the kernel'),
    isEnabled: raw => idle() && canTarget(readArgs(raw)),
    execute: async raw => {
      const commit = await chooseCommit(
        readArgs(raw),
        trans.__('Restore variables')
      );
      if (!commit) {
        return;
      }
      // the status may be older than the kernel: ask again before saying no
      if (model.state.kernel === 'none') {
        await model.refreshStatus();
      }
      if (model.state.kernel === 'none') {
        void showErrorMessage(
          trans.__('No kernel'),
          trans.__(
            'Restoring variables needs the notebook’s running kernel: start it, then try again.'
          )
        );
        return;
      }
      let names: string[];
      try {
        names = await model.variablesOf(commit.id);
      } catch (reason) {
        void showErrorMessage(
          trans.__('Could not read the commit'),
          String(reason)
        );
        return;
      }
      const { RestoreBody } = await import('./views');
      const source = `${commit.id.slice(0, 8)} "${commit.message.split('\n')[0].slice(0, 60)}"`;
      const result = await showDialog({
        title: trans.__('Restore variables from %1', commit.id.slice(0, 8)),
        body: new RestoreBody(names, trans, source),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Restore') })
        ]
      });
      const chosen = result.value;
      if (!result.button.accept || !chosen || chosen.length === 0) {
        return;
      }
      await model.restore(commit.id, chosen);
      reportError(trans.__('Restore failed'));
    }
  });

  commands.addCommand(CommandIDs.copyId, {
    describedBy,
    label: trans.__('Copy Id'),
    caption: trans.__('Copy the full id of a commit'),
    isEnabled: raw => targetOf(readArgs(raw)) !== undefined,
    execute: raw => {
      const commit = targetOf(readArgs(raw));
      if (commit) {
        Clipboard.copyToSystem(commit.id);
      }
    }
  });

  // The remote of a push or pull: given, the only one or origin, else asked.
  const remoteOf = async (
    args: ICommandArgs,
    title: string
  ): Promise<string | null> => {
    const names = model.state.remotes.map(r => r.name);
    if (args.remote !== undefined) {
      return names.includes(args.remote) ? args.remote : null;
    }
    if (names.length === 1) {
      return names[0];
    }
    const answer = await InputDialog.getItem({
      title,
      label: trans.__('Remote'),
      items: names,
      current: names.includes('origin') ? 'origin' : undefined
    });
    return answer.button.accept ? answer.value : null;
  };
  const sync =
    (kind: 'push' | 'pull') => async (raw: ReadonlyPartialJSONObject) => {
      const remote = await remoteOf(
        readArgs(raw),
        kind === 'push' ? trans.__('Push to') : trans.__('Pull from')
      );
      if (remote === null) {
        return;
      }
      const written = await model.sync(kind, remote);
      // a pull that brought the files of open notebooks along: each shows its file,
      // unless the document has edits of its own (saving then asks which to keep)
      const reverts: Promise<void>[] = [];
      notebooks.forEach(panel => {
        const path = panel.context.path;
        if (
          !panel.context.model.dirty &&
          written.some(nb => path === nb || path.endsWith(`/${nb}`))
        ) {
          reverts.push(panel.context.revert());
        }
      });
      await Promise.all(reverts);
      reportError(
        kind === 'push' ? trans.__('Push failed') : trans.__('Pull failed'),
        true
      );
    };
  const canSync = (): boolean => idle() && model.state.remotes.length > 0;

  commands.addCommand(CommandIDs.push, {
    describedBy,
    label: trans.__('Push to Remote…'),
    caption: trans.__('Send branches, tags and payloads to a remote'),
    isEnabled: canSync,
    execute: sync('push')
  });

  commands.addCommand(CommandIDs.pull, {
    describedBy,
    label: trans.__('Pull from Remote…'),
    caption: trans.__('Fetch a remote and fast-forward the branches'),
    isEnabled: canSync,
    execute: sync('pull')
  });

  commands.addCommand(CommandIDs.refresh, {
    describedBy,
    label: trans.__('Refresh Experiments'),
    caption: trans.__('Fetch the history and status of the notebook again'),
    isEnabled: () => model.state.notebookPath !== null,
    execute: () => model.refresh()
  });

  commands.addCommand(CommandIDs.showPanel, {
    describedBy,
    label: trans.__('Show Experiments Panel'),
    caption: trans.__('The history of the notebook in focus'),
    execute: () => {
      shell.activateById(PANEL_ID);
    }
  });

  commands.addCommand(CommandIDs.openSettings, {
    describedBy,
    label: trans.__('Experiments Settings'),
    caption: trans.__('Commits per page, metrics per row, diff options'),
    isVisible: () => commands.hasCommand(SETTING_EDITOR_OPEN),
    execute: () =>
      commands.execute(SETTING_EDITOR_OPEN, { query: 'Experiments (mlvc)' })
  });
}

/**
 * List the commands in the command palette, under one category.
 *
 * @param palette - The command palette.
 * @param trans - Translates the category.
 */
export function addToPalette(
  palette: ICommandPalette,
  trans: TranslationBundle
): void {
  const category = trans.__('Experiments');
  for (const command of PALETTE_COMMANDS) {
    palette.addItem({ command, category });
  }
}

/**
 * Open the context menu of a commit row.
 *
 * @param commands - The command registry.
 * @param id - The commit.
 * @param x - Where, in client coordinates.
 * @param y - Where, in client coordinates.
 */
export function openRowMenu(
  commands: CommandRegistry,
  id: string,
  x: number,
  y: number
): void {
  const menu = new Menu({ commands });
  menu.addClass('jp-mlvc-RowMenu');
  const args = { id };
  for (const command of ROW_COMMANDS) {
    menu.addItem({ command, args });
  }
  menu.aboutToClose.connect(() => {
    // Dispose after the triggered command has run.
    requestAnimationFrame(() => menu.dispose());
  });
  menu.open(x, y);
}
