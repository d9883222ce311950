/**
 * The Compare view's Vega-Lite charts (vega-embed, from the spec
 * `%mlvc compare --plot` shows): scatter and parallel coordinates of a 20-run
 * sweep and its metric across steps, light and dark and in a narrow main area;
 * a click on a point selects its run without drawing the chart again. Then the
 * scatter of 1,000 runs: its render times (first, then 5 warm) are printed and
 * written to screenshots/compare-1000.json (budget 500 ms; not asserted).
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

async function sweepNotebook(
  page: IJupyterLabPageFixture,
  name: string,
  runs: number,
  branches = 0
): Promise<void> {
  await page.notebook.createNew(name);
  await page.notebook.setCell(0, 'code', 'import os; print(os.getcwd())');
  await page.notebook.run();
  await page.notebook.save();
  const cwd = (await page.notebook.getCellTextOutput(0))![0].trim();
  const python = process.env.MLVC_PYTHON || 'python';
  const made = execFileSync(
    python,
    [
      path.resolve(__dirname, '..', 'make_sweep.py'),
      cwd,
      name,
      String(runs),
      String(branches)
    ],
    { encoding: 'utf-8', timeout: 300 * 1000 }
  );
  console.log(`sweep: ${made.trim()}`);
}

async function openCompare(page: IJupyterLabPageFixture) {
  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  await expect(
    panel.getByRole('list', { name: 'Commits' }).getByRole('listitem').first()
  ).toBeVisible({ timeout: 60000 });
  await panel.getByRole('button', { name: 'Compare' }).click();
  const compare = page.locator('.jp-mlvc-CompareView');
  await expect(compare).toBeVisible({ timeout: 60000 });
  return compare;
}

test.describe('Compare charts', () => {
  test('scatter and parallel coordinates of a 20-run sweep', async ({
    page
  }) => {
    test.setTimeout(300 * 1000);
    await sweepNotebook(page, 'charts.ipynb', 20);
    const compare = await openCompare(page);
    const chart = compare.getByRole('figure', {
      name: 'Params against metrics, one point per run'
    });
    const host = chart.locator('.jp-mlvc-vegaHost[data-render-ms]');
    await expect(host).toBeVisible({ timeout: 60000 });
    // one chart of the grid at a time, axes labelled with the query
    // language's names, a point per run
    const svg = chart.locator('svg').first();
    await expect(svg).toContainText('params.layers'); // the first param
    await compare
      .getByRole('combobox', { name: 'Scatter x axis' })
      .selectOption('params.lr');
    await expect(svg).toContainText('params.lr');
    await expect(svg).toContainText('metrics.acc');
    const points = chart.locator('svg .mark-symbol.role-mark path');
    // 21 runs (the baseline has no params: Vega-Lite's null filter leaves it out)
    expect(await points.count()).toBeGreaterThanOrEqual(20);
    expect(await points.count()).toBeLessThanOrEqual(21);
    // the plot's background is the theme's
    const themed = async () =>
      chart
        .locator('svg')
        .first()
        .evaluate(el => {
          const probe = document.createElement('div');
          probe.style.background = 'var(--jp-layout-color0)';
          document.body.appendChild(probe);
          const want = getComputedStyle(probe).backgroundColor;
          probe.remove();
          return getComputedStyle(el).backgroundColor === want;
        });
    expect(await themed()).toBe(true);
    await compare.screenshot({
      path: path.join(SCREENSHOTS, 'compare-scatter.png')
    });

    // a click on a point selects its run in the table (and in the panel),
    // outlined through a signal: the chart is not drawn again
    await svg.evaluate(el => el.setAttribute('data-drawn', 'once'));
    const checked = compare.locator('tbody input[type="checkbox"]:checked');
    await expect(checked).toHaveCount(0);
    await points.first().click({ force: true });
    await expect(checked).toHaveCount(1, { timeout: 10000 });
    await expect(chart.locator('svg[data-drawn="once"]')).toHaveCount(1);
    await expect(
      chart.locator('svg .mark-symbol.role-mark path[stroke="#e91e63"]')
    ).toHaveCount(1, { timeout: 10000 });

    // tooltips name the run
    await points.nth(3).hover({ force: true });
    await expect(page.locator('#vg-tooltip-element')).toContainText('run', {
      timeout: 10000
    });

    // another pair: the y picker
    await compare
      .getByRole('combobox', { name: 'Scatter y axis' })
      .selectOption('metrics.loss');
    await expect(chart.locator('svg').first()).toContainText('metrics.loss', {
      timeout: 30000
    });

    // the metric across the steps of each run: a line per run, by branch
    await compare.getByRole('radio', { name: 'Across steps' }).check();
    const steps = compare.getByRole('figure', { name: 'acc across steps' });
    await expect(steps.locator('[data-render-ms]')).toBeVisible({
      timeout: 30000
    });
    await expect(steps.locator('svg').first()).toContainText('step');
    expect(await steps.locator('svg .mark-line.role-mark path').count()).toBe(
      20
    );
    // a click on a step's point selects its run
    await steps
      .locator('svg .mark-symbol.role-mark path')
      .nth(40)
      .click({ force: true });
    await expect(checked).not.toHaveCount(1, { timeout: 10000 });
    await compare
      .getByRole('figure', { name: 'acc across steps' })
      .scrollIntoViewIfNeeded();
    await compare.screenshot({
      path: path.join(SCREENSHOTS, 'compare-steps.png')
    });
    await compare.getByRole('radio', { name: 'Across commits' }).check();
    await expect(
      compare
        .getByRole('figure', { name: 'acc across commits' })
        .locator('svg')
        .first()
    ).toContainText('commits, oldest first', { timeout: 30000 });

    // a narrow main area: the charts shrink, nothing scrolls sideways
    await page.setViewportSize({ width: 720, height: 900 });
    const sideways = async () =>
      compare.evaluate(el => {
        const over: string[] = [];
        for (
          let node: HTMLElement | null = el;
          node && !node.classList.contains('jp-MainAreaWidget');
          node = node.parentElement
        ) {
          if (node.scrollWidth > node.clientWidth + 1) {
            over.push(
              `${node.className}: ${node.scrollWidth} > ${node.clientWidth}`
            );
          }
        }
        return over;
      });
    await expect.poll(sideways, { timeout: 10000 }).toEqual([]);
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'compare-narrow.png')
    });
    await page.setViewportSize({ width: 1280, height: 720 });

    await compare.getByRole('tab', { name: 'Parallel coordinates' }).click();
    const parallel = compare.getByRole('figure', {
      name: 'Parallel coordinates, one line per run'
    });
    await expect(
      parallel.locator('.jp-mlvc-vegaHost[data-render-ms]')
    ).toBeVisible({ timeout: 60000 });
    await expect(parallel.locator('svg').first()).toContainText('metrics.loss');
    expect(
      await parallel.locator('svg .mark-line.role-mark path').count()
    ).toBeGreaterThanOrEqual(20);
    await compare.screenshot({
      path: path.join(SCREENSHOTS, 'compare-parallel.png')
    });

    // export: vega-embed's menu saves PNG and SVG
    await parallel.locator('details summary').first().click();
    await expect(parallel.getByText('Save as SVG')).toBeVisible();
    await expect(parallel.getByText('Save as PNG')).toBeVisible();
    await parallel.locator('details summary').first().click();

    await page.theme.setDarkTheme();
    // the charts draw again in the theme's colours
    await compare.getByRole('tab', { name: 'Params vs metrics' }).click();
    await expect(host).toBeVisible({ timeout: 60000 });
    await expect.poll(themed, { timeout: 10000 }).toBe(true);
    await compare.screenshot({
      path: path.join(SCREENSHOTS, 'compare-scatter-dark.png')
    });
    await compare.getByRole('tab', { name: 'Parallel coordinates' }).click();
    await expect(
      parallel.locator('.jp-mlvc-vegaHost[data-render-ms]')
    ).toBeVisible({ timeout: 60000 });
    await compare.screenshot({
      path: path.join(SCREENSHOTS, 'compare-parallel-dark.png')
    });
    await page.theme.setLightTheme();

    // The panel's filter: query terms go to the server (?where=), words stay
    // text search, -term excludes; param and metric names complete.
    const panel = page.locator('#mlvc-experiments');
    const rows = panel
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');
    // an input with a list of completions is a combobox
    const filter = panel.getByRole('combobox', { name: 'Filter commits' });
    await filter.fill('metr');
    await expect(panel.locator('datalist option')).toHaveCount(2);
    expect(
      await panel.locator('datalist option').first().getAttribute('value')
    ).toBe('metrics.acc ');
    await filter.fill('');
    // rows are windowed: each says how many the filtered list holds
    const shown = async () =>
      Number((await rows.first().getAttribute('aria-setsize')) ?? 0);
    await expect(rows.first()).toBeVisible({ timeout: 30000 });
    const all = await shown();
    expect(all).toBe(21);
    await filter.fill('metrics.acc > 0.9');
    await expect.poll(shown, { timeout: 10000 }).toBeLessThan(all);
    const high = await shown();
    expect(high).toBeGreaterThan(0);
    await filter.fill('-metrics.acc > 0.9 params.layers = 1');
    await expect.poll(shown, { timeout: 10000 }).toBeLessThan(all - high);
    await filter.fill('metrics.acc ~ 1'); // ~ takes a glob: the server says so
    await expect(panel.getByRole('alert')).toBeVisible({ timeout: 10000 });
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'filter-query-error.png')
    });
    await filter.fill('baseline');
    await expect.poll(shown, { timeout: 10000 }).toBe(1);
    await filter.fill('-baseline');
    await expect.poll(shown, { timeout: 10000 }).toBe(all - 1);
    await filter.fill('');
  });

  test('the scatter of 1,000 runs', async ({ page }) => {
    test.setTimeout(600 * 1000);
    await sweepNotebook(page, 'charts1000.ipynb', 1000, 5);
    const compare = await openCompare(page);
    const scatter = compare.getByRole('figure', {
      name: 'Params against metrics, one point per run'
    });
    const host = scatter.locator('.jp-mlvc-vegaHost[data-render-ms]');
    await expect(host).toBeVisible({ timeout: 120000 });
    const first = Number(await host.getAttribute('data-render-ms'));
    // again, with vega loaded: the parallel tab, then the scatter (5 times)
    const warm: number[] = [];
    const parallelMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      await compare.getByRole('tab', { name: 'Parallel coordinates' }).click();
      await expect(
        compare.locator(
          '[aria-label="Parallel coordinates, one line per run"] [data-render-ms]'
        )
      ).toBeVisible({ timeout: 120000 });
      parallelMs.push(
        Number(
          await compare
            .locator(
              '[aria-label="Parallel coordinates, one line per run"] [data-render-ms]'
            )
            .getAttribute('data-render-ms')
        )
      );
      await compare.getByRole('tab', { name: 'Params vs metrics' }).click();
      await expect(host).toBeVisible({ timeout: 120000 });
      warm.push(Number(await host.getAttribute('data-render-ms')));
    }
    // 1,000 points in one chart: drawn on a canvas
    await expect(scatter.locator('.jp-mlvc-vegaHost canvas')).toHaveCount(1);
    const sorted = [...warm].sort((x, y) => x - y);
    const figures = {
      runs: 1000,
      renderer: 'canvas',
      first_ms: first,
      warm_ms: warm[0],
      warm_median_ms: sorted[2],
      warm_all_ms: warm,
      parallel_ms: parallelMs
    };
    console.log(`compare-1000: ${JSON.stringify(figures)}`);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fs.writeFileSync(
      path.join(SCREENSHOTS, 'compare-1000.json'),
      JSON.stringify(figures, null, 1)
    );
    await compare.screenshot({
      path: path.join(SCREENSHOTS, 'compare-1000.png')
    });
  });

  test('Start Sweep… from the parameters cell, with live progress', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(300 * 1000);
    await page.notebook.createNew('where.ipynb');
    await page.notebook.setCell(0, 'code', 'import os; print(os.getcwd())');
    await page.notebook.run();
    const cwd = (await page.notebook.getCellTextOutput(0))![0].trim();
    const python = process.env.MLVC_PYTHON || 'python';
    // a notebook whose first cell is tagged "parameters"
    execFileSync(python, [
      '-c',
      [
        'import nbformat, sys',
        'nb = nbformat.v4.new_notebook()',
        'nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}',
        'p = nbformat.v4.new_code_cell("lr = 0.1\\nlayers = 2")',
        'p.metadata["tags"] = ["parameters"]',
        'nb.cells = [p, nbformat.v4.new_code_cell("acc = 1 - lr / layers")]',
        'nbformat.write(nb, sys.argv[1])'
      ].join('\n'),
      path.join(cwd, 'train.ipynb')
    ]);
    await page.notebook.close(true);
    await page.filebrowser.refresh();
    await page.notebook.openByPath(`${tmpPath}/train.ipynb`);
    await page.notebook.activate('train.ipynb');
    await page.getByRole('tab', { name: 'Experiments' }).click();
    const panel = page.locator('#mlvc-experiments');
    await expect(panel).toContainText('train.ipynb', { timeout: 30000 });
    // not awaited: the command resolves when the sweep has ended
    await page.evaluate(() => {
      void (window as any).jupyterapp.commands.execute('mlvc:start-sweep');
    });
    const dialog = page.getByRole('dialog');
    await expect(dialog).toContainText('Start Sweep of train.ipynb');
    await expect(dialog.getByRole('textbox', { name: 'lr' })).toHaveValue(
      '0.1'
    );
    await dialog.getByRole('textbox', { name: 'lr' }).fill('0.1, 0.5');
    await dialog.getByRole('textbox', { name: 'Sweep name' }).fill('ui');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'sweep-dialog.png') });
    await dialog.getByRole('button', { name: 'Start' }).click();
    // live progress in the panel, then the outcome and the runs in the history
    await expect(panel.locator('progress')).toBeVisible({ timeout: 60000 });
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'sweep-progress.png')
    });
    await expect(panel.getByRole('status').first()).toContainText(
      'Sweep: 2 runs (2 ok)',
      { timeout: 240000 }
    );
    const rows = panel
      .getByRole('list', { name: 'Commits' })
      .getByRole('listitem');
    await expect(rows).toHaveCount(2, { timeout: 30000 });
    await expect(rows.first()).toContainText('sweep ui');
  });
});
