/**
 * The panel's other ways in, on a real notebook and kernel: the keyboard
 * shortcut, the row's right-click menu (Restore variables), the branch switcher.
 */
import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

test('shortcut commit, restore one variable from the row menu, switch branch', async ({
  page
}) => {
  test.setTimeout(180 * 1000);
  await page.notebook.createNew('actions.ipynb');
  await page.notebook.setCell(0, 'code', 'C = 1.0; gamma = 0.1');
  await page.notebook.run();

  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  const commits = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');

  // Accel+Alt+M in the notebook (command mode here) asks for a message and commits.
  await page.notebook.selectCells(0);
  await page.keyboard.press('Escape');
  await page.keyboard.press('ControlOrMeta+Alt+M');
  const ask = page.getByRole('dialog');
  await expect(ask).toContainText('Commit message');
  await ask.getByRole('textbox').fill('from the shortcut');
  await ask.getByRole('button', { name: 'Commit' }).click();
  await expect(commits).toHaveCount(1, { timeout: 30000 });
  await expect(commits.first()).toContainText('from the shortcut');

  await page.notebook.setCell(0, 'code', 'C = 2.0; gamma = 0.2');
  await page.notebook.run();
  await panel.getByRole('textbox', { name: 'Commit message' }).fill('C = 2');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(2, { timeout: 30000 });

  // Right-click the first commit: Restore Variables…, only C.
  await commits.nth(1).click({ button: 'right' });
  const menu = page.locator('.jp-mlvc-RowMenu');
  await expect(menu).toBeVisible();
  for (const item of [
    'Diff with Parent',
    'Checkout…',
    'New Branch from Here…',
    'Tag…',
    'Restore Variables…',
    'Copy Id'
  ]) {
    await expect(menu.getByRole('menuitem', { name: item })).toHaveCount(1);
  }
  await page.screenshot({ path: path.join(SCREENSHOTS, 'row-menu.png') });
  await menu.getByRole('menuitem', { name: 'Restore Variables…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Variables to load into the kernel:');
  await dialog.getByRole('checkbox', { name: 'gamma' }).uncheck();
  await dialog.getByRole('button', { name: 'Restore' }).click();
  await expect(panel.getByRole('status').first()).toContainText('Restored', {
    timeout: 30000
  });

  await page.getByRole('tab', { name: 'actions.ipynb', exact: true }).click();
  await page.notebook.addCell('code', 'print(C, gamma)');
  const last = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(last);
  expect(await page.notebook.getCellTextOutput(last)).toEqual(['1.0 0.2\n']);

  // A branch from the first commit, then back to main with the switcher.
  await commits.nth(1).click({ button: 'right' });
  await menu.getByRole('menuitem', { name: 'New Branch from Here…' }).click();
  await page.getByRole('dialog').getByRole('textbox').fill('wide-c');
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Create' })
    .click();
  const branch = panel.getByRole('combobox', { name: 'Branch' });
  await expect(branch).toHaveValue('wide-c', { timeout: 30000 });
  await branch.selectOption('main');
  await expect(branch).toHaveValue('main', { timeout: 30000 });
  await expect(commits.first()).toContainText('C = 2');
});

test('push to a remote and pull from it, from the panel', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(180 * 1000);
  await page.notebook.createNew('sync.ipynb');
  await page.notebook.setCell(0, 'code', 'import os; print(os.getcwd())');
  await page.notebook.run();
  await page.notebook.save();
  const cwd = (await page.notebook.getCellTextOutput(0))![0].trim();

  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  const commits = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  await panel.getByRole('textbox', { name: 'Commit message' }).fill('to share');
  await panel.getByRole('button', { name: 'Commit', exact: true }).click();
  await expect(commits).toHaveCount(1, { timeout: 30000 });

  // A bare git repository as the remote, added with the CLI as a user would.
  const python = process.env.MLVC_PYTHON || 'python';
  const bare = path.join(cwd, 'shared.git');
  execFileSync('git', ['init', '--bare', '-q', bare]);
  execFileSync(
    python,
    ['-m', 'mlvc_server.cli', 'remote', 'add', 'origin', bare],
    {
      cwd
    }
  );
  await panel.getByRole('button', { name: 'Refresh' }).click();
  await expect(panel.getByRole('combobox', { name: 'Remote' })).toHaveValue(
    'origin',
    { timeout: 30000 }
  );

  await panel.getByRole('button', { name: 'Push' }).click();
  await expect(panel.getByRole('status').first()).toContainText(
    'Pushed to origin: 1 created',
    { timeout: 60000 }
  );
  const refs = execFileSync('git', ['--git-dir', bare, 'for-each-ref'], {
    encoding: 'utf-8'
  });
  expect(refs).toContain('refs/heads/sync.ipynb/main');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'panel-pushed.png') });

  await panel.getByRole('button', { name: 'Pull' }).click();
  await expect(panel.getByRole('status').first()).toContainText(
    'Pulled from origin: 1 up-to-date',
    { timeout: 60000 }
  );

  // A colleague clones, adds a cell to each notebook, commits and pushes from a
  // terminal; the pull brings the commits, and each open notebook, the one in
  // focus and one in a tab behind it, shows the colleague's cell.
  const mlvc = (args: string[], where: string) =>
    execFileSync(python, ['-m', 'mlvc_server.cli', ...args], {
      cwd: where,
      encoding: 'utf-8'
    });
  const addCell = (notebook: string, code: string, where: string) =>
    execFileSync(
      python,
      [
        '-c',
        'import nbformat as f, sys; nb = f.read(sys.argv[1], 4); ' +
          'nb.cells.append(f.v4.new_code_cell(sys.argv[2])); f.write(nb, sys.argv[1])',
        notebook,
        code
      ],
      { cwd: where }
    );
  execFileSync(
    python,
    [
      '-c',
      // (sync.ipynb's metadata: its kernel, so that JupyterLab does not ask)
      'import nbformat as f; nb = f.read("sync.ipynb", 4); ' +
        'nb.cells = [f.v4.new_code_cell("other = 1")]; f.write(nb, "other.ipynb")'
    ],
    { cwd }
  );
  mlvc(['commit', '-N', 'other.ipynb', '-m', 'another notebook'], cwd);
  mlvc(['push'], cwd);
  await page.evaluate(async where => {
    await (window as any).jupyterapp.commands.execute('docmanager:open', {
      path: where
    });
  }, `${tmpPath}/other.ipynb`);
  await expect(
    page.getByRole('tab', { name: 'other.ipynb', exact: true })
  ).toHaveCount(1, { timeout: 30000 });
  await page.notebook.activate('sync.ipynb');
  const theirs = path.join(cwd, 'colleague');
  mlvc(['clone', bare, theirs], cwd);
  addCell('other.ipynb', 'other_from_colleague = 1', theirs);
  mlvc(
    ['commit', '-N', 'other.ipynb', '-m', 'other, from a colleague'],
    theirs
  );
  addCell('sync.ipynb', 'from_colleague = 1', theirs);
  mlvc(['commit', '-N', 'sync.ipynb', '-m', 'from a colleague'], theirs);
  mlvc(['push'], theirs);

  await panel.getByRole('button', { name: 'Pull' }).click();
  await expect(panel.getByRole('status').first()).toContainText(
    'Pulled from origin: 2 fast-forward',
    { timeout: 60000 }
  );
  await expect(commits).toHaveCount(2, { timeout: 30000 });
  await expect(commits.first()).toContainText('from a colleague');
  await expect
    .poll(async () => page.notebook.getCellCount(), { timeout: 30000 })
    .toBe(2);
  expect(await page.notebook.getCell(1)).toBeTruthy();
  await expect(
    page.locator('.jp-Notebook .jp-Cell').nth(1).locator('.jp-InputArea')
  ).toContainText('from_colleague = 1');
  await expect(panel).not.toContainText('notebook changed');

  // the notebook in the tab behind was brought along too
  await page.notebook.activate('other.ipynb');
  await expect
    .poll(async () => page.notebook.getCellCount(), { timeout: 30000 })
    .toBe(2);
  await expect(
    page.locator('.jp-NotebookPanel:visible .jp-Cell').nth(1)
  ).toContainText('other_from_colleague = 1');
});
