/**
 * A sweep started from the panel shows its progress with the time left, and its
 * Cancel button stops it: the runs under way commit nothing, the panel says what
 * ran, and a new sweep can start at once. Screenshots light and dark at the
 * default sidebar width.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

/** `train.ipynb`: a parameters cell, and a run that takes a minute when lr > 0.2. */
async function slowNotebook(
  page: IJupyterLabPageFixture,
  tmpPath: string
): Promise<void> {
  await page.notebook.createNew('where.ipynb');
  await page.notebook.setCell(0, 'code', 'import os; print(os.getcwd())');
  await page.notebook.run();
  const cwd = (await page.notebook.getCellTextOutput(0))![0].trim();
  const python = process.env.MLVC_PYTHON || 'python';
  execFileSync(python, [
    '-c',
    [
      'import nbformat, sys',
      'nb = nbformat.v4.new_notebook()',
      'nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}',
      'p = nbformat.v4.new_code_cell("lr = 0.1")',
      'p.metadata["tags"] = ["parameters"]',
      'slow = nbformat.v4.new_code_cell("import time\\ntime.sleep(60 if lr > 0.2 else 0)")',
      'nb.cells = [p, slow, nbformat.v4.new_code_cell("acc = 1 - lr")]',
      'nbformat.write(nb, sys.argv[1])'
    ].join('\n'),
    path.join(cwd, 'train.ipynb')
  ]);
  await page.notebook.close(true);
  await page.filebrowser.refresh();
  await page.notebook.openByPath(`${tmpPath}/train.ipynb`);
  await page.notebook.activate('train.ipynb');
}

async function startSweep(
  page: IJupyterLabPageFixture,
  values: string
): Promise<void> {
  // not awaited: the command resolves when the sweep has ended
  await page.evaluate(() => {
    void (window as any).jupyterapp.commands.execute('mlvc:start-sweep');
  });
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Start Sweep of train.ipynb');
  await dialog.getByRole('textbox', { name: 'lr' }).fill(values);
  await dialog.getByRole('textbox', { name: 'Runs at a time' }).fill('1');
  await dialog.getByRole('textbox', { name: 'Sweep name' }).fill('stop');
  await dialog.getByRole('button', { name: 'Start' }).click();
}

test('a sweep from the panel shows its time left and is cancelled', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(300 * 1000);
  await slowNotebook(page, tmpPath);
  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  await expect(panel).toContainText('train.ipynb', { timeout: 30000 });

  await startSweep(page, '0.1, 0.5, 0.9');
  const progress = panel.locator('.jp-mlvc-sweepProgress');
  // the first run ends at once; the second takes a minute
  await expect(progress).toContainText('Sweep: 1 of 3 runs ended', {
    timeout: 120000
  });
  await expect(progress).toContainText(/about \d+:\d\d left/);
  await expect(progress).toContainText('Last: lr=0.1: ok');
  const cancel = progress.getByRole('button', { name: 'Cancel' });
  await expect(cancel).toBeEnabled();
  await panel.screenshot({
    path: path.join(SCREENSHOTS, 'sweep-cancel-progress.png')
  });
  await page.theme.setDarkTheme();
  await panel.screenshot({
    path: path.join(SCREENSHOTS, 'sweep-cancel-progress-dark.png')
  });
  await page.theme.setLightTheme();

  await cancel.click();
  const status = panel.getByRole('status').first();
  await expect(status).toContainText(
    'Sweep cancelled: 3 runs (1 ok, 2 cancelled). Start it again to run only the missing ones.',
    { timeout: 60000 }
  );
  await expect(panel.locator('.jp-mlvc-sweepProgress')).toHaveCount(0);
  // only the run that ended was committed
  const rows = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  await expect(rows).toHaveCount(1, { timeout: 30000 });
  await expect(rows.first()).toContainText('sweep stop');
  await panel.screenshot({
    path: path.join(SCREENSHOTS, 'sweep-cancelled.png')
  });
  await page.theme.setDarkTheme();
  await panel.screenshot({
    path: path.join(SCREENSHOTS, 'sweep-cancelled-dark.png')
  });
  await page.theme.setLightTheme();

  // the job slot is free: the same sweep starts again at once, without the done run
  await startSweep(page, '0.1, 0.5, 0.9');
  await expect(progress).toBeVisible({ timeout: 30000 });
  await expect(progress).toContainText('Sweep: 0 of 2 runs ended', {
    timeout: 60000
  });
  await progress.getByRole('button', { name: 'Cancel' }).click();
  await expect(status).toContainText(
    'Sweep cancelled: 3 runs (1 skipped, 2 cancelled)',
    {
      timeout: 60000
    }
  );
});
