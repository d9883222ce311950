/**
 * @jest-environment jsdom
 *
 * The commands against a real command registry and model, with the request layer
 * and JupyterLab's dialogs mocked; and the settings schema's menus, toolbar and
 * shortcuts against the commands that exist.
 */
/// <reference types="node" />
jest.mock('../api', () => ({
  MlvcRequestError: class extends Error {},
  fetchLogPage: jest.fn(),
  fetchStatus: jest.fn(),
  fetchRemotes: jest.fn(),
  createTag: jest.fn(),
  startSync: jest.fn(),
  fetchJob: jest.fn()
}));
// The row menu is not tested here (Lumino's widgets need a fuller DOM than jsdom).
jest.mock('@lumino/widgets', () => ({ Menu: jest.fn() }));
jest.mock('@jupyterlab/apputils', () => ({
  Clipboard: { copyToSystem: jest.fn() },
  Dialog: {},
  InputDialog: { getText: jest.fn(), getItem: jest.fn() },
  showDialog: jest.fn(),
  showErrorMessage: jest.fn()
}));

import { Clipboard, InputDialog } from '@jupyterlab/apputils';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { INotebookTracker } from '@jupyterlab/notebook';
import { CommandRegistry } from '@lumino/commands';

import * as api from '../api';
import { addCommands, argsSchema, readArgs } from '../commands';
import { ExperimentsModel, plainTranslation } from '../model';
import { CommandIDs, Mlvc } from '../tokens';

const schema = require('../../schema/plugin.json');

const mocked = api as jest.Mocked<typeof api>;
const dialogs = InputDialog as jest.Mocked<typeof InputDialog>;

function summary(id: string, parents: string[] = []): Mlvc.ICommitSummary {
  return {
    id: id.repeat(40),
    short_id: id.repeat(7),
    message: `commit ${id}`,
    author: 'ana',
    email: 'ana@example.org',
    status: 'ok',
    time: '2026-01-01T00:00:00+00:00',
    branch: 'main',
    notebook: 'nb.ipynb',
    params: {},
    metrics: {},
    parents,
    branches: [],
    tags: [],
    variables: []
  };
}

const A = summary('a');
const B = summary('b', [A.id]);

async function setup(
  commits: Mlvc.ICommitSummary[] = [B, A],
  remotes: string[] = []
): Promise<{ commands: CommandRegistry; model: ExperimentsModel }> {
  mocked.fetchLogPage.mockResolvedValue({
    initialized: true,
    commits,
    branches: [{ name: 'main', head: commits[0]?.id ?? null, current: true }],
    tags: [],
    skip: 0,
    limit: 100,
    has_more: false
  });
  mocked.fetchStatus.mockResolvedValue({
    initialized: true,
    kernel: 'idle',
    branch: 'main'
  });
  mocked.fetchRemotes.mockResolvedValue(
    remotes.map(name => ({
      name,
      url: `/srv/${name}`,
      payloads: null,
      payload_options: []
    }))
  );
  const commands = new CommandRegistry();
  const shell = { add: jest.fn(), activateById: jest.fn() };
  const app = { commands, shell } as unknown as JupyterFrontEnd;
  const notebooks = {
    find: () => undefined,
    forEach: () => undefined
  } as unknown as INotebookTracker;
  const model = new ExperimentsModel(undefined, plainTranslation);
  addCommands({
    app,
    model,
    notebooks,
    trans: plainTranslation,
    prefs: { diffShowOutputs: false }
  });
  await model.setNotebook('nb.ipynb');
  // Let the status and remotes requests that refresh started settle.
  await new Promise(resolve => setTimeout(resolve, 0));
  return { commands, model };
}

beforeEach(() => {
  jest.resetAllMocks();
});

describe('readArgs', () => {
  it('keeps the known arguments of the right type only', () => {
    expect(
      readArgs({ id: 'abc', a: 1, message: '', remote: 'origin', other: 'x' })
    ).toEqual({ id: 'abc', remote: 'origin' });
    expect(readArgs({ toolbar: true })).toEqual({ toolbar: true });
  });

  it('describes every argument it reads', () => {
    const properties = argsSchema(plainTranslation).properties as object;
    expect(Object.keys(properties).sort()).toEqual(
      ['a', 'b', 'id', 'message', 'remote', 'toolbar'].sort()
    );
  });
});

describe('the commands', () => {
  it('are all registered, with the one argument schema', async () => {
    const { commands } = await setup();
    const ids = Object.values(CommandIDs);
    expect(ids.length).toBeGreaterThanOrEqual(13);
    const expected = argsSchema(plainTranslation);
    for (const id of ids) {
      expect(commands.hasCommand(id)).toBe(true);
      expect(commands.label(id, {})).not.toBe('');
      const described = await commands.describedBy(id);
      expect(described.args).toEqual(expected);
    }
  });

  it('label a toolbar commit short', async () => {
    const { commands } = await setup();
    expect(commands.label(CommandIDs.commit, {})).toBe('Commit Experiment');
    expect(commands.label(CommandIDs.commit, { toolbar: true })).toBe('Commit');
  });

  it('tell toolbars when Commit turns on or off', async () => {
    const { commands, model } = await setup();
    const changed: string[] = [];
    commands.commandChanged.connect((_, args) => {
      if (args.id) {
        changed.push(args.id);
      }
    });
    expect(commands.isEnabled(CommandIDs.commit, {})).toBe(true);
    await model.setNotebook(null);
    expect(commands.isEnabled(CommandIDs.commit, {})).toBe(false);
    expect(changed).toEqual([CommandIDs.commit]);
  });

  it('diff the last commit with its parent when nothing is selected', async () => {
    const { commands, model } = await setup();
    expect(commands.label(CommandIDs.diff, {})).toBe(
      'Diff Last Commit with Parent'
    );
    expect(commands.isEnabled(CommandIDs.diff, {})).toBe(true);
    model.select(A.id);
    // The first commit has no parent: nothing to diff.
    expect(commands.label(CommandIDs.diff, {})).toBe('Diff Selected Commits');
    expect(commands.isEnabled(CommandIDs.diff, {})).toBe(false);
    expect(commands.isEnabled(CommandIDs.diff, { id: A.id })).toBe(false);
    expect(commands.isEnabled(CommandIDs.diff, { id: B.id })).toBe(true);
  });

  it('work on the selected commit without an id', async () => {
    const { commands, model } = await setup();
    expect(commands.isEnabled(CommandIDs.copyId, {})).toBe(false);
    model.select(A.id);
    expect(commands.isEnabled(CommandIDs.copyId, {})).toBe(true);
    await commands.execute(CommandIDs.copyId, {});
    expect(Clipboard.copyToSystem).toHaveBeenCalledWith(A.id);
    await commands.execute(CommandIDs.copyId, { id: B.id });
    expect(Clipboard.copyToSystem).toHaveBeenLastCalledWith(B.id);
  });

  it('ask for the commit when none is given or selected', async () => {
    const { commands } = await setup();
    dialogs.getItem.mockResolvedValue({
      button: { accept: true },
      value: `${A.short_id}  ${A.message}`
    } as any);
    dialogs.getText.mockResolvedValue({
      button: { accept: true },
      value: 'v1'
    } as any);
    mocked.createTag.mockResolvedValue(undefined);
    await commands.execute(CommandIDs.tag, {});
    expect(dialogs.getItem).toHaveBeenCalledTimes(1);
    expect(mocked.createTag).toHaveBeenCalledWith(
      'nb.ipynb',
      'v1',
      A.id,
      undefined
    );
  });

  it('are disabled for a commit that is not in the history', async () => {
    const { commands } = await setup();
    for (const id of [
      CommandIDs.checkout,
      CommandIDs.tag,
      CommandIDs.restore
    ]) {
      expect(commands.isEnabled(id, { id: 'f'.repeat(40) })).toBe(false);
      expect(commands.isEnabled(id, { id: A.id })).toBe(true);
    }
  });

  it('push to the only remote without asking', async () => {
    const { commands, model } = await setup([B, A], ['origin']);
    expect(model.state.remotes.map(r => r.name)).toEqual(['origin']);
    expect(commands.isEnabled(CommandIDs.push, {})).toBe(true);
    mocked.startSync.mockResolvedValue({
      id: '1',
      kind: 'push',
      state: 'succeeded',
      phase: 'done',
      started: '2026-01-01T00:00:00+00:00',
      result: { remote: 'origin', url: '/srv/origin', refs: [] }
    });
    await commands.execute(CommandIDs.push, {});
    expect(dialogs.getItem).not.toHaveBeenCalled();
    expect(mocked.startSync).toHaveBeenCalledWith(
      'push',
      'nb.ipynb',
      'origin',
      undefined
    );
  });

  it('cannot push or pull without a remote', async () => {
    const { commands } = await setup();
    expect(commands.isEnabled(CommandIDs.push, {})).toBe(false);
    expect(commands.isEnabled(CommandIDs.pull, {})).toBe(false);
  });
});

describe('the settings schema', () => {
  const known = new Set<string>(Object.values(CommandIDs));

  it('binds shortcuts to mlvc commands only', () => {
    const bound = schema['jupyter.lab.shortcuts'].map(
      (s: { command: string }) => s.command
    );
    expect(bound).toContain(CommandIDs.commit);
    // Lumino refuses selector lists: one binding per selector.
    for (const shortcut of schema['jupyter.lab.shortcuts']) {
      expect(shortcut.selector).not.toContain(',');
    }
    for (const command of bound) {
      expect(known.has(command)).toBe(true);
    }
  });

  it('has a main menu of existing commands', () => {
    const [menu] = schema['jupyter.lab.menus'].main;
    const items = menu.items
      .filter((i: { command?: string }) => i.command)
      .map((i: { command: string }) => i.command);
    for (const command of [
      CommandIDs.commit,
      CommandIDs.newBranch,
      CommandIDs.diff,
      CommandIDs.compare,
      CommandIDs.checkout,
      CommandIDs.openSettings
    ]) {
      expect(items).toContain(command);
    }
    for (const command of items) {
      expect(known.has(command)).toBe(true);
    }
  });

  it('puts Commit and the Experiments button in the notebook toolbar', () => {
    expect(schema['jupyter.lab.toolbars'].Notebook).toEqual([
      expect.objectContaining({ command: CommandIDs.commit }),
      // src/notebook7.ts: shown in Notebook 7 only
      expect.objectContaining({ command: 'mlvc:toggle-panel' })
    ]);
  });
});
