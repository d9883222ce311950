import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');
/** Screenshots the user documentation shows (committed). */
const DOCS_IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');

test.describe('Experiments flow', () => {
  test('commit twice, diff, compare, checkout the first commit', async ({
    page
  }) => {
    test.setTimeout(180 * 1000);
    await page.notebook.createNew('flow.ipynb');
    await page.notebook.setCell(0, 'code', 'import numpy as np');
    await page.notebook.addCell('code', 'C = 1.0; X = np.arange(5)');
    await page.notebook.addCell('code', 'print("score", C * X.sum())');
    await page.notebook.run();

    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');
    const commits = panel
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');
    const message = panel.getByRole('textbox', { name: 'Commit message' });

    await message.fill('first model');
    await panel.getByRole('button', { name: 'Commit', exact: true }).click();
    await expect(commits).toHaveCount(1, { timeout: 30000 });
    await expect(commits.first()).toContainText('first model');
    await expect(panel.getByRole('status').first()).toContainText('Committed');

    await page.notebook.setCell(1, 'code', 'C = 0.5; X = np.arange(5)');
    await page.notebook.run();
    await message.fill('smaller C');
    await panel.getByRole('button', { name: 'Commit', exact: true }).click();
    await expect(commits).toHaveCount(2, { timeout: 30000 });
    await expect(commits.first()).toContainText('smaller C');

    // Select both rows and diff them.
    await commits.nth(1).click();
    await commits.nth(0).click({ modifiers: ['ControlOrMeta'] });
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'flow-panel-history.png')
    });
    await panel.screenshot({ path: path.join(DOCS_IMAGES, 'panel.png') });
    const diffButton = panel.getByRole('button', { name: 'Diff' });
    await expect(diffButton).toBeEnabled();
    await diffButton.click();
    const diff = page.locator('.jp-mlvc-DiffView');
    await expect(diff).toBeVisible({ timeout: 30000 });
    const variables = diff.getByRole('region', { name: 'Variables' });
    const cRow = variables.getByRole('row').filter({ hasText: /^C/ });
    await expect(cRow).toContainText('changed');
    await expect(cRow).toContainText('1 → 0.5');
    // The notebook: the edited cell as a line diff, the others folded.
    const cells = diff.getByRole('region', { name: 'Notebook' });
    await expect(cells.getByLabel('Cell 2, modified')).toContainText('C = 0.5');
    await expect(cells.locator('.jp-mlvc-line.jp-mlvc-removed')).toContainText(
      'C = 1.0'
    );
    const folds = cells.getByRole('button', { name: /unchanged cell/ });
    await expect(folds).toHaveCount(2);
    await expect(folds.first()).toHaveText('▸ 1 unchanged cell');
    await expect(folds.last()).toHaveText(
      '▸ 1 unchanged cell (1 with new outputs)'
    );
    await cells
      .getByRole('checkbox', { name: 'Show outputs and execution counts' })
      .check();
    const outputs = cells.getByLabel('Cell 3, outputs changed');
    await expect(outputs).toContainText('score 10.0');
    await expect(outputs).toContainText('score 5.0');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'flow-diff.png') });
    await diff.screenshot({ path: path.join(DOCS_IMAGES, 'diff.png') });
    await page.theme.setDarkTheme();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'flow-diff-dark.png')
    });
    await page.theme.setLightTheme();

    // Compare.
    await panel.getByRole('button', { name: 'Compare' }).click();
    const compare = page.locator('.jp-mlvc-CompareView');
    await expect(compare).toBeVisible({ timeout: 30000 });
    await expect(compare.getByRole('row')).toHaveCount(3);
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'flow-compare.png')
    });

    // Checkout the first commit from its row menu.
    await commits.nth(1).getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menuitem', { name: 'Checkout…' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toContainText(
      'Your current state is committed first as a safety commit.'
    );
    await expect(
      dialog.getByRole('radio', { name: 'Notebook and variables' })
    ).toBeChecked();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'flow-checkout-dialog.png')
    });
    await dialog.getByRole('button', { name: 'Checkout', exact: true }).click();
    await expect(panel.getByRole('status').first()).toContainText(
      'Checked out',
      { timeout: 30000 }
    );

    // The kernel has the first commit's C again.
    await page.getByRole('tab', { name: 'flow.ipynb', exact: true }).click();
    await expect(page.notebook.getCellInput(0)).resolves.not.toBeNull();
    await page.notebook.addCell('code', 'print(C)');
    const last = (await page.notebook.getCellCount()) - 1;
    await page.notebook.runCell(last);
    expect(await page.notebook.getCellTextOutput(last)).toEqual(['1.0\n']);

    // Tag the first commit from its row menu, then start a branch (the panel is
    // still open: clicking its tab again would close it).
    const first = commits.filter({ hasText: 'first model' });
    await first.getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menuitem', { name: 'Tag…' }).click();
    await page.getByRole('dialog').getByRole('textbox').fill('champion');
    await page.getByRole('dialog').getByRole('button', { name: 'Tag' }).click();
    await expect(first).toContainText('champion', { timeout: 30000 });

    await panel.getByRole('button', { name: 'New branch' }).click();
    await page.getByRole('dialog').getByRole('textbox').fill('exp');
    await page
      .getByRole('dialog')
      .getByRole('button', { name: 'Create' })
      .click();
    await expect(panel.getByRole('combobox', { name: 'Branch' })).toHaveValue(
      'exp',
      { timeout: 30000 }
    );
  });
});
