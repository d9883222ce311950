/**
 * Jupyter Notebook 7 (the same server serves its /notebooks/ pages): the notebook
 * toolbar's Experiments button opens the panel in the left area, a panel commit
 * records the kernel's variables, and Diff and Compare open in the tabbed area
 * below the notebook (Notebook 7's main area holds the notebook alone), with their
 * data, in the light and the dark theme.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

function notebook(sources: string[]): string {
  return JSON.stringify({
    cells: sources.map(source => ({
      cell_type: 'code',
      execution_count: null,
      metadata: {},
      outputs: [],
      source
    })),
    metadata: {
      kernelspec: {
        display_name: 'Python 3 (ipykernel)',
        language: 'python',
        name: 'python3'
      }
    },
    nbformat: 4,
    nbformat_minor: 5
  });
}

/** Run every cell and wait until the kernel is idle again. */
async function runAll(page: Page): Promise<void> {
  await expect(
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
  ).toHaveCount(1, { timeout: 60000 });
  const prompt = page
    .locator('.jp-Notebook .jp-Cell')
    .last()
    .locator('.jp-InputArea-prompt');
  // a click on the menu item right after the page settles is sometimes lost (seen
  // once in a clean-clone run: the cells never started, "[ ]:" for a minute, and
  // the retry passed in 6 s): ask again while no cell has started
  for (let attempt = 1; ; attempt++) {
    await page.getByRole('menuitem', { name: 'Run', exact: true }).click();
    await page.getByRole('menuitem', { name: /^Run All Cells/ }).click();
    try {
      await expect(prompt).not.toHaveText('[ ]:', { timeout: 20000 });
      break;
    } catch (error) {
      if (attempt === 3) {
        throw error;
      }
    }
  }
  await expect(prompt).toHaveText(/\[\d+\]/, { timeout: 60000 });
}

async function setTheme(page: Page, theme: string): Promise<void> {
  await page.getByRole('menuitem', { name: 'Settings', exact: true }).click();
  await page
    .locator('.lm-Menu-item')
    .filter({ has: page.locator('.lm-Menu-itemLabel', { hasText: /^Theme$/ }) })
    .click();
  await page.getByRole('menuitem', { name: theme, exact: true }).click();
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-name',
    theme
  );
}

test('Notebook 7: panel from the toolbar, Diff and Compare below the notebook', async ({
  context,
  request,
  tmpPath
}) => {
  test.setTimeout(240 * 1000);
  const file = `${tmpPath}/nb7.ipynb`;
  const put = await request.put(`/api/contents/${file}`, {
    data: {
      type: 'notebook',
      format: 'json',
      content: JSON.parse(
        notebook(['%load_ext mlvc_server\nacc = 0.5', 'C = 1.0'])
      )
    }
  });
  expect(put.ok()).toBe(true);

  const page = await context.newPage();
  // Settings (the theme) live in memory, as on Galata's own pages.
  await galata.Mock.mockSettings(page, [], { ...galata.DEFAULT_SETTINGS });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`notebooks/${file}`);
  await expect(page.locator('.jp-Notebook')).toBeVisible({ timeout: 60000 });
  await runAll(page);

  // The mlvc menu is there too.
  await expect(
    page.getByRole('menuitem', { name: 'Experiments', exact: true })
  ).toBeVisible();

  // The toolbar button opens the panel in the left area.
  const panel = page.locator('#mlvc-experiments');
  await expect(panel).toBeHidden();
  await page
    .locator('.jp-NotebookPanel-toolbar')
    .getByRole('button', { name: 'Show or hide the Experiments panel' })
    .click();
  await expect(panel).toBeVisible();
  await expect(page.locator('#jp-left-stack')).toContainText('nb7.ipynb');

  const commits = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  const message = panel.getByRole('textbox', { name: 'Commit message' });
  const commitButton = panel.getByRole('button', {
    name: 'Commit',
    exact: true
  });
  await message.fill('C is one');
  await commitButton.click();
  await expect(commits).toHaveCount(1, { timeout: 30000 });
  await expect(commits.first()).toContainText('acc');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'nb7-panel.png') });

  // change C in the second cell, run it, commit again
  const editor = page
    .locator('.jp-Notebook .jp-Cell')
    .nth(1)
    .locator('.cm-content');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('C = 2.0');
  await page.keyboard.press('Shift+Enter');
  await expect(
    page.locator('.jp-Notebook .jp-Cell').nth(1).locator('.jp-InputArea-prompt')
  ).toHaveText('[3]:', { timeout: 30000 });
  await message.fill('C is two');
  await commitButton.click();
  await expect(commits).toHaveCount(2, { timeout: 30000 });

  // Diff the two commits: a tab below the notebook
  await commits.nth(1).click();
  await commits.nth(0).click({ modifiers: ['ControlOrMeta'] });
  await panel.getByRole('button', { name: 'Diff' }).click();
  const down = page.locator('#jp-down-stack');
  const diff = down.locator('.jp-mlvc-DiffView');
  await expect(diff).toBeVisible({ timeout: 30000 });
  await expect(page.locator('.jp-Notebook')).toBeVisible();
  const cRow = diff
    .getByRole('region', { name: 'Variables' })
    .getByRole('row')
    .filter({ hasText: /^C/ });
  await expect(cRow).toContainText('1 → 2');
  await expect(
    diff
      .getByRole('region', { name: 'Notebook' })
      .getByLabel('Cell 2, modified')
  ).toContainText('C = 2.0');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'nb7-diff.png') });

  // The same diff again shows its tab, no second one.
  await panel.getByRole('button', { name: 'Diff' }).click();
  await expect(down.locator('.jp-mlvc-DiffView')).toHaveCount(1);

  // Compare: its own tab, selected, with the params and metrics
  await panel.getByRole('button', { name: 'Compare' }).click();
  const compare = down.locator('.jp-mlvc-CompareView');
  await expect(compare).toBeVisible({ timeout: 30000 });
  await expect(diff).toBeHidden();
  await expect(compare.getByRole('row')).toHaveCount(3);
  await expect(compare).toContainText('acc');
  await expect(compare.getByRole('columnheader', { name: /^C/ })).toHaveCount(
    1
  );
  await page.screenshot({ path: path.join(SCREENSHOTS, 'nb7-compare.png') });

  // back to the Diff tab, in the dark theme
  await down.getByRole('tab', { name: /Diff/ }).click();
  await expect(diff).toBeVisible();
  await setTheme(page, 'JupyterLab Dark');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'nb7-diff-dark.png') });
  await setTheme(page, 'JupyterLab Light');

  // The toolbar button hides the panel again.
  await page
    .locator('.jp-NotebookPanel-toolbar')
    .getByRole('button', { name: 'Show or hide the Experiments panel' })
    .click();
  await expect(panel).toBeHidden();

  // Stop the kernel this page started (Galata stops only its own page's).
  const sessions = await (await request.get('/api/sessions')).json();
  for (const session of sessions) {
    if (session.path === file) {
      await request.delete(`/api/sessions/${session.id}`);
    }
  }
  await page.close();
});
