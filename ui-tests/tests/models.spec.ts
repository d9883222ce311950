/**
 * The model registry in the panel, on a real notebook, kernel and store: register
 * two versions from commits (a commit row's menu), promote one, set a gate that
 * refuses the next promotion (the dialog shows the failed gate and nothing
 * changes), promote once the gate passes, roll back, and open the lineage view.
 */
import { expect, test } from '@jupyterlab/galata';
import type { Locator, Page } from '@playwright/test';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

const TRAIN = (c: number, auc: number) =>
  [
    'import numpy as np',
    'from sklearn.linear_model import LogisticRegression',
    'rng = np.random.default_rng(0)',
    'X = rng.normal(size=(200, 2)); y = (X[:, 0] > 0).astype(int)',
    `clf = LogisticRegression(C=${c}).fit(X, y)`,
    `auc = ${auc}`
  ].join('\n');

/**
 * Wait until the server finds the notebook's kernel (a new notebook's session can
 * take a moment to carry its final path; a commit before that holds no variables).
 */
async function waitForKernel(page: Page) {
  await expect
    .poll(
      () =>
        page.evaluate(async () => {
          const app = (window as any).jupyterapp;
          const base = app.serviceManager.serverSettings.baseUrl;
          const nb = app.shell.currentWidget?.context?.path ?? '';
          const r = await fetch(
            `${base}mlvc/status?path=${encodeURIComponent(nb)}`
          );
          return r.ok ? (await r.json()).kernel : 'none';
        }),
      { timeout: 30000 }
    )
    .not.toBe('none');
}

/**
 * Open the ⋯ menu of a commit row and run one of its items.
 */
async function rowAction(page: Page, row: Locator, item: string) {
  await row.click({ button: 'right' });
  const menu = page.locator('.jp-mlvc-RowMenu');
  await expect(menu).toBeVisible();
  await menu.getByRole('menuitem', { name: item }).click();
}

/**
 * Register the variable `clf` of a commit row as a version of `churn`.
 */
async function register(page: Page, row: Locator, message: string) {
  await rowAction(page, row, 'Register Model…');
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Register a variable of');
  await dialog.locator('select[name="variable"]').selectOption('clf');
  await dialog.locator('input[name="model"]').fill('churn');
  await dialog.locator('input[name="message"]').fill(message);
  await dialog.getByRole('button', { name: 'Register' }).click();
  await expect(dialog).toHaveCount(0);
}

/**
 * Open the menu of a model version and run one of its items.
 */
async function versionAction(
  page: Page,
  models: Locator,
  version: number,
  item: string
) {
  await models
    .getByRole('button', { name: `Actions of version ${version}` })
    .click();
  const menu = page.locator('.jp-mlvc-VersionMenu');
  await expect(menu).toBeVisible();
  await menu.getByRole('menuitem', { name: item }).click();
}

/**
 * Set the metric gate of `production` through its Gates dialog.
 */
async function setGate(page: Page, models: Locator, condition: string) {
  await models.getByRole('button', { name: 'Gates of production' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('input[name="metrics"]').fill(condition);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(models.locator('[data-alias="production"]')).toContainText(
    condition
  );
}

/**
 * Start promoting a version to production: the first dialog, then the gate check.
 */
async function startPromotion(
  page: Page,
  models: Locator,
  version: number,
  reason: string,
  screenshot?: string
): Promise<Locator> {
  await versionAction(page, models, version, 'Promote…');
  const ask = page.getByRole('dialog');
  await ask.locator('input[name="alias"]').fill('production');
  await ask.locator('input[name="reason"]').fill(reason);
  if (screenshot) {
    await page.screenshot({ path: path.join(SCREENSHOTS, screenshot) });
  }
  await ask.getByRole('button', { name: 'Check gates' }).click();
  const check = page.getByRole('dialog').locator('.jp-mlvc-PromotionCheck');
  await expect(check).toBeVisible({ timeout: 30000 });
  return check;
}

test('register, promote through gates, roll back, lineage', async ({
  page
}) => {
  test.setTimeout(240 * 1000);
  await page.notebook.createNew('models.ipynb');
  await page.notebook.setCell(0, 'code', TRAIN(1e-4, 0.71));
  await page.notebook.run();
  await waitForKernel(page);

  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  const commits = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  const message = panel.getByRole('textbox', { name: 'Commit message' });
  await message.fill('tiny C');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(1, { timeout: 30000 });

  await page.notebook.setCell(0, 'code', TRAIN(1.0, 0.93));
  await page.notebook.run();
  await message.fill('default C');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(2, { timeout: 30000 });

  const models = panel.locator('.jp-mlvc-ModelsSection');
  await expect(models).toContainText('No models yet');

  // Two versions, from the older commit and the newer one.
  // Each commit holds clf and its metric (auc): the kernel's variables were captured.
  const tiny = commits.filter({ hasText: 'tiny C' });
  const defaultC = commits.filter({ hasText: 'default C' });
  await expect(tiny).toContainText('auc 0.71');
  await expect(defaultC).toContainText('auc 0.93');
  await register(page, tiny, 'first try');
  const churn = models.locator('[data-model="churn"]');
  await expect(churn).toContainText('1 version', { timeout: 30000 });
  await register(page, defaultC, 'default C');
  await expect(churn).toContainText('2 versions', { timeout: 30000 });
  await expect(churn.locator('[data-version="2"]')).toContainText('auc 0.93');

  // Version 1 to production: no gates yet, the check says so.
  let check = await startPromotion(page, models, 1, 'first production model');
  await expect(check).toContainText('No gates are set');
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Promote' })
    .click();
  const production = models.locator('[data-alias="production"]');
  await expect(production).toContainText('→ v1', { timeout: 30000 });

  // A gate version 2 cannot pass: the check shows it failed, only Close.
  await setGate(page, models, 'metrics.auc >= 0.99');
  check = await startPromotion(
    page,
    models,
    2,
    'better auc',
    'models-promote.png'
  );
  const failed = check.locator('.jp-mlvc-GateResult.jp-mlvc-mod-failed');
  await expect(failed).toHaveCount(1);
  await expect(failed).toHaveAttribute('data-gate', 'metrics');
  await expect(check).toContainText('the promotion is refused');
  const refused = page.getByRole('dialog');
  await expect(refused.getByRole('button', { name: 'Promote' })).toHaveCount(0);
  await page.screenshot({
    path: path.join(SCREENSHOTS, 'models-gate-refused.png')
  });
  await refused.getByRole('button', { name: 'Close' }).click();
  await models.getByRole('button', { name: 'Reload models' }).click();
  await expect(production).toContainText('→ v1');

  // With a gate it passes, version 2 is promoted.
  await setGate(page, models, 'metrics.auc >= 0.9');
  check = await startPromotion(page, models, 2, 'better auc');
  await expect(check.locator('.jp-mlvc-mod-passed').first()).toBeVisible();
  await expect(check).toContainText('Every gate passes');
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Promote' })
    .click();
  await expect(production).toContainText('→ v2', { timeout: 30000 });
  await expect(models.locator('.jp-mlvc-models-result')).toContainText(
    'churn production is now version 2 (was 1)'
  );
  // An approval is recorded (the approvals gate counts users other than the promoter).
  await versionAction(page, models, 2, 'Approve…');
  const approve = page.getByRole('dialog');
  await approve.locator('input[name="alias"]').fill('production');
  await approve.locator('input[name="comment"]').fill('looks good');
  await approve.getByRole('button', { name: 'Approve' }).click();
  await expect(models.locator('.jp-mlvc-models-result')).toContainText(
    'Approved churn version 2 for production',
    { timeout: 30000 }
  );
  await page.screenshot({ path: path.join(SCREENSHOTS, 'models.png') });
  await page.theme.setDarkTheme();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'models-dark.png') });
  await page.theme.setLightTheme();

  // Roll back: production goes back to version 1.
  await models.getByRole('button', { name: 'Roll back production' }).click();
  const rollback = page.getByRole('dialog');
  await expect(rollback).toContainText('from version 2 to version 1');
  await rollback.locator('input[name="reason"]').fill('regression in prod');
  await page.theme.setDarkTheme();
  await page.screenshot({
    path: path.join(SCREENSHOTS, 'models-rollback-dark.png')
  });
  await page.theme.setLightTheme();
  await rollback.getByRole('button', { name: 'Roll back' }).click();
  await expect(production).toContainText('→ v1', { timeout: 30000 });

  // The lineage of version 1 (production again): a Mermaid graph in the main
  // area (JupyterLab draws it as an SVG image), every node listed.
  await versionAction(page, models, 1, 'Lineage');
  const view = page.locator('.jp-mlvc-LineageView');
  await expect(view).toBeVisible({ timeout: 30000 });
  await expect(view.locator('h2')).toContainText('churn@1');
  await expect(
    view.locator('.jp-mlvc-Lineage-graph').locator('svg, img').first()
  ).toBeVisible({ timeout: 30000 });
  await expect(view.locator('[data-kind="commit"]').first()).toBeVisible();
  await expect(view.locator('[data-kind="alias"]')).toContainText('production');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lineage.png') });
  await page.theme.setDarkTheme();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'lineage-dark.png') });
  await page.theme.setLightTheme();
});
