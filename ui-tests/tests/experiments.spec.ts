import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

const EMPTY_TEXT =
  'No experiments yet for this notebook. Commit from a cell with %mlvc commit, or mlvc.commit(...)';

test.describe('Experiments panel', () => {
  test('shows the empty state for a notebook with no experiments', async ({
    page,
    tmpPath
  }) => {
    await page.notebook.createNew('untracked.ipynb');

    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');

    await expect(
      panel.getByRole('heading', { name: 'Experiments' })
    ).toBeVisible();
    await expect(panel.getByText('untracked.ipynb')).toBeVisible();
    await expect(panel.getByTitle(`${tmpPath}/untracked.ipynb`)).toBeVisible();
    await expect(panel).toContainText(EMPTY_TEXT);

    // Refresh asks the server again and lands on the same state.
    const response = page.waitForResponse(r => r.url().includes('/mlvc/log'));
    await panel.getByRole('button', { name: 'Refresh' }).click();
    expect((await response).status()).toBe(200);
    await expect(panel).toContainText(EMPTY_TEXT);

    await page.screenshot({
      path: path.join(SCREENSHOTS, 'experiments-panel.png')
    });
  });

  test('shows a commit made from a cell after Refresh', async ({ page }) => {
    await page.notebook.createNew('real.ipynb');
    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');
    await expect(panel).toContainText(EMPTY_TEXT);

    await page.notebook.setCell(
      0,
      'code',
      [
        'import mlvc_server as mlvc',
        'mlvc.commit("from the kernel", variables={"lr": 0.1},',
        '            notebook="real.ipynb", metrics={"acc": 0.5}, repo=".")'
      ].join('\n')
    );
    await page.notebook.run();

    await panel.getByRole('button', { name: 'Refresh' }).click();
    const commits = panel
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');
    await expect(commits).toHaveCount(1);
    await expect(commits.first()).toContainText('from the kernel');
    await expect(commits.first()).toContainText('acc 0.5');
  });

  test('lists the commits the server returns', async ({ page }) => {
    await page.route(/\/mlvc\/log\?/, route =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          initialized: true,
          commits: [
            {
              id: 'b'.repeat(40),
              short_id: 'bbbbbbb',
              message: 'smaller C, more iterations',
              author: 'ana',
              time: new Date(Date.now() - 2 * 60 * 1000).toISOString(),
              branch: 'main',
              notebook: 'train.ipynb',
              params: { C: 0.0005 },
              metrics: { acc: 0.962, loss: 0.12 }
            },
            {
              id: 'a'.repeat(40),
              short_id: 'aaaaaaa',
              message: 'first model',
              author: 'ana',
              time: new Date(Date.now() - 3 * 3600 * 1000).toISOString(),
              branch: 'main',
              notebook: 'train.ipynb',
              params: { C: 1 },
              metrics: { acc: 0.951 }
            }
          ]
        })
      })
    );
    await page.notebook.createNew('train.ipynb');
    await page.getByRole('tab', { name: 'Experiments' }).click();
    const commits = page
      .locator('#mlvc-experiments')
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');

    await expect(commits).toHaveCount(2);
    await expect(commits.nth(0)).toContainText('smaller C, more iterations');
    await expect(commits.nth(0)).toContainText('2 min ago');
    await expect(commits.nth(0)).toContainText('acc 0.962 · loss 0.12');
    await expect(commits.nth(1)).toContainText('first model');

    await page.screenshot({
      path: path.join(SCREENSHOTS, 'experiments-history.png')
    });
  });

  test('says so when the history cannot be loaded', async ({ page }) => {
    await page.route(/\/mlvc\/log\?/, route =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ message: 'store is locked', reason: null })
      })
    );
    await page.notebook.createNew('broken.ipynb');
    await page.getByRole('tab', { name: 'Experiments' }).click();

    const alert = page.locator('#mlvc-experiments').getByRole('alert');
    await expect(alert).toContainText('Could not load the experiment history.');
    await expect(alert).toContainText('store is locked');
  });
});
