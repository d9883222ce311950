/**
 * Data files in the panel, on a real notebook and kernel: the Diff view's data
 * section (sizes, rows, columns) and a data checkout from the row menu, asked first.
 */
import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

// The files come from outside the kernel (a file the kernel wrote is an output, not
// data it read).
function table(rows: number, label: boolean): string {
  const lines = [label ? 'id,x,label' : 'id,x'];
  for (let i = 0; i < rows; i++) {
    lines.push(label ? `${i},${i * 0.5},${i % 3}` : `${i},${i * 0.5}`);
  }
  return lines.join('\n') + '\n';
}

const READ = [
  '%load_ext mlvc_server',
  'import pandas as pd',
  "%mlvc track --content 'data/**'",
  "df = pd.read_csv('data/train.csv')"
].join('\n');

test('data changes in the Diff view, data checkout from the row menu', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(240 * 1000);
  const csv = `${tmpPath}/data/train.csv`;
  await page.contents.uploadContent(table(1000, false), 'text', csv);
  await page.notebook.createNew('data.ipynb');
  await page.notebook.setCell(0, 'code', READ);
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

  await page.contents.uploadContent(table(1050, true), 'text', csv);
  await page.notebook.addCell('code', "df = pd.read_csv('data/train.csv')");
  await page.notebook.run();
  await message.fill('50 more rows, a label column');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(2, { timeout: 30000 });

  // The diff of the last commit: the data section says sizes, rows and columns.
  await commits.nth(0).click({ button: 'right' });
  const menu = page.locator('.jp-mlvc-RowMenu');
  await menu.getByRole('menuitem', { name: 'Diff with Parent' }).click();
  const changes = page.getByRole('table', { name: 'Data files' });
  await expect(changes).toBeVisible({ timeout: 60000 });
  await expect(changes).toContainText('data/train.csv');
  // rows are compared on the columns both versions have: the new column is not
  // every row changed
  await expect(changes).toContainText('1,000 → 1,050, +50 added');
  await expect(changes).not.toContainText('removed');
  await expect(changes).toContainText('columns added: label');
  await changes.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'data-diff.png') });
  await page.theme.setDarkTheme();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'data-diff-dark.png') });
  await page.theme.setLightTheme();

  // Back to the first commit's data: the dialog lists the file it will replace.
  await commits.nth(1).click({ button: 'right' });
  await menu.getByRole('menuitem', { name: 'Check Out Data Files…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('These data files will be replaced', {
    timeout: 30000
  });
  await expect(
    dialog.getByRole('list', { name: 'Files to replace' })
  ).toContainText('data/train.csv');
  await expect(dialog).toContainText('kept as a safety copy');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'data-checkout.png') });
  await page.theme.setDarkTheme();
  await page.screenshot({
    path: path.join(SCREENSHOTS, 'data-checkout-dark.png')
  });
  await page.theme.setLightTheme();
  await dialog.getByRole('button', { name: 'Replace Files' }).click();
  const done = page.locator('.Toastify__toast').first();
  await expect(done).toContainText('Checked out 1 data file(s)', {
    timeout: 30000
  });
  // it can be undone from there (mlvc data undo: the replaced file put back)
  await expect(done.getByRole('button', { name: 'Undo' })).toBeVisible();
  await page.waitForTimeout(1000); // the toast slides in
  await page.screenshot({
    path: path.join(SCREENSHOTS, 'data-checkout-done.png')
  });

  // The kernel reads the first version again.
  await page.getByRole('tab', { name: 'data.ipynb', exact: true }).click();
  await page.notebook.addCell(
    'code',
    "print(len(pd.read_csv('data/train.csv')), list(pd.read_csv('data/train.csv').columns))"
  );
  const last = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(last);
  expect(await page.notebook.getCellTextOutput(last)).toEqual([
    "1000 ['id', 'x']\n"
  ]);
});
