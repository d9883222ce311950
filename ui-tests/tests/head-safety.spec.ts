/**
 * After a checkout of an older commit: the safety commit folds under the commit it
 * protected, the checked-out row carries the HEAD marker, the branch selector says
 * "detached at ...", and the next commit starts a branch from the checked-out commit.
 * Panel commits record the parameters cell's values and the metrics found by name.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

test.describe('HEAD and safety commits', () => {
  test('checkout an old commit, see HEAD, fold the safety commit, commit from there', async ({
    page
  }) => {
    test.setTimeout(240 * 1000);
    await page.notebook.createNew('head.ipynb');
    await page.notebook.setCell(0, 'code', '%load_ext mlvc_server\nacc = 0.5');
    await page.notebook.addCell('code', 'C = 1.0');
    await page.notebook.run();

    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');
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
    // the metric found by its name is on the row
    await expect(commits.first()).toContainText('acc');

    await page.getByRole('tab', { name: 'head.ipynb', exact: true }).click();
    await page.notebook.setCell(1, 'code', 'C = 2.0');
    await page.notebook.runCell(1);
    await message.fill('second');
    await commitButton.click();
    await expect(commits).toHaveCount(2, { timeout: 30000 });

    // change the state, then go back to the first commit
    await page.notebook.setCell(1, 'code', 'C = 3.0');
    await page.notebook.runCell(1);
    const first = commits.filter({ hasText: 'first' });
    await first.getByRole('button', { name: 'More actions' }).click();
    await page.getByRole('menuitem', { name: 'Checkout…' }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: 'Checkout', exact: true })
      .click();
    await expect(panel.getByRole('status').first()).toContainText(
      'Checked out',
      { timeout: 30000 }
    );

    // the safety commit is folded under "second"; the marker is on "first"
    await expect(commits).toHaveCount(2, { timeout: 10000 });
    const fold = commits
      .filter({ hasText: 'second' })
      .getByRole('button', { name: /1 safety commit/ });
    await expect(fold).toHaveAttribute('aria-expanded', 'false');
    await expect(
      first.getByRole('img', { name: 'Checked out (HEAD)' })
    ).toHaveCount(1, { timeout: 10000 });
    const selector = panel.getByRole('combobox', { name: 'Branch' });
    await expect(selector.locator('option:checked')).toHaveText(
      /detached at [0-9a-f]{8}/
    );
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'head-detached.png')
    });

    await fold.click();
    await expect(commits).toHaveCount(3);
    await expect(commits.nth(0)).toContainText('Before checkout');
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'head-safety-expanded.png')
    });
    await page.theme.setDarkTheme();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'head-safety-expanded-dark.png')
    });
    await page.theme.setLightTheme();
    await fold.click();
    await expect(commits).toHaveCount(2);

    // commit from here: a new branch from "first"
    await message.fill('from the first');
    await commitButton.click();
    await expect(commits.first()).toContainText('from the first', {
      timeout: 30000
    });
    await expect(selector).toHaveValue(/^main-from-[0-9a-f]{7}$/, {
      timeout: 10000
    });
    await expect(
      commits
        .filter({ hasText: 'from the first' })
        .getByRole('img', { name: 'Checked out (HEAD)' })
    ).toHaveCount(1);
  });
});
