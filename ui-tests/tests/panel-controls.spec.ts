import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const L = 'c'.repeat(40);

function commit(
  id: string,
  message: string,
  minutesAgo: number,
  extra: { [key: string]: unknown }
) {
  return {
    id,
    short_id: id.slice(0, 7),
    message,
    author: 'ana',
    time: new Date(Date.now() - minutesAgo * 60 * 1000).toISOString(),
    branch: 'main',
    notebook: 'train.ipynb',
    params: {},
    metrics: {},
    parents: [],
    branches: [],
    tags: [],
    variables: ['model', 'X', 'y'],
    ...extra
  };
}

const LOG = {
  initialized: true,
  commits: [
    commit(B, 'smaller C, more iterations', 2, {
      params: { C: 0.0005 },
      metrics: { acc: 0.962, loss: 0.12 },
      parents: [A],
      branches: ['main']
    }),
    commit(L, 'lr-sweep: lr=0.3', 60, {
      branch: 'lr-sweep',
      params: { C: 1, lr: 0.3 },
      metrics: { acc: 0.948 },
      parents: [A],
      branches: ['lr-sweep']
    }),
    commit(A, 'first model', 180, {
      params: { C: 1 },
      metrics: { acc: 0.951 },
      tags: ['champion']
    })
  ],
  branches: [
    { name: 'main', head: B, current: true },
    { name: 'lr-sweep', head: L, current: false }
  ],
  tags: [{ name: 'champion', commit: A }],
  skip: 0,
  limit: 100,
  has_more: false
};

test.describe('Experiments panel controls', () => {
  test.beforeEach(async ({ page }) => {
    await page.route(/\/mlvc\/log\?/, route =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify(LOG)
      })
    );
    await page.route(/\/mlvc\/status\?/, route =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          initialized: true,
          kernel: 'idle',
          branch: 'main',
          notebook_changed: true,
          data: { 'train.csv': 'changed' }
        })
      })
    );
  });

  test('shows deltas, chips, branches, and filters the history', async ({
    page
  }) => {
    await page.notebook.createNew('train.ipynb');
    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');
    const commits = panel
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');
    await expect(commits).toHaveCount(3);
    await expect(commits.nth(0)).toContainText('acc 0.962 ▲0.011');
    await expect(commits.nth(1)).toContainText('acc 0.948 ▼0.003');
    await expect(commits.nth(2)).toContainText('champion');
    await expect(panel.getByRole('combobox', { name: 'Branch' })).toHaveValue(
      'main'
    );
    await expect(panel).toContainText(
      'Since the last commit: notebook changed · train.csv changed'
    );
    await expect(panel.getByRole('button', { name: 'Diff' })).toBeDisabled();
    await commits.nth(0).click();
    await expect(panel.getByRole('button', { name: 'Diff' })).toBeEnabled();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'panel-history-mocked.png')
    });

    await panel.getByRole('combobox', { name: 'Filter commits' }).fill('champ');
    await expect(commits).toHaveCount(1);
    await expect(commits.first()).toContainText('first model');
  });

  test('shows a busy line while committing, then the result', async ({
    page
  }) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>(resolve => (release = resolve));
    await page.route(/\/mlvc\/commits\?/, async route => {
      await held;
      await route.fulfill({
        status: 201,
        contentType: 'application/json',
        body: JSON.stringify({
          commit: LOG.commits[0],
          kernel: 'none',
          skipped: {},
          note: 'no kernel: the notebook alone was committed'
        })
      });
    });
    await page.notebook.createNew('train.ipynb');
    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');
    await panel
      .getByRole('textbox', { name: 'Commit message' })
      .fill('try this');
    await panel.getByRole('button', { name: 'Commit', exact: true }).click();
    await expect(panel.getByRole('status').first()).toContainText(
      'Committing…'
    );
    release();
    await expect(panel.getByRole('status').first()).toContainText(
      'no kernel, the notebook alone was committed'
    );
  });

  test('the compare view highlights the best value', async ({ page }) => {
    await page.route(/\/mlvc\/compare\?/, route =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          rows: LOG.commits,
          columns: { params: ['C', 'lr'], metrics: ['acc', 'loss'] },
          best: {
            acc: { goal: 'max', value: 0.962, ids: [B] },
            loss: { goal: 'min', value: 0.12, ids: [B] }
          }
        })
      })
    );
    const steps = (id: string, end: number) => ({
      id,
      short_id: id.slice(0, 7),
      branch: 'main',
      message: LOG.commits.find(c => c.id === id)?.message ?? '',
      steps: [1, 2, 3, 4, 5].map(k => [k, end * (1 - 0.5 / k)])
    });
    const accSteps = [steps(A, 0.951), steps(L, 0.948), steps(B, 0.962)];
    // the chart as the server builds it (render.steps_vegalite)
    const accChart = JSON.parse(
      execFileSync(process.env.MLVC_PYTHON || 'python', [
        '-c',
        'import json, sys\n' +
          'from mlvc_server.render import steps_vegalite\n' +
          'print(json.dumps(steps_vegalite(json.loads(sys.argv[1]), "acc")))',
        JSON.stringify(accSteps)
      ]).toString()
    );
    await page.route(/\/mlvc\/series\?/, route =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          series: { acc: { goal: 'max', points: [], steps: accSteps } },
          vegalite: { acc: accChart }
        })
      })
    );
    await page.notebook.createNew('train.ipynb');
    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');
    await panel.getByRole('button', { name: 'Compare' }).click();
    const view = page.locator('.jp-mlvc-CompareView');
    await expect(view.getByRole('row')).toHaveCount(4);
    await expect(view.getByTitle('Best acc')).toContainText('0.962');
    await expect(
      view
        .getByRole('figure', { name: 'acc across commits' })
        .locator('[data-render-ms]')
    ).toBeVisible({ timeout: 30000 });
    await view.getByRole('button', { name: 'Sort by acc' }).click();
    await expect(view.getByRole('row').nth(1)).toContainText('smaller C');

    // Hide a column.
    await view.getByText('Columns (4 of 4)').click();
    await view.getByRole('checkbox', { name: 'lr param' }).uncheck();
    await expect(view.getByRole('button', { name: 'Sort by lr' })).toHaveCount(
      0
    );
    await view.getByText('Columns (3 of 4)').click();

    // Selecting rows here selects them in the panel too; two make a diff.
    const diffSelected = view.getByRole('button', { name: 'Diff selected' });
    await expect(diffSelected).toBeDisabled();
    await view.getByRole('checkbox', { name: 'Select aaaaaaa' }).check();
    await view.getByRole('checkbox', { name: 'Select bbbbbbb' }).check();
    await expect(diffSelected).toBeEnabled();
    const panelRows = panel
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');
    await expect(panelRows.filter({ hasText: 'first model' })).toHaveClass(
      /jp-mlvc-mod-selected/
    );

    // The metric step by step: one line per run, the selected ones thick.
    await view.getByRole('radio', { name: 'Across steps' }).check();
    const stepChart = view.getByRole('figure', { name: 'acc across steps' });
    await expect(stepChart.locator('[data-render-ms]')).toBeVisible({
      timeout: 30000
    });
    // a line per run; the two selected drawn thick
    await expect(
      stepChart.locator('svg .mark-line.role-mark path')
    ).toHaveCount(3);
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'compare-mocked.png')
    });
    await view.getByRole('radio', { name: 'Across commits' }).check();
    await page.theme.setDarkTheme();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'compare-mocked-dark.png')
    });
    await page.theme.setLightTheme();
  });
});
