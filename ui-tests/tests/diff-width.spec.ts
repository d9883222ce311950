/**
 * The Diff view fits its tab in a 1024 px window (Galata's default viewport) with
 * long names, values, shapes and unbreakable strings: long cells end in an
 * ellipsis with the whole value on hover, or wrap; the view never scrolls
 * sideways.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

const LONG = 'a_parameter_with_a_name_much_longer_than_any_column_should_be';

test('the Diff view fits a 1024 px window', async ({ page }) => {
  test.setTimeout(180 * 1000);
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.notebook.createNew('wide.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    [
      '%load_ext mlvc_server',
      'import numpy as np, mlvc_server as mlvc',
      `mlvc.log_params(${LONG}='x' * 120)`,
      `${LONG}_variable = 'y' * 300`,
      'tensor = np.zeros((1,) * 24)',
      'acc = 0.5'
    ].join('\n')
  );
  await page.notebook.run();

  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  const commits = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  const message = panel.getByRole('textbox', { name: 'Commit message' });
  await message.fill('short');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(1, { timeout: 30000 });

  await page.notebook.addCell(
    'code',
    [
      `mlvc.log_params(${LONG}='z' * 150)`,
      `${LONG}_variable = 'w' * 400`,
      'tensor = np.ones((1,) * 24)',
      'acc = 0.75'
    ].join('\n')
  );
  await page.notebook.runCell(1);
  await message.fill('long');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(2, { timeout: 30000 });

  await commits.nth(1).click();
  await commits.nth(0).click({ modifiers: ['ControlOrMeta'] });
  await panel.getByRole('button', { name: 'Diff' }).click();
  const diff = page.locator('.jp-mlvc-DiffView');
  await expect(diff).toBeVisible({ timeout: 30000 });
  const variables = diff.getByRole('region', { name: 'Variables' });
  await expect(variables.getByRole('row')).toHaveCount(4);

  await page.screenshot({ path: path.join(SCREENSHOTS, 'diff-1024.png') });
  // no sideways scrolling: the view and each table fit the tab
  const view = page.locator('.jp-mlvc-MainView').filter({ has: diff });
  const fits = await view.evaluate(node => ({
    scroll: node.scrollWidth,
    client: node.clientWidth,
    tables: [...node.querySelectorAll('table')].map(t => t.scrollWidth)
  }));
  expect(fits.scroll).toBeLessThanOrEqual(fits.client);
  for (const width of fits.tables) {
    expect(width).toBeLessThanOrEqual(fits.client);
  }

  // a cut name shows whole on hover
  const name = variables.getByTitle(`${LONG}_variable`, { exact: true });
  await expect(name).toHaveCount(1);
  const summary = diff.getByRole('region', { name: 'Summary' });
  await expect(summary).toContainText('z'.repeat(150));

  await page.theme.setDarkTheme();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'diff-1024-dark.png') });
  await page.theme.setLightTheme();
});
