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

  test('a notebook renamed while its kernel starts: the server finds the kernel', async ({
    page,
    request,
    tmpPath
  }) => {
    test.setTimeout(120 * 1000);
    // What Galata's createNew does, without its delay: open a notebook and
    // rename it once loaded, before its session exists. The server looks
    // the kernel up by the session's path; it said `kernel: none` for this
    // notebook, so a panel commit had no variables (evaluate.spec failed so).
    const from = `${tmpPath}/Untitled.ipynb`;
    const to = `${tmpPath}/race.ipynb`;
    const made = await request.put(`/api/contents/${from}`, {
      data: {
        type: 'notebook',
        format: 'json',
        content: {
          cells: [],
          metadata: {
            kernelspec: {
              display_name: 'Python 3 (ipykernel)',
              language: 'python',
              name: 'python3'
            }
          },
          nbformat: 4,
          nbformat_minor: 5
        }
      }
    });
    expect(made.ok()).toBe(true);
    await page.evaluate(
      async ([from, to]) => {
        const docs = await (window as any).galata.getPlugin(
          '@jupyterlab/docmanager-extension:manager'
        );
        const widget = docs.open(from);
        // the file is loaded, the session is not there yet
        await widget.context.ready;
        await docs.rename(from, to);
      },
      [from, to]
    );
    await expect(
      page.getByRole('tab', { name: 'race.ipynb', exact: true })
    ).toBeVisible({ timeout: 10000 });

    const kernelState = async () =>
      (await (await request.get(`/mlvc/status?path=${to}`)).json()).kernel;
    await expect.poll(kernelState, { timeout: 30000 }).not.toBe('none');
    const sessions = await (await request.get('/api/sessions')).json();
    expect(sessions.map((s: { path: string }) => s.path)).toContain(to);
    expect(sessions.map((s: { path: string }) => s.path)).not.toContain(from);

    // the kernel was told too: a magic commits the notebook by its new name
    await page.notebook.setCell(
      0,
      'code',
      '%load_ext mlvc_server\nprint(__session__)'
    );
    await page.notebook.runCell(0);
    const out = ((await page.notebook.getCellTextOutput(0)) ?? []).join('');
    expect(out).toContain(to);
  });
});
