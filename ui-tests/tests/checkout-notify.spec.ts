/**
 * What a user meets around a checkout, at the sidebar's default width (250 px):
 * the Diff view tells a DataFrame's and a model's changes in the presenter's
 * words, opening the same diff again reuses its tab, the restore dialog names its
 * source commit, a panel checkout says what changed in a notification whose Undo
 * goes back, the branch selector and the status bar say "detached at", and a
 * `%mlvc checkout` leaves its message in a notification after the reload.
 * Screenshots, light and dark, go to ui-tests/screenshots.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

test.describe('Checkout, restore and diff', () => {
  test('diff lines, one tab per pair, restore dialog, checkout notification and undo', async ({
    page
  }) => {
    test.setTimeout(300 * 1000);
    await page.notebook.createNew('notify.ipynb');
    await page.notebook.setCell(
      0,
      'code',
      '%load_ext mlvc_server\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n' +
        'X = [[0.0], [1.0], [2.0], [3.0]]\ny = [0, 0, 1, 1]'
    );
    await page.notebook.addCell(
      'code',
      "df = pd.DataFrame({'x': [1, 2, 3]})\nmodel = LogisticRegression(C=1.0).fit(X, y)\nacc = 0.5"
    );
    await page.notebook.run();
    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');
    // the sidebar at its default width
    expect(Math.round((await panel.boundingBox())!.width)).toBeLessThanOrEqual(
      260
    );
    const commits = panel
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');
    const message = panel.getByRole('textbox', { name: 'Commit message' });
    const commitButton = panel.getByRole('button', {
      name: 'Commit',
      exact: true
    });
    await message.fill('first');
    await commitButton.click();
    await expect(commits).toHaveCount(1, { timeout: 30000 });
    await expect(commits.first()).toContainText('acc', { timeout: 10000 });

    await page.getByRole('tab', { name: 'notify.ipynb', exact: true }).click();
    await page.notebook.setCell(
      1,
      'code',
      "df = pd.DataFrame({'x': [1, 2, 3, 4]})\nmodel = LogisticRegression(C=0.1).fit(X, y)\nacc = 0.75"
    );
    await page.notebook.runCell(1);
    await message.fill('second');
    await commitButton.click();
    await expect(commits).toHaveCount(2, { timeout: 30000 });

    // Diff of the last commit with its parent: the presenter's words, one a line
    const diffTabs = page.getByRole('tab', { name: /^Diff / });
    await commits.nth(0).click();
    await panel.getByRole('button', { name: 'Diff', exact: true }).click();
    const diff = page.locator('.jp-mlvc-DiffView');
    await expect(diff).toContainText('rows: 3 → 4', { timeout: 30000 });
    await expect(diff).toContainText('C: 1.0 → 0.1');
    await expect(diff).not.toContainText('parts (tensors)');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'diff-lines.png') });
    await page.theme.setDarkTheme();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'diff-lines-dark.png')
    });
    await page.theme.setLightTheme();
    // the same pair again: its tab, not a new one
    await panel.getByRole('button', { name: 'Diff', exact: true }).click();
    await page.waitForTimeout(500);
    await expect(diffTabs).toHaveCount(1);

    // Restore: the dialog names its source commit
    await page.getByRole('tab', { name: 'notify.ipynb', exact: true }).click();
    const first = commits.filter({ hasText: 'first' });
    await first.getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menuitem', { name: 'Restore Variables…' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toContainText(/Restore variables from [0-9a-f]{8}/);
    await expect(dialog).toContainText(/From commit [0-9a-f]{8} "first"/);
    await expect(dialog).toContainText('safety commit');
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'restore-dialog.png')
    });
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Checkout of "first": a notification says what changed, with Undo
    await page.notebook.setCell(1, 'code', 'acc = 0.9');
    await page.notebook.runCell(1);
    await first.getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menuitem', { name: 'Checkout…' }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: 'Checkout', exact: true })
      .click();
    const toast = page.locator('.Toastify__toast').filter({
      hasText: 'Checked out'
    });
    await expect(toast).toContainText('"first"', { timeout: 30000 });
    await expect(toast).toContainText(
      /Previous state saved as [0-9a-f]{8}\. Notebook replaced\. Restored: /
    );
    // "detached at" in full in the selector and in the status bar
    const selector = panel.getByRole('combobox', { name: 'Branch' });
    await expect(selector.locator('option:checked')).toHaveText(
      /detached at [0-9a-f]{8}/
    );
    const fits = await selector.evaluate((el: HTMLSelectElement) => {
      const text = el.selectedOptions[0].text;
      const ctx = document.createElement('canvas').getContext('2d')!;
      ctx.font = getComputedStyle(el).font;
      return [ctx.measureText(text).width, el.clientWidth];
    });
    console.log(`selector: text ${fits[0]} px in ${fits[1]} px`);
    await panel.screenshot({
      path: path.join(SCREENSHOTS, 'detached-panel-250.png')
    });
    // the text plus the arrow's ~20 px fit in the box
    expect(fits[0] + 20).toBeLessThanOrEqual(fits[1]);
    await expect(page.locator('.jp-mlvc-StatusItem-text')).toHaveText(
      /detached at [0-9a-f]{8}/
    );
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'checkout-notification.png')
    });
    await page.theme.setDarkTheme();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'checkout-notification-dark.png')
    });
    await page.theme.setLightTheme();

    // Undo: back on main, with the state the checkout replaced
    await toast.getByRole('button', { name: 'Undo' }).click();
    await expect(selector).toHaveValue('main', { timeout: 30000 });
    await expect(panel.getByRole('status').first()).toContainText(
      'Checked out main'
    );
    await page.waitForTimeout(1500); // the notebook reloads after the checkout
    await page.notebook.addCell('code', 'print(acc)');
    const printed = (await page.notebook.getCellCount()) - 1;
    await page.notebook.runCell(printed);
    expect(
      ((await page.notebook.getCellTextOutput(printed)) ?? []).join('')
    ).toContain('0.9');

    // %mlvc checkout: its message survives the reload in a notification
    await page.notebook.addCell('code', '%mlvc checkout HEAD~1');
    await page.notebook.runCell((await page.notebook.getCellCount()) - 1);
    const magicToast = page.locator('.Toastify__toast').filter({
      hasText: /Checked out [0-9a-f]{8} \(branch/
    });
    await expect(magicToast).toBeVisible({ timeout: 30000 });
    await expect(magicToast).toContainText('notebook written');
  });
});
