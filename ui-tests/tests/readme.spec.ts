/**
 * The README's first image: JupyterLab with a notebook, the Experiments panel
 * holding a real history (two branches, params and metrics), its Models section,
 * and the diff of two runs in the main area. Written to docs/images/overview.png (committed).
 */
import { expect, test } from '@jupyterlab/galata';
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
