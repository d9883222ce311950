/**
 * The main Checkout dialog lists the data files the commit read that differ here
 * (path, sizes), each checked; checking out puts them back with the notebook and
 * the variables, on a real notebook and kernel; the notification's Undo puts the
 * files back as they were, with the notebook and the variables.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

// Written from outside the kernel: a file the kernel wrote is an output, not data.
function table(rows: number): string {
  const lines = ['id,x'];
  for (let i = 0; i < rows; i++) {
    lines.push(`${i},${i * 0.5}`);
  }
  return lines.join('\n') + '\n';
}

test('the Checkout dialog puts back the data files too', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(240 * 1000);
  const csv = `${tmpPath}/data/train.csv`;
  await page.contents.uploadContent(table(1000), 'text', csv);
  await page.notebook.createNew('ckdata.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    [
      '%load_ext mlvc_server',
      'import pandas as pd',
      "%mlvc track --content 'data/**'",
      "n = len(pd.read_csv('data/train.csv'))"
    ].join('\n')
  );
  await page.notebook.run();

  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  const commits = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  const message = panel.getByRole('textbox', { name: 'Commit message' });
  await message.fill('1,000 rows');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(1, { timeout: 30000 });

  await page.contents.uploadContent(table(3000), 'text', csv);
  await page.notebook.addCell('code', "n = len(pd.read_csv('data/train.csv'))");
  await page.notebook.run();
  await message.fill('3,000 rows');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(2, { timeout: 30000 });

  // Checkout of the first commit: the dialog lists the data file, checked, sizes.
  await commits.nth(1).click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Checkout…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Data files it read', { timeout: 30000 });
  const file = dialog.getByRole('checkbox', { name: /data\/train\.csv/ });
  await expect(file).toBeChecked();
  await expect(dialog).toContainText(/KiB at the commit, [\d.]+ KiB here/);
  await expect(dialog).toContainText(
    'kept first under .mlvc/mlvc/data-safety/'
  );
  await page.screenshot({
    path: path.join(SCREENSHOTS, 'checkout-data.png')
  });
  await page.theme.setDarkTheme();
  await page.screenshot({
    path: path.join(SCREENSHOTS, 'checkout-data-dark.png')
  });
  await page.theme.setLightTheme();
  await dialog.getByRole('button', { name: 'Checkout', exact: true }).click();
  const toast = page.locator('.Toastify__toast').filter({
    hasText: 'Checked out'
  });
  await expect(toast).toContainText('Data files put back: data/train.csv.', {
    timeout: 30000
  });
  const rowsOnDisk = async (): Promise<number> => {
    const r = await page.request.get(
      `/api/contents/${csv}?content=1&type=file`
    );
    return (await r.json()).content.trim().split('\n').length - 1;
  };
  expect(await rowsOnDisk()).toBe(1000);

  // Undo puts the file back as it was, and the notebook and the variables too.
  await toast.getByRole('button', { name: 'Undo' }).click();
  await expect(
    page.locator('.Toastify__toast').filter({
      hasText: 'Data files put back as they were: data/train.csv.'
    })
  ).toBeVisible({ timeout: 60000 });
  expect(await rowsOnDisk()).toBe(3000);
  await page.getByRole('tab', { name: 'ckdata.ipynb', exact: true }).click();
  await page.notebook.addCell(
    'code',
    "print(n, len(pd.read_csv('data/train.csv')))"
  );
  const cell = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(cell);
  expect(await page.notebook.getCellTextOutput(cell)).toEqual(['3000 3000\n']);
});
