import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

/**
 * Python that displays a kernel request the way the `%mlvc` magics do.
 */
function requestCell(
  action: 'save' | 'revert',
  notebookPath: string,
  id: string,
  age = 0,
  after = ''
): string {
  const data = `{"action": "${action}", "path": "${notebookPath}", "id": "${id}", "time": time.time() - ${age}}`;
  return [
    'import time',
    'from IPython.display import display',
    `display({"application/vnd.mlvc.request+json": ${data}, "text/plain": ""}, raw=True)`,
    after
  ].join('\n');
}

/**
 * Set a cell's source through the notebook model (long code is slow to type,
 * and the editor's auto-indent would change it), adding cells as needed.
 */
async function setSource(
  page: IJupyterLabPageFixture,
  index: number,
  source: string
): Promise<void> {
  await page.evaluate(
    ({ index, source }) => {
      const model = (window as any).jupyterapp.shell.currentWidget.content
        .model;
      while (model.cells.length <= index) {
        model.sharedModel.insertCell(model.cells.length, {
          cell_type: 'code',
          source: ''
        });
      }
      model.cells.get(index).sharedModel.setSource(source);
    },
    { index, source }
  );
}

/** The notebook file as the server has it on disk, as text. */
async function onDisk(
  page: IJupyterLabPageFixture,
  notebookPath: string
): Promise<string> {
  const response = await page.request.get(
    `/api/contents/${notebookPath}?content=1&type=notebook`
  );
  expect(response.status()).toBe(200);
  return JSON.stringify((await response.json()).content);
}

/** Whether the notebook in the main area has unsaved changes. */
async function isDirty(page: IJupyterLabPageFixture): Promise<boolean> {
  return page.evaluate(
    () => (window as any).jupyterapp.shell.currentWidget.context.model.dirty
  );
}

test.describe('Kernel requests to the frontend', () => {
  test('a fresh save request saves the notebook once', async ({
    page,
    tmpPath
  }) => {
    const nbPath = `${tmpPath}/save.ipynb`;
    await page.notebook.createNew('save.ipynb');
    // The request stays in the running cell for a while: the magics wait there
    // for the save to land on disk before they read the file.
    await setSource(
      page,
      0,
      requestCell('save', nbPath, 'x1', 0, 'time.sleep(4)')
    );
    await page.notebook.save();
    await page.notebook.addCell('code', '# an unsaved edit 4711');
    expect(await isDirty(page)).toBe(true);
    expect(await onDisk(page, nbPath)).not.toContain('unsaved edit 4711');

    await page.notebook.runCell(0, { wait: false });
    await expect
      .poll(() => onDisk(page, nbPath), { timeout: 10000 })
      .toContain('unsaved edit 4711');
    await expect.poll(() => isDirty(page)).toBe(false);
    // Nothing of the request shows, and it takes no room in the cell.
    const firstCell = page.locator('.jp-Cell').first();
    await expect(firstCell.locator('.jp-mlvc-KernelRequest')).toHaveCount(1);
    await expect(firstCell.locator('.jp-Cell-outputWrapper')).toHaveCSS(
      'display',
      'none'
    );
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'kernel-request-saved.png')
    });
    await page.notebook.waitForRun(0);

    // The same request, shown again (the cell is run again), does nothing.
    await page.notebook.setCell(1, 'code', '# a second edit 815');
    await page.notebook.runCell(0, { wait: false });
    await page.waitForTimeout(2000);
    expect(await onDisk(page, nbPath)).not.toContain('second edit 815');
    expect(await isDirty(page)).toBe(true);
    await page.notebook.waitForRun(0);
  });

  test('a stale request does nothing', async ({ page, tmpPath }) => {
    const nbPath = `${tmpPath}/stale.ipynb`;
    await page.notebook.createNew('stale.ipynb');
    await setSource(page, 0, requestCell('save', nbPath, 'x2', 3600));
    await page.notebook.save();
    await page.notebook.addCell('code', '# an unsaved edit 4711');

    await page.notebook.runCell(0);
    await page.waitForTimeout(2000);
    expect(await onDisk(page, nbPath)).not.toContain('unsaved edit 4711');
    expect(await isDirty(page)).toBe(true);
  });

  test('a revert request reloads the notebook from disk', async ({
    page,
    tmpPath
  }) => {
    const nbPath = `${tmpPath}/revert.ipynb`;
    await page.notebook.createNew('revert.ipynb');
    const write = [
      'import json',
      'nb = json.load(open("revert.ipynb"))',
      'nb["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "k1", "source": "written by the kernel 1234"})',
      'json.dump(nb, open("revert.ipynb", "w"))'
    ].join('\n');
    await setSource(
      page,
      0,
      write + '\n' + requestCell('revert', nbPath, 'r1')
    );
    await page.notebook.save();

    await page.notebook.runCell(0, { wait: false });
    await expect(
      page
        .locator('.jp-MarkdownCell .jp-RenderedMarkdown')
        .getByText('written by the kernel 1234')
    ).toBeVisible({ timeout: 10000 });
  });
});

test.describe('Rich output of the magics', () => {
  test('diff and history render in a notebook', async ({ page }) => {
    test.setTimeout(120000);
    await page.notebook.createNew('widgets.ipynb');
    await setSource(
      page,
      0,
      [
        'import numpy as np, mlvc_server as mlvc',
        'from IPython.display import display',
        'from sklearn.datasets import load_iris',
        'from sklearn.linear_model import LogisticRegression',
        'from mlvc_server.kernel.widgets import log_bundle, show_diff, show_log',
        'X, y = load_iris(return_X_y=True)',
        'm = LogisticRegression(C=1.0, max_iter=300).fit(X, y)',
        'a = mlvc.commit("first model", variables={"model": m, "X": X, "w": np.zeros(100)},',
        '                notebook="widgets.ipynb", params={"C": 1.0}, metrics={"acc": m.score(X, y)})',
        'm = LogisticRegression(C=0.05, max_iter=300).fit(X, y)',
        'w = np.zeros(100); w[:7] = 0.5',
        'b = mlvc.commit("smaller C, more iterations <b>not bold</b>",',
        '                variables={"model": m, "X": X, "w": w, "lr": 0.3}, notebook="widgets.ipynb",',
        '                params={"C": 0.05, "max_iter": 300}, metrics={"acc": m.score(X, y)})',
        'mlvc.tag("champion", b, notebook="widgets.ipynb")'
      ].join('\n')
    );
    await setSource(
      page,
      1,
      'show_diff(mlvc.diff(a, b, notebook="widgets.ipynb"))'
    );
    await setSource(
      page,
      2,
      'show_log(mlvc.log(notebook="widgets.ipynb"), notebook="widgets.ipynb")'
    );
    await setSource(
      page,
      3,
      'display(log_bundle(mlvc.log(notebook="widgets.ipynb")), raw=True)'
    );
    await page.notebook.run();

    const diffOutput = page
      .locator('.jp-Cell')
      .nth(1)
      .locator('.jp-Cell-outputArea');
    await expect(diffOutput).toContainText('1 → 0.05 (-0.95)');
    await expect(diffOutput).toContainText('<b>not bold</b>');
    await expect(diffOutput).toContainText('7% of values changed');
    await diffOutput.screenshot({
      path: path.join(SCREENSHOTS, 'kernel-diff.png')
    });

    const logHtml = page
      .locator('.jp-Cell')
      .nth(3)
      .locator('.jp-Cell-outputArea');
    await expect(logHtml.getByRole('table')).toBeVisible();
    await expect(logHtml).toContainText('champion');
    await logHtml.screenshot({
      path: path.join(SCREENSHOTS, 'kernel-log-html.png')
    });

    // The widget: pick both commits, Diff shows their diff below the table.
    const logWidget = page
      .locator('.jp-Cell')
      .nth(2)
      .locator('.jp-Cell-outputArea');
    const boxes = logWidget.getByRole('checkbox');
    await expect(boxes).toHaveCount(2);
    const diffButton = logWidget.getByRole('button', { name: 'Diff' });
    await expect(diffButton).toBeDisabled();
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await diffButton.click();
    await expect(logWidget).toContainText('1 → 0.05 (-0.95)');
    await logWidget.screenshot({
      path: path.join(SCREENSHOTS, 'kernel-log-widget.png')
    });

    await page.theme.setDarkTheme();
    await diffOutput.screenshot({
      path: path.join(SCREENSHOTS, 'kernel-diff-dark.png')
    });
    await logWidget.screenshot({
      path: path.join(SCREENSHOTS, 'kernel-log-widget-dark.png')
    });
    await page.theme.setLightTheme();
  });
});
