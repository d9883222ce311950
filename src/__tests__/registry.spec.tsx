/**
 * @jest-environment jsdom
 *
 * The Models section: its model against a mocked request layer, its views
 * rendered to HTML, and the registry's commands (register, promote through the
 * gate check, roll back) against a real command registry with JupyterLab's
 * dialogs mocked.
 */
/// <reference types="node" />
jest.mock('../api', () => {
  class MlvcRequestError extends Error {
    constructor(
      message: string,
      readonly status: number,
      readonly body: unknown = null
    ) {
      super(message);
    }
  }
  return {
    MlvcRequestError,
    fetchModels: jest.fn(),
    fetchModelHistory: jest.fn(),
    registerModel: jest.fn(),
    promoteModel: jest.fn(),
    rollbackModel: jest.fn(),
    approveModel: jest.fn(),
    setModelGates: jest.fn(),
    fetchLineage: jest.fn(),
    fetchLogPage: jest.fn(),
    fetchStatus: jest.fn(),
    fetchRemotes: jest.fn(),
    fetchCommit: jest.fn()
  };
});
jest.mock('@lumino/widgets', () => ({ Menu: jest.fn(), Widget: class {} }));
jest.mock('@jupyterlab/apputils', () => ({
  Dialog: {
    cancelButton: (o: object) => ({ ...o, accept: false }),
    okButton: (o: object) => ({ ...o, accept: true }),
    warnButton: (o: object) => ({ ...o, accept: true })
  },
  showDialog: jest.fn(),
  showErrorMessage: jest.fn()
}));
// The dialog bodies are DOM widgets: stand-ins that hold what the test answers.
jest.mock('../registryViews', () => ({
  RegisterBody: jest.fn(),
  PromoteBody: jest.fn(),
  RollbackBody: jest.fn(),
  ApproveBody: jest.fn(),
  GatesBody: jest.fn(),
  PromotionCheck: () => null,
  createLineageWidget: jest.fn(() => ({ id: 'lineage-1' }))
}));

import { showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';
import { TextDecoder, TextEncoder } from 'util';

import * as api from '../api';
import { LineageView, nodeDetails } from '../components/LineageView';
import { GateResults, ModelsView } from '../components/ModelsView';
import { ExperimentsModel, plainTranslation } from '../model';
import {
  describeGates,
  IModelsState,
  ModelsModel,
  refusedGates,
  rollbackTarget
} from '../registry';
import { addRegistryCommands, readRegistryArgs } from '../registryCommands';
import * as views from '../registryViews';
import { Mlvc, Registry, RegistryCommandIDs } from '../tokens';

// jsdom has no TextEncoder, which React's HTML renderer needs.
Object.assign(global, { TextEncoder, TextDecoder });
const { renderToStaticMarkup } =
  require('react-dom/server') as typeof import('react-dom/server');

const mocked = api as jest.Mocked<typeof api>;
const dialog = showDialog as jest.MockedFunction<typeof showDialog>;
const trans = plainTranslation;

function version(
  v: number,
  extra: Partial<Registry.IModelVersion> = {}
): Registry.IModelVersion {
  return {
    name: 'churn',
    version: v,
    commit: String(v).repeat(40),
    short_id: String(v).repeat(7),
    variable: 'clf',
    notebook: 'train.ipynb',
    branch: 'main',
    registered_by: 'ada',
    time: '2026-01-01T00:00:00+00:00',
    message: '',
    params: {},
    metrics: { auc: 0.7 + v / 100 },
    kind: 'skops',
    aliases: [],
    ...extra
  };
}

const CHURN: Registry.IModelInfo = {
  name: 'churn',
  versions: [version(3), version(2, { aliases: ['production'] }), version(1)],
  aliases: { production: 2 },
  gates: {
    production: { metrics: 'metrics.auc >= 0.8', evaluated: true, approvals: 1 }
  },
  latest: 3
};

const FRAUD: Registry.IModelInfo = {
  name: 'fraud',
  versions: [version(1, { name: 'fraud' })],
  aliases: {},
  gates: {},
  latest: 1
};

function summary(id: string): Mlvc.ICommitSummary {
  return {
    id: id.repeat(40),
    short_id: id.repeat(7),
    message: `commit ${id}`,
    author: 'ana',
    email: 'ana@example.org',
    status: 'ok',
    time: '2026-01-01T00:00:00+00:00',
    branch: 'main',
    notebook: 'train.ipynb',
    params: {},
    metrics: {},
    parents: [],
    branches: [],
    tags: [],
    variables: ['clf', 'X']
  };
}

/** A history event, with the fields a test does not care about filled in. */
function event(
  e: Partial<Registry.IRegistryEvent> & Pick<Registry.IRegistryEvent, 'type'>
): Registry.IRegistryEvent {
  return {
    id: 'e'.repeat(40),
    user: 'ada',
    time: '',
    version: null,
    alias: null,
    previous: null,
    reason: '',
    gates: [],
    ...e
  };
}

const tick = () => new Promise(resolve => setTimeout(resolve, 0));

beforeEach(() => {
  jest.resetAllMocks();
  mocked.fetchModels.mockResolvedValue([FRAUD, CHURN]);
});

describe('ModelsModel', () => {
  it('lists the models of the notebook store, by name', async () => {
    const models = new ModelsModel(undefined, trans);
    await models.setNotebook('train.ipynb');
    expect(mocked.fetchModels).toHaveBeenCalledWith('train.ipynb', undefined);
    expect(models.state.status).toBe('ready');
    expect(models.state.models.map(m => m.name)).toEqual(['churn', 'fraud']);
    expect(models.find('churn')?.aliases.production).toBe(2);
  });

  it('shows no models for a store without a registry (404), and errors otherwise', async () => {
    const models = new ModelsModel(undefined, trans);
    mocked.fetchModels.mockRejectedValueOnce(
      new api.MlvcRequestError('no store', 404)
    );
    await models.setNotebook('a.ipynb');
    expect(models.state).toMatchObject({ status: 'ready', models: [] });
    mocked.fetchModels.mockRejectedValueOnce(
      new api.MlvcRequestError('boom', 500)
    );
    await models.refresh();
    expect(models.state).toMatchObject({ status: 'error', error: 'boom' });
  });

  it('follows the notebook of the Experiments model and its new commits', async () => {
    mocked.fetchLogPage.mockResolvedValue({
      initialized: true,
      commits: [summary('a')],
      branches: [],
      tags: [],
      skip: 0,
      limit: 100,
      has_more: false
    });
    mocked.fetchStatus.mockRejectedValue(new Error('no status'));
    mocked.fetchRemotes.mockResolvedValue([]);
    const experiments = new ExperimentsModel(undefined, trans);
    const models = new ModelsModel(undefined, trans);
    const following = models.follow(experiments);
    expect(models.state.status).toBe('no-notebook');
    await experiments.setNotebook('train.ipynb');
    await tick();
    expect(models.state.notebookPath).toBe('train.ipynb');
    const calls = mocked.fetchModels.mock.calls.length;
    expect(calls).toBeGreaterThanOrEqual(1);
    // A refresh that brings the same history fetches nothing more; a new commit does.
    await experiments.refresh();
    await tick();
    expect(mocked.fetchModels.mock.calls.length).toBe(calls);
    mocked.fetchLogPage.mockResolvedValue({
      initialized: true,
      commits: [summary('b'), summary('a')],
      branches: [],
      tags: [],
      skip: 0,
      limit: 100,
      has_more: false
    });
    await experiments.refresh();
    await tick();
    expect(mocked.fetchModels.mock.calls.length).toBeGreaterThan(calls);
    following.dispose();
    await experiments.setNotebook(null);
    expect(models.state.notebookPath).toBe('train.ipynb');
  });

  it('checks gates with a dry run, reading a refusal from the 409 body', async () => {
    const models = new ModelsModel(undefined, trans);
    await models.setNotebook('train.ipynb');
    const failedGates = [
      { gate: 'metrics', ok: false, detail: 'metrics.auc = 0.73 < 0.8' },
      { gate: 'approvals', ok: true, detail: '1 of 1' }
    ];
    mocked.promoteModel.mockRejectedValueOnce(
      new api.MlvcRequestError('gate metrics failed', 409, {
        reason: 'gate metrics failed',
        gates: failedGates
      })
    );
    const refused = await models.checkGates('churn', 3, 'production', 'better');
    expect(mocked.promoteModel).toHaveBeenCalledWith(
      'train.ipynb',
      'churn',
      { version: 3, alias: 'production', reason: 'better', dry_run: true },
      undefined
    );
    expect(refused).toEqual({
      ok: false,
      gates: failedGates,
      previous: 2,
      error: null
    });
    // A dry run that answers 200 with the gates: ok when all pass.
    mocked.promoteModel.mockResolvedValueOnce({
      name: 'churn',
      alias: 'production',
      version: 3,
      previous: 2,
      promoted: false,
      gates: [{ gate: 'metrics', ok: true, detail: '0.83 >= 0.8' }],
      event: null
    });
    const passed = await models.checkGates('churn', 3, 'production', 'x');
    expect(passed.ok).toBe(true);
    // Another error is not a gate result.
    mocked.promoteModel.mockRejectedValueOnce(
      new api.MlvcRequestError('no version 9', 404)
    );
    const missing = await models.checkGates('churn', 9, 'production', 'x');
    expect(missing).toMatchObject({
      ok: false,
      gates: [],
      error: 'no version 9'
    });
  });

  it('promotes, and says why when the server refuses', async () => {
    const models = new ModelsModel(undefined, trans);
    await models.setNotebook('train.ipynb');
    mocked.promoteModel.mockResolvedValueOnce({
      name: 'churn',
      alias: 'production',
      version: 3,
      previous: 2,
      promoted: true,
      gates: [],
      event: null
    });
    const out = await models.promote('churn', 3, 'production', 'better auc');
    expect(out?.promoted).toBe(true);
    expect(models.state.result).toBe(
      'churn production is now version 3 (was 2)'
    );
    expect(mocked.promoteModel.mock.calls[0][2]).toEqual({
      version: 3,
      alias: 'production',
      reason: 'better auc'
    });
    mocked.promoteModel.mockRejectedValueOnce(
      new api.MlvcRequestError('gate approvals failed: 0 of 1', 409, {
        gates: []
      })
    );
    expect(await models.promote('churn', 3, 'production', 'x')).toBeNull();
    expect(models.state.actionError).toBe('gate approvals failed: 0 of 1');
    expect(models.state.busy).toBeNull();
  });

  it('registers, rolls back, approves and sets gates with the bodies of the contract', async () => {
    const models = new ModelsModel(undefined, trans);
    await models.setNotebook('train.ipynb');
    mocked.registerModel.mockResolvedValueOnce(version(4));
    await models.register('churn', 'a'.repeat(40), 'clf', 'retrained');
    expect(mocked.registerModel).toHaveBeenCalledWith(
      'train.ipynb',
      'churn',
      {
        rev: 'a'.repeat(40),
        variable: 'clf',
        message: 'retrained',
        notebook: 'train.ipynb'
      },
      undefined
    );
    expect(models.state.result).toBe(
      'Registered churn version 4 (clf of 4444444)'
    );
    mocked.rollbackModel.mockResolvedValueOnce({
      name: 'churn',
      alias: 'production',
      version: 1,
      previous: 2,
      promoted: true,
      gates: [],
      event: null
    });
    await models.rollback('churn', 'production', 'regression');
    expect(mocked.rollbackModel.mock.calls[0][2]).toEqual({
      alias: 'production',
      reason: 'regression'
    });
    expect(models.state.result).toBe(
      'churn production rolled back to version 1'
    );
    mocked.approveModel.mockResolvedValueOnce(
      event({ type: 'approve', user: 'bob' })
    );
    await models.approve('churn', 3, 'production', 'lgtm');
    expect(mocked.approveModel.mock.calls[0][2]).toEqual({
      version: 3,
      alias: 'production',
      comment: 'lgtm'
    });
    mocked.setModelGates.mockResolvedValueOnce(CHURN);
    await models.setGates('churn', 'production', { approvals: 1 });
    expect(mocked.setModelGates.mock.calls[0].slice(1, 4)).toEqual([
      'churn',
      'production',
      { approvals: 1 }
    ]);
    expect(models.state.result).toBe(
      'churn production gates: metrics.auc >= 0.8, evaluated against the holder, 1 approval'
    );
  });

  it('finds the version an alias goes back to in the history', async () => {
    const models = new ModelsModel(undefined, trans);
    await models.setNotebook('train.ipynb');
    mocked.fetchModelHistory.mockResolvedValueOnce([
      event({ type: 'approve', user: 'bob', alias: 'production' }),
      event({ type: 'promote', alias: 'production', version: 2, previous: 1 }),
      event({ type: 'promote', alias: 'staging', version: 8, previous: 7 })
    ]);
    expect(await models.previousHolder('churn', 'production')).toBe(1);
    mocked.fetchModelHistory.mockRejectedValueOnce(new Error('x'));
    expect(await models.previousHolder('churn', 'production')).toBeNull();
  });
});

describe('helpers', () => {
  it('replay the holders of an alias to find where a rollback goes', () => {
    const ev = (
      type: Registry.IRegistryEvent['type'],
      version: number,
      previous: number | null,
      alias = 'production'
    ): Registry.IRegistryEvent => ({
      id: `${type}${version}`,
      type,
      user: 'ada',
      time: '',
      alias,
      version,
      previous,
      reason: '',
      gates: []
    });
    // Newest first: 1, then 2, then 3 promoted; one rollback (to 2).
    const events = [
      ev('rollback', 2, 3),
      ev('approve', 3, null),
      ev('promote', 3, 2),
      ev('promote', 5, null, 'staging'),
      ev('promote', 2, 1),
      ev('promote', 1, null)
    ];
    expect(rollbackTarget(events, 'production')).toBe(1);
    expect(rollbackTarget(events.slice(1), 'production')).toBe(2);
    expect(rollbackTarget(events.slice(5), 'production')).toBeNull();
    expect(rollbackTarget(events, 'staging')).toBeNull();
  });

  it('describe gates in words', () => {
    expect(describeGates(undefined)).toEqual([]);
    expect(describeGates({ approvals: 2, evaluated: false })).toEqual([
      '2 approvals'
    ]);
  });

  it('read gate results only from a 409', () => {
    const gates = [{ gate: 'metrics', ok: false, detail: 'x' }];
    expect(refusedGates(new api.MlvcRequestError('x', 409, { gates }))).toEqual(
      gates
    );
    expect(
      refusedGates(new api.MlvcRequestError('x', 400, { gates }))
    ).toBeNull();
    expect(refusedGates(new Error('x'))).toBeNull();
  });

  it('read the registry arguments of the right type only', () => {
    expect(
      readRegistryArgs({ name: 'churn', version: '3', alias: 1, id: '' })
    ).toEqual({ name: 'churn', version: 3 });
    expect(readRegistryArgs({ version: 2.5 })).toEqual({});
  });
});

describe('the views', () => {
  const state: IModelsState = {
    notebookPath: 'train.ipynb',
    status: 'ready',
    models: [CHURN, FRAUD],
    error: null,
    busy: null,
    result: null,
    actionError: null
  };

  it('show each model, its aliases with their gates and its versions', () => {
    const html = renderToStaticMarkup(
      <ModelsView
        state={state}
        trans={trans}
        now={new Date('2026-01-01T02:00:00+00:00')}
        actions={{
          menu: jest.fn(),
          rollback: jest.fn(),
          gates: jest.fn(),
          refresh: jest.fn()
        }}
      />
    );
    expect(html).toContain('data-model="churn"');
    expect(html).toContain('3 versions');
    expect(html).toContain('1 version<');
    expect(html).toContain('data-alias="production"');
    expect(html).toContain('→ v2');
    expect(html).toContain('metrics.auc &gt;= 0.8');
    expect(html).toContain('evaluated against the holder');
    expect(html).toContain('Roll back');
    // Versions newest first, the alias holder marked.
    const order = ['data-version="3"', 'data-version="2"', 'data-version="1"'];
    const at = order.map(s => html.indexOf(s));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(html).toContain('auc 0.73');
    expect(html).toContain('2 h ago');
  });

  it('say what to do when there are no models, and show failures', () => {
    const empty = renderToStaticMarkup(
      <ModelsView state={{ ...state, models: [] }} trans={trans} />
    );
    expect(empty).toContain('Register Model…');
    expect(empty).toContain('%mlvc model register');
    const failed = renderToStaticMarkup(
      <ModelsView
        state={{ ...state, actionError: 'gate metrics failed' }}
        trans={trans}
      />
    );
    expect(failed).toContain('role="alert"');
    expect(failed).toContain('gate metrics failed');
  });

  it('mark passed and failed gates', () => {
    const html = renderToStaticMarkup(
      <GateResults
        trans={trans}
        gates={[
          { gate: 'metrics', ok: false, detail: 'auc 0.73 < 0.8' },
          { gate: 'approvals', ok: true, detail: '1 of 1' }
        ]}
      />
    );
    expect(html).toMatch(/jp-mlvc-mod-failed[^>]*data-gate="metrics"/);
    expect(html).toMatch(/jp-mlvc-mod-passed[^>]*data-gate="approvals"/);
    expect(html).toContain('✗');
    expect(
      renderToStaticMarkup(<GateResults trans={trans} gates={[]} />)
    ).toContain('No gates are set');
  });

  it('show the lineage as Mermaid text without a renderer, and every node', () => {
    const lineage: Registry.ILineage = {
      root: 'model:churn@3',
      nodes: [
        { id: 'model:churn@3', kind: 'model', label: 'churn v3' },
        {
          id: 'data:train.csv',
          kind: 'data',
          label: 'train.csv',
          hash: 'blake3:abc',
          path: 'train.csv'
        },
        {
          id: 'commit:1111111',
          kind: 'commit',
          label: '1111111 train',
          short_id: '1111111',
          depth: 0
        }
      ],
      edges: [
        { from: 'data:train.csv', to: 'commit:1111111', label: 'read' },
        { from: 'commit:1111111', to: 'model:churn@3', label: 'registered' }
      ],
      truncated: true,
      mermaid: 'flowchart LR\n  d[train.csv] --> c[1111111]'
    };
    const html = renderToStaticMarkup(
      <LineageView lineage={lineage} title="Lineage of churn@3" trans={trans} />
    );
    expect(html).toContain('flowchart LR');
    expect(html).toContain('3 nodes, 2 edges.');
    // Kinds from the data to the model.
    expect(html.indexOf('Data read')).toBeLessThan(html.indexOf('Commits'));
    expect(html.indexOf('Commits')).toBeLessThan(
      html.indexOf('Model versions')
    );
    expect(html).toContain('hash: blake3:abc');
    expect(html).toMatch(/jp-mlvc-mod-root/);
    expect(html).toContain('the graph is partial');
    expect(nodeDetails(lineage.nodes[0])).toEqual([]);
    expect(nodeDetails(lineage.nodes[2])).toEqual([]);
  });
});

describe('the registry commands', () => {
  async function setup(): Promise<{
    commands: CommandRegistry;
    models: ModelsModel;
    shell: { add: jest.Mock; activateById: jest.Mock };
  }> {
    mocked.fetchLogPage.mockResolvedValue({
      initialized: true,
      commits: [summary('a')],
      branches: [],
      tags: [],
      skip: 0,
      limit: 100,
      has_more: false
    });
    mocked.fetchStatus.mockRejectedValue(new Error('no status'));
    mocked.fetchRemotes.mockResolvedValue([]);
    mocked.fetchModels.mockResolvedValue([CHURN]);
    const commands = new CommandRegistry();
    const shell = { add: jest.fn(), activateById: jest.fn() };
    const app = { commands, shell } as unknown as JupyterFrontEnd;
    const model = new ExperimentsModel(undefined, trans);
    const models = new ModelsModel(undefined, trans);
    models.follow(model);
    addRegistryCommands({ app, model, models, trans });
    await model.setNotebook('train.ipynb');
    await tick();
    return { commands, models, shell };
  }

  const answer = (value: unknown, accept = true) =>
    ({ button: { accept }, value }) as any;

  it('register a variable of a commit under a name', async () => {
    const { commands } = await setup();
    mocked.fetchCommit.mockResolvedValue({
      variables: {
        auc: { format: 'json' },
        X: { format: 'npy' },
        clf: { format: 'sklearn' }
      }
    } as any);
    mocked.registerModel.mockResolvedValue(version(4));
    dialog.mockResolvedValueOnce(
      answer({ name: 'churn', variable: 'clf', message: 'v4' })
    );
    const id = 'a'.repeat(40);
    expect(commands.isEnabled(RegistryCommandIDs.registerModel, { id })).toBe(
      true
    );
    await commands.execute(RegistryCommandIDs.registerModel, { id });
    expect(views.RegisterBody).toHaveBeenCalledWith(
      expect.objectContaining({ id }),
      ['clf', 'auc', 'X'],
      ['churn'],
      trans
    );
    expect(mocked.registerModel).toHaveBeenCalledWith(
      'train.ipynb',
      'churn',
      { rev: id, variable: 'clf', message: 'v4', notebook: 'train.ipynb' },
      undefined
    );
    // A bad name is refused before any request.
    dialog.mockResolvedValueOnce(
      answer({ name: '../x', variable: 'clf', message: '' })
    );
    await commands.execute(RegistryCommandIDs.registerModel, { id });
    expect(mocked.registerModel).toHaveBeenCalledTimes(1);
    expect(showErrorMessage).toHaveBeenCalled();
  });

  it('promote only after the gate check, and not at all when a gate fails', async () => {
    const { commands } = await setup();
    const args = { name: 'churn', version: 3 };
    expect(commands.isEnabled(RegistryCommandIDs.promoteModel, args)).toBe(
      true
    );
    expect(
      commands.isEnabled(RegistryCommandIDs.promoteModel, {
        name: 'churn',
        version: 9
      })
    ).toBe(false);
    // Refused: the second dialog offers Close only, and nothing is promoted.
    mocked.promoteModel.mockRejectedValueOnce(
      new api.MlvcRequestError('gate metrics failed', 409, {
        gates: [{ gate: 'metrics', ok: false, detail: 'auc 0.73 < 0.8' }]
      })
    );
    dialog
      .mockResolvedValueOnce(answer({ alias: 'production', reason: 'better' }))
      .mockResolvedValueOnce(answer(null, false));
    await commands.execute(RegistryCommandIDs.promoteModel, args);
    expect(mocked.promoteModel).toHaveBeenCalledTimes(1);
    expect(mocked.promoteModel.mock.calls[0][2].dry_run).toBe(true);
    const second = dialog.mock.calls[1][0];
    expect(second?.buttons?.map(b => b.label)).toEqual(['Close']);
    // Passed: Promote is offered; accepting sends the real promotion.
    mocked.promoteModel
      .mockResolvedValueOnce({
        name: 'churn',
        alias: 'production',
        version: 3,
        previous: 2,
        promoted: false,
        gates: [{ gate: 'metrics', ok: true, detail: '0.83' }],
        event: null
      })
      .mockResolvedValueOnce({
        name: 'churn',
        alias: 'production',
        version: 3,
        previous: 2,
        promoted: true,
        gates: [],
        event: null
      });
    dialog
      .mockResolvedValueOnce(answer({ alias: 'production', reason: 'better' }))
      .mockResolvedValueOnce(answer(null, true));
    await commands.execute(RegistryCommandIDs.promoteModel, args);
    const fourth = dialog.mock.calls[3][0];
    expect(fourth?.buttons?.map(b => b.label)).toEqual(['Cancel', 'Promote']);
    expect(mocked.promoteModel).toHaveBeenCalledTimes(3);
    expect(mocked.promoteModel.mock.calls[2][2]).toEqual({
      version: 3,
      alias: 'production',
      reason: 'better'
    });
  });

  it('roll back with a reason, after showing the gates of the previous holder', async () => {
    const { commands } = await setup();
    mocked.fetchModelHistory.mockResolvedValue([
      event({ type: 'promote', alias: 'production', version: 2, previous: 1 })
    ]);
    mocked.promoteModel.mockResolvedValueOnce({
      name: 'churn',
      alias: 'production',
      version: 1,
      previous: 2,
      promoted: false,
      gates: [],
      event: null
    });
    mocked.rollbackModel.mockResolvedValue({
      name: 'churn',
      alias: 'production',
      version: 1,
      previous: 2,
      promoted: true,
      gates: [],
      event: null
    });
    dialog.mockResolvedValueOnce(answer(''));
    const args = { name: 'churn', alias: 'production' };
    await commands.execute(RegistryCommandIDs.rollbackModel, args);
    // No reason: nothing rolled back.
    expect(mocked.rollbackModel).not.toHaveBeenCalled();
    expect(
      (views.RollbackBody as unknown as jest.Mock).mock.calls[0].slice(0, 4)
    ).toEqual(['churn', 'production', 2, 1]);
    dialog.mockResolvedValueOnce(answer('regression'));
    await commands.execute(RegistryCommandIDs.rollbackModel, args);
    expect(mocked.rollbackModel).toHaveBeenCalledWith(
      'train.ipynb',
      'churn',
      { alias: 'production', reason: 'regression' },
      undefined
    );
  });

  it('open the lineage of a version or a commit', async () => {
    const { commands, shell } = await setup();
    (views.createLineageWidget as jest.Mock).mockReturnValue({ id: 'w' });
    mocked.fetchLineage.mockResolvedValue({} as any);
    await commands.execute(RegistryCommandIDs.lineage, {
      name: 'churn',
      version: 3
    });
    const [load, label] = (views.createLineageWidget as jest.Mock).mock
      .calls[0];
    expect(label).toBe('Lineage of churn@3');
    await load();
    expect(mocked.fetchLineage).toHaveBeenCalledWith(
      'train.ipynb',
      { model: 'churn@3' },
      undefined
    );
    expect(shell.add).toHaveBeenCalled();
    await commands.execute(RegistryCommandIDs.lineage, { id: 'a'.repeat(40) });
    const [load2, label2] = (views.createLineageWidget as jest.Mock).mock
      .calls[1];
    expect(label2).toBe('Lineage of aaaaaaa');
    await load2();
    expect(mocked.fetchLineage).toHaveBeenLastCalledWith(
      'train.ipynb',
      { rev: 'a'.repeat(40) },
      undefined
    );
  });
});
