/**
 * The README's first image: JupyterLab with a notebook, the Experiments panel
 * holding a real history (two branches, params and metrics), its Models section,
 * and the diff of two runs in the main area. Written to docs/images/overview.png (committed).
 * Then docs/images/compare.png: the Compare view of a 24-run sweep on three branches
 * (a real server and history; the notebook's `%mlvc compare --plot` drawn too).
 */
import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as path from 'path';

const DOCS_IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');

test.use({ viewport: { width: 1400, height: 860 } });

test('overview: a history of runs and the diff of two of them', async ({
  page
}) => {
  test.setTimeout(240 * 1000);
  await page.notebook.createNew('train.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    [
      '%load_ext mlvc_server',
      'import numpy as np',
      'from sklearn.datasets import make_classification',
      'from sklearn.linear_model import LogisticRegression',
      'X, y = make_classification(n_samples=400, random_state=0)'
    ].join('\n')
  );
  await page.notebook.addCell(
    'code',
    [
      'def run(C, message, branch=None):',
      '    global clf, acc',
      '    clf = LogisticRegression(C=C, max_iter=500).fit(X, y)',
      '    acc = round(clf.score(X, y), 4)',
      '    get_ipython().run_line_magic("mlvc", f\'commit -m "{message}" --param C={C} --metric acc={acc}\')'
    ].join('\n')
  );
  await page.notebook.addCell('code', 'C = 1.0\nrun(C, "baseline")');
  await page.notebook.run();
  await page.notebook.save();

  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  const commits = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  await expect(commits).toHaveCount(1, { timeout: 30000 });

  await page.notebook.setCell(
    2,
    'code',
    'C = 0.1\nrun(C, "stronger regularisation")'
  );
  await page.notebook.runCell(2);
  await expect(commits).toHaveCount(2, { timeout: 30000 });
  await page.notebook.setCell(
    2,
    'code',
    '%mlvc branch tuning\nC = 10.0\nrun(C, "weaker regularisation")'
  );
  await page.notebook.runCell(2);
  await expect(commits).toHaveCount(3, { timeout: 30000 });
  await page.notebook.save();

  // Diff the baseline against the newest run.
  await commits.filter({ hasText: 'baseline' }).click();
  await commits
    .filter({ hasText: 'weaker regularisation' })
    .click({ modifiers: ['ControlOrMeta'] });
  await panel.getByRole('button', { name: 'Diff' }).click();
  const diff = page.locator('.jp-mlvc-DiffView');
  await expect(diff).toBeVisible({ timeout: 30000 });
  await expect(
    diff.getByRole('region', { name: 'Variables' }).getByRole('row')
  ).not.toHaveCount(0);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(DOCS_IMAGES, 'overview.png') });
});

test('compare: a sweep on three branches, in the Compare view and the notebook', async ({
  page
}) => {
  test.setTimeout(300 * 1000);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.notebook.createNew('train.ipynb');
  await page.notebook.setCell(0, 'code', 'import os; print(os.getcwd())');
  await page.notebook.run();
  await page.notebook.save();
  const cwd = (await page.notebook.getCellTextOutput(0))![0].trim();
  // 24 runs of a learning-rate x layers sweep on three branches, each logging
  // its metrics at 8 steps, committed as `mlvc sweep` commits them
  execFileSync(
    process.env.MLVC_PYTHON || 'python',
    [
      path.resolve(__dirname, '..', 'make_sweep.py'),
      cwd,
      'train.ipynb',
      '24',
      '3'
    ],
    { encoding: 'utf-8', timeout: 120 * 1000 }
  );

  // The notebook shows the same charts: %mlvc compare --plot, drawn by
  // JupyterLab's own Vega-Lite renderer: the scatter, the parallel coordinates,
  // and acc and loss across the steps each run logged.
  await page.notebook.setCell(
    0,
    'code',
    '%load_ext mlvc_server\n%mlvc compare -n 30 --plot'
  );
  await page.notebook.run();
  const outputs = page.locator('.jp-OutputArea-output');
  await expect(outputs.locator('.vega-embed')).toHaveCount(4, {
    timeout: 60000
  });
  await expect(outputs.locator('.vega-embed .marks')).toHaveCount(4);
  await expect(
    page.locator(
      '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'
    )
  ).toHaveCount(0);

  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  await expect(
    panel.getByRole('list', { name: 'Commits' }).getByRole('listitem').first()
  ).toBeVisible({ timeout: 60000 });
  await panel.getByRole('button', { name: 'Compare' }).click();
  const compare = page.locator('.jp-mlvc-CompareView');
  const scatter = compare.getByRole('figure', {
    name: 'Params against metrics, one point per run'
  });
  await expect(scatter.locator('[data-render-ms]')).toBeVisible({
    timeout: 60000
  });
  await compare
    .getByRole('combobox', { name: 'Scatter x axis' })
    .selectOption('params.lr');
  await expect(scatter.locator('svg').first()).toContainText('params.lr');
  // the best run and the worst: selected in the table, outlined in the charts
  await compare.getByRole('button', { name: 'Sort by acc' }).click();
  const boxes = compare.locator('tbody input[type="checkbox"]');
  await boxes.first().check();
  await boxes.nth(23).check();
  await compare.getByRole('radio', { name: 'Across steps' }).check();
  const steps = compare.getByRole('figure', { name: 'acc across steps' });
  await expect(steps.locator('[data-render-ms]')).toBeVisible({
    timeout: 60000
  });
  await expect(
    scatter.locator('svg .mark-symbol.role-mark path[stroke="#e91e63"]')
  ).toHaveCount(2);
  // both charts in view (checking the last row scrolled the table in)
  await compare
    .getByRole('heading', { name: 'Compare runs' })
    .evaluate(el => el.scrollIntoView({ block: 'start' }));
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(DOCS_IMAGES, 'compare.png') });
  await page.theme.setDarkTheme();
  await expect(scatter.locator('[data-render-ms]')).toBeVisible({
    timeout: 60000
  });
  await expect(steps.locator('[data-render-ms]')).toBeVisible({
    timeout: 60000
  });
  await page.waitForTimeout(500);
  await page.screenshot({
    path: path.resolve(__dirname, '..', 'screenshots', 'compare-docs-dark.png')
  });
  await page.theme.setLightTheme();
});
