import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

const SETUP = [
  'import numpy as np, pandas as pd',
  'from sklearn.linear_model import LogisticRegression',
  'rng = np.random.default_rng(0)',
  "df = pd.DataFrame(rng.normal(size=(2000, 2)), columns=['u', 'v'])",
  "df['y'] = (df.u + rng.normal(scale=0.5, size=2000) > 0).astype(int)",
  "df.to_csv('evaluate-test.csv', index=False)",
  "model = LogisticRegression(C=1e-4).fit(df[['u', 'v']], df.y)"
].join('\n');

test('evaluate two selected commits from the panel', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(180 * 1000);
  await page.notebook.createNew('evaluate.ipynb');
  await page.notebook.setCell(0, 'code', SETUP);
  await page.notebook.run();

  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  const commits = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  const message = panel.getByRole('textbox', { name: 'Commit message' });
  await message.fill('tiny C');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(1, { timeout: 30000 });

  await page.notebook.addCell(
    'code',
    "model = LogisticRegression().fit(df[['u', 'v']], df.y)"
  );
  await page.notebook.run();
  await message.fill('default C');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(2, { timeout: 30000 });

  await commits.nth(1).click();
  await commits.nth(0).click({ modifiers: ['ControlOrMeta'] });
  // The command waits for its dialogs: start it without waiting for it.
  await page.evaluate(() => {
    void (window as any).jupyterapp.commands.execute('mlvc:evaluate');
  });
  let dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox').fill(`${tmpPath}/evaluate-test.csv`);
  await dialog.getByRole('button', { name: 'Ok' }).click();
  dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('target column');
  await dialog.getByRole('textbox').fill('y');
  await dialog.getByRole('button', { name: 'Ok' }).click();

  const report = page.getByRole('dialog').locator('.jp-mlvc-evaluation');
  await expect(report).toBeVisible({ timeout: 60000 });
  await expect(report).toContainText('B is better at the 95% level');
  const table = report.getByRole('table', { name: 'Evaluation metrics' });
  await expect(table.getByRole('row')).toHaveCount(4);
  await expect(
    report.getByRole('img', { name: 'interval of B − A for accuracy' })
  ).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'evaluate.png') });
  await page.theme.setDarkTheme();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'evaluate-dark.png') });
  await page.theme.setLightTheme();
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  // The evaluation is listed in the history, as its own kind.
  await expect(commits).toHaveCount(3, { timeout: 30000 });
});
