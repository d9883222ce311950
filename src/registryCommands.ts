/**
 * The model registry's commands: Register Model… (a commit row's menu), Promote…,
 * Approve…, Gates…, Roll Back… and Lineage (the Models section), and the menu of
 * a model version.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { CommandRegistry } from '@lumino/commands';
import { Menu } from '@lumino/widgets';
import * as React from 'react';

import type { MermaidRenderer } from './components/LineageView';
import type { ExperimentsModel } from './model';
import { MODEL_NAME, ModelsModel } from './registry';
import { showView, type ViewArea } from './tabs';
import { Mlvc, RegistryCommandIDs } from './tokens';

/**
 * The arguments the registry's commands take.
 */
export interface IRegistryArgs {
  /** A commit id (Register Model…, Lineage of a commit). */
  id?: string;
  /** A model's name. */
  name?: string;
  /** A version of the model. */
  version?: number;
  /** An alias of the model. */
  alias?: string;
}

/**
 * The arguments a registry command was given, typed: values of the wrong type
 * are dropped.
 *
 * @param args - The raw arguments.
 */
export function readRegistryArgs(
  args: ReadonlyPartialJSONObject
): IRegistryArgs {
  const out: IRegistryArgs = {};
  for (const key of ['id', 'name', 'alias'] as const) {
    const value = args[key];
    if (typeof value === 'string' && value !== '') {
      out[key] = value;
    }
  }
  const version = args.version;
  if (typeof version === 'number' && Number.isInteger(version)) {
    out.version = version;
  } else if (typeof version === 'string' && /^\d+$/.test(version)) {
    out.version = Number(version);
  }
  return out;
}

/**
 * The JSON schema of {@link IRegistryArgs}, for `describedBy`.
 */
const ARGS_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'A commit id' },
    name: { type: 'string', description: 'A model name' },
    version: { type: 'integer', description: 'A version of the model' },
    alias: { type: 'string', description: 'An alias of the model' }
  }
};

/**
 * What the registry's commands work on.
 */
export interface IRegistryContext {
  /** The application. */
  app: JupyterFrontEnd;
  /** The Experiments model (the commits a model is registered from). */
  model: ExperimentsModel;
  /** The Models model. */
  models: ModelsModel;
  /** The extension's translation bundle. */
  trans: TranslationBundle;
  /** Draws the lineage's Mermaid graph; the text is shown when omitted. */
  renderMermaid?: MermaidRenderer;
  /** Where views open (`main`, or `down` in Notebook 7). */
  viewArea?: ViewArea;
}

/**
 * The commands of a model version's menu, in order.
 */
const VERSION_COMMANDS: ReadonlyArray<string> = [
  RegistryCommandIDs.promoteModel,
  RegistryCommandIDs.approveModel,
  RegistryCommandIDs.lineage
];

/**
 * Register the registry's commands.
 *
 * @param ctx - What the commands work on.
 */
export function addRegistryCommands(ctx: IRegistryContext): void {
  const { app, model, models, trans } = ctx;
  const { commands, shell } = app;
  const describedBy = { args: ARGS_SCHEMA };
  const commitOf = (args: IRegistryArgs): Mlvc.ICommitSummary | undefined => {
    const id = args.id ?? model.state.selected[model.state.selected.length - 1];
    return model.state.commits.find(c => c.id === id);
  };
  const idle = (): boolean =>
    models.state.notebookPath !== null && models.state.busy === null;
  const versionOf = (args: IRegistryArgs): boolean =>
    args.name !== undefined &&
    args.version !== undefined &&
    (models.find(args.name)?.versions ?? []).some(
      v => v.version === args.version
    );
  const failed = (title: string): void => {
    const error = models.state.actionError;
    if (error) {
      void showErrorMessage(title, error);
    }
  };
  const views = () => import('./registryViews');

  commands.addCommand(RegistryCommandIDs.registerModel, {
    describedBy,
    label: trans.__('Register Model…'),
    caption: trans.__(
      'Register a variable of this commit as the next version of a named model'
    ),
    isEnabled: raw => idle() && commitOf(readRegistryArgs(raw)) !== undefined,
    execute: async raw => {
      const commit = commitOf(readRegistryArgs(raw));
      if (!commit) {
        return null;
      }
      let variables: string[];
      try {
        variables = await models.variablesOf(commit.id);
      } catch (reason) {
        void showErrorMessage(
          trans.__('Could not read the commit'),
          String((reason as Error)?.message ?? reason)
        );
        return null;
      }
      if (variables.length === 0) {
        void showErrorMessage(
          trans.__('Register model'),
          trans.__('Commit %1 stored no variables.', commit.short_id)
        );
        return null;
      }
      const { RegisterBody } = await views();
      const result = await showDialog({
        title: trans.__('Register model'),
        body: new RegisterBody(
          commit,
          variables,
          models.state.models.map(m => m.name),
          trans
        ),
        focusNodeSelector: 'input[name="model"]',
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Register') })
        ]
      });
      const value = result.value;
      if (!result.button.accept || !value) {
        return null;
      }
      if (!MODEL_NAME.test(value.name)) {
        void showErrorMessage(
          trans.__('Register model'),
          trans.__(
            'A model name is 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit.'
          )
        );
        return null;
      }
      const made = await models.register(
        value.name,
        commit.id,
        value.variable,
        value.message
      );
      failed(trans.__('Could not register the model'));
      return made;
    }
  });

  commands.addCommand(RegistryCommandIDs.promoteModel, {
    describedBy,
    label: trans.__('Promote…'),
    caption: trans.__(
      'Move an alias to this version, after checking its gates'
    ),
    isEnabled: raw => idle() && versionOf(readRegistryArgs(raw)),
    execute: async raw => {
      const args = readRegistryArgs(raw);
      if (args.name === undefined || args.version === undefined) {
        return null;
      }
      const { name, version } = args;
      const info = models.find(name);
      const { PromoteBody, PromotionCheck } = await views();
      const asked = await showDialog({
        title: trans.__('Promote %1 version %2', name, version),
        body: new PromoteBody(info, version, trans, args.alias),
        focusNodeSelector: 'input[name="reason"]',
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Check gates') })
        ]
      });
      if (!asked.button.accept || !asked.value) {
        return null;
      }
      const { alias, reason } = asked.value;
      if (!alias || !reason) {
        void showErrorMessage(
          trans.__('Promote'),
          trans.__('A promotion needs an alias and a reason.')
        );
        return null;
      }
      const check = await models.checkGates(name, version, alias, reason);
      const confirmed = await showDialog({
        title: trans.__('Gates of %1 for %2 version %3', alias, name, version),
        body: React.createElement(PromotionCheck, {
          name,
          version,
          alias,
          check,
          trans
        }),
        buttons: check.ok
          ? [
              Dialog.cancelButton({ label: trans.__('Cancel') }),
              Dialog.warnButton({ label: trans.__('Promote') })
            ]
          : [Dialog.cancelButton({ label: trans.__('Close') })]
      });
      if (!check.ok || !confirmed.button.accept) {
        return null;
      }
      const out = await models.promote(name, version, alias, reason);
      failed(trans.__('Promotion refused'));
      return out;
    }
  });

  commands.addCommand(RegistryCommandIDs.rollbackModel, {
    describedBy,
    label: trans.__('Roll Back…'),
    caption: trans.__('Move an alias back to the version that held it before'),
    isEnabled: raw => {
      const args = readRegistryArgs(raw);
      return (
        idle() &&
        args.name !== undefined &&
        args.alias !== undefined &&
        models.find(args.name)?.aliases?.[args.alias] !== undefined
      );
    },
    execute: async raw => {
      const { name, alias } = readRegistryArgs(raw);
      if (name === undefined || alias === undefined) {
        return null;
      }
      const current = models.find(name)?.aliases?.[alias];
      const previous = await models.previousHolder(name, alias);
      const check =
        previous !== null
          ? await models.checkGates(name, previous, alias, trans.__('rollback'))
          : null;
      const { RollbackBody } = await views();
      const result = await showDialog({
        title: trans.__('Roll back %1 of %2', alias, name),
        body: new RollbackBody(name, alias, current, previous, check, trans),
        focusNodeSelector: 'input[name="reason"]',
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.warnButton({ label: trans.__('Roll back') })
        ]
      });
      if (!result.button.accept) {
        return null;
      }
      const reason = result.value ?? '';
      if (!reason) {
        void showErrorMessage(
          trans.__('Roll back'),
          trans.__('A rollback needs a reason.')
        );
        return null;
      }
      const out = await models.rollback(name, alias, reason);
      failed(trans.__('Rollback failed'));
      return out;
    }
  });

  commands.addCommand(RegistryCommandIDs.approveModel, {
    describedBy,
    label: trans.__('Approve…'),
    caption: trans.__('Approve this version for an alias'),
    isEnabled: raw => idle() && versionOf(readRegistryArgs(raw)),
    execute: async raw => {
      const { name, version } = readRegistryArgs(raw);
      if (name === undefined || version === undefined) {
        return null;
      }
      const { ApproveBody } = await views();
      const result = await showDialog({
        title: trans.__('Approve %1 version %2', name, version),
        body: new ApproveBody(models.find(name), version, trans),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Approve') })
        ]
      });
      if (!result.button.accept || !result.value?.alias) {
        return null;
      }
      const out = await models.approve(
        name,
        version,
        result.value.alias,
        result.value.comment
      );
      failed(trans.__('Approval failed'));
      return out;
    }
  });

  commands.addCommand(RegistryCommandIDs.modelGates, {
    describedBy,
    label: trans.__('Gates…'),
    caption: trans.__('Set what a version must pass before an alias moves'),
    isEnabled: raw => {
      const args = readRegistryArgs(raw);
      return idle() && args.name !== undefined && args.alias !== undefined;
    },
    execute: async raw => {
      const { name, alias } = readRegistryArgs(raw);
      if (name === undefined || alias === undefined) {
        return null;
      }
      const { GatesBody } = await views();
      const result = await showDialog({
        title: trans.__('Gates of %1 for %2', alias, name),
        body: new GatesBody(models.find(name), alias, trans),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Cancel') }),
          Dialog.okButton({ label: trans.__('Save') })
        ]
      });
      if (!result.button.accept || !result.value) {
        return null;
      }
      const out = await models.setGates(name, alias, result.value);
      failed(trans.__('Could not set the gates'));
      return out;
    }
  });

  commands.addCommand(RegistryCommandIDs.lineage, {
    describedBy,
    label: raw =>
      readRegistryArgs(raw).name !== undefined
        ? trans.__('Lineage')
        : trans.__('Lineage of Commit'),
    caption: trans.__(
      'The data read (and the commits that wrote it), the sources, the commit, model versions and aliases, as a graph'
    ),
    isEnabled: raw => {
      const args = readRegistryArgs(raw);
      return (
        models.state.notebookPath !== null &&
        (args.name !== undefined || commitOf(args) !== undefined)
      );
    },
    execute: async raw => {
      const args = readRegistryArgs(raw);
      let of: { model: string } | { rev: string };
      let label: string;
      if (args.name !== undefined) {
        const spec =
          args.version !== undefined
            ? `${args.name}@${args.version}`
            : args.alias !== undefined
              ? `${args.name}@${args.alias}`
              : args.name;
        of = { model: spec };
        label = trans.__('Lineage of %1', spec);
      } else {
        const commit = commitOf(args);
        if (!commit) {
          return null;
        }
        of = { rev: commit.id };
        label = trans.__('Lineage of %1', commit.short_id);
      }
      const { createLineageWidget } = await views();
      const widget = createLineageWidget(
        () => models.lineage(of),
        label,
        trans,
        ctx.renderMermaid
      );
      showView(shell, widget, ctx.viewArea ?? 'main');
      return widget.id;
    }
  });

  commands.addCommand(RegistryCommandIDs.refreshModels, {
    describedBy,
    label: trans.__('Refresh Models'),
    caption: trans.__('Fetch the registered models again'),
    isEnabled: () => models.state.notebookPath !== null,
    execute: () => models.refresh()
  });
}

/**
 * Open the menu of a model version (Promote…, Approve…, Lineage).
 *
 * @param commands - The command registry.
 * @param name - The model.
 * @param version - The version.
 * @param x - Where, in client coordinates.
 * @param y - Where, in client coordinates.
 */
export function openVersionMenu(
  commands: CommandRegistry,
  name: string,
  version: number,
  x: number,
  y: number
): void {
  const menu = new Menu({ commands });
  menu.addClass('jp-mlvc-RowMenu');
  menu.addClass('jp-mlvc-VersionMenu');
  const args = { name, version };
  for (const command of VERSION_COMMANDS) {
    menu.addItem({ command, args });
  }
  menu.aboutToClose.connect(() => {
    requestAnimationFrame(() => menu.dispose());
  });
  menu.open(x, y);
}

/**
 * List the registry's commands that need no model version in the command palette.
 *
 * @param palette - The command palette.
 * @param trans - Translates the category.
 */
export function addRegistryToPalette(
  palette: ICommandPalette,
  trans: TranslationBundle
): void {
  const category = trans.__('Experiments');
  for (const command of [
    RegistryCommandIDs.registerModel,
    RegistryCommandIDs.lineage,
    RegistryCommandIDs.refreshModels
  ]) {
    palette.addItem({ command, category });
  }
}
