/**
 * A notebook renamed after its kernel started: the frontend tells the kernel, so
 * `%mlvc commit` commits the notebook under its new name (before, it looked for the
 * old file and failed with "does not exist (save it first)").
 */
import { expect, test } from '@jupyterlab/galata';

test.describe('Rename', () => {
  test('a magic commit after a rename goes to the new name', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(180 * 1000);
    await page.notebook.createNew('before.ipynb');
    await page.notebook.setCell(0, 'code', '%load_ext mlvc_server\nC = 1.0');
    await page.notebook.run();
    await page.notebook.save();

    // rename through the frontend's contents manager, as the file browser does
    await page.evaluate(
      async ([from, to]) => {
        const app = (window as any).jupyterapp;
        await app.serviceManager.contents.rename(from, to);
      },
      [`${tmpPath}/before.ipynb`, `${tmpPath}/after.ipynb`]
    );
    await expect(
      page.getByRole('tab', { name: 'after.ipynb', exact: true })
    ).toBeVisible({ timeout: 10000 });

    await page.notebook.addCell(
      'code',
      '%mlvc commit -m "after the rename"\nprint(__session__)'
    );
    await page.notebook.runCell(1);
    const out = ((await page.notebook.getCellTextOutput(1)) ?? []).join('');
    expect(out).not.toContain('does not exist');
    expect(out).toContain(`${tmpPath}/after.ipynb`);

    await page.getByRole('tab', { name: 'Experiments' }).click();
    const commits = page
      .locator('#mlvc-experiments')
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');
    await expect(commits).toHaveCount(1, { timeout: 15000 });
    await expect(commits.first()).toContainText('after the rename');
  });
});
