/**
 * The panel on a notebook with 1,000 commits: how long the first page and "Load
 * more" take, and frame times while scrolling, selecting and filtering. The
 * figures are printed and written to screenshots/history-1000.json (they go in the
 * closing notes; timings are not asserted).
 */
import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');
const COUNT = 1000;

test('a notebook with 1,000 commits stays smooth', async ({ page }) => {
  test.setTimeout(600 * 1000);
  await page.notebook.createNew('history.ipynb');
  await page.notebook.setCell(0, 'code', 'import os; print(os.getcwd())');
  await page.notebook.run();
  await page.notebook.save();
  const cwd = (await page.notebook.getCellTextOutput(0))![0].trim();
  const python = process.env.MLVC_PYTHON || 'python';
  const made = execFileSync(
    python,
    [
      path.resolve(__dirname, '..', 'make_history.py'),
      cwd,
      'history.ipynb',
      String(COUNT)
    ],
    { encoding: 'utf-8', timeout: 400 * 1000 }
  );
  console.log(`history: ${made.trim()}`);

  const t0 = Date.now();
  await page.getByRole('tab', { name: 'Experiments' }).click();
  const panel = page.locator('#mlvc-experiments');
  const rows = panel
    .getByRole('list', { name: 'Commits' })
    .getByRole('listitem');
  await expect(rows.first()).toBeVisible({ timeout: 60000 });
  const firstPage = Date.now() - t0;
  const pageRows = await rows.count();

  // Rows are windowed: each says its place in the whole list.
  const size = () => rows.first().getAttribute('aria-setsize');
  const loadMore = panel.getByRole('button', { name: 'Load more' });
  const loads: number[] = [];
  while (await loadMore.isVisible()) {
    const before = await size();
    const t = Date.now();
    await loadMore.click();
    // Checked on every animation frame (expect.poll would add its own delays).
    await page.waitForFunction(
      was =>
        document
          .querySelector('#mlvc-experiments li[aria-setsize]')
          ?.getAttribute('aria-setsize') !== was,
      before,
      { timeout: 60000, polling: 'raf' }
    );
    loads.push(Date.now() - t);
  }
  expect(await size()).toBe(String(COUNT));
  const rendered = await rows.count();
  expect(rendered).toBeLessThan(200);
  // The graph: lanes for the sweep branches.
  await expect(
    panel.locator('.jp-mlvc-CommitRow-graph svg').first()
  ).toBeVisible();

  // Scroll the whole list, a step per animation frame, and time the frames.
  const scroll = await page.evaluate(async () => {
    const body = document.querySelector(
      '#mlvc-experiments .jp-mlvc-CommitList'
    ) as HTMLElement;
    let box: HTMLElement | null = body;
    while (box && box.scrollHeight <= box.clientHeight + 1) {
      box = box.parentElement;
    }
    if (!box) {
      return null;
    }
    const frames: number[] = [];
    box.scrollTop = 0;
    const step = box.clientHeight / 2;
    let last = performance.now();
    while (box.scrollTop + box.clientHeight < box.scrollHeight - 1) {
      box.scrollTop += step;
      await new Promise(r => requestAnimationFrame(r));
      const now = performance.now();
      frames.push(now - last);
      last = now;
    }
    frames.sort((a, b) => a - b);
    const q = (p: number) =>
      frames[Math.min(frames.length - 1, Math.floor(p * frames.length))];
    return {
      frames: frames.length,
      scrollHeight: box.scrollHeight,
      p50: q(0.5),
      p95: q(0.95),
      max: frames[frames.length - 1],
      over50ms: frames.filter(f => f > 50).length
    };
  });
  expect(scroll).not.toBeNull();

  // Select a row near the end, then filter, timing until the DOM shows it.
  // (the scroll above ended at the bottom, so the last rows are rendered)
  const target = panel.locator(`li[aria-posinset="${COUNT - 5}"]`);
  await target.scrollIntoViewIfNeeded();
  let t = Date.now();
  await target.click();
  await expect(target).toHaveClass(/jp-mlvc-mod-selected/);
  const select = Date.now() - t;
  await page.screenshot({ path: path.join(SCREENSHOTS, 'history-1000.png') });

  t = Date.now();
  await panel
    .getByRole('combobox', { name: 'Filter commits' })
    .fill('sweep 3.');
  await expect(rows).toHaveCount(3, { timeout: 30000 });
  const filter = Date.now() - t;

  const figures = {
    commits: COUNT,
    firstPageMs: firstPage,
    firstPageRows: pageRows,
    renderedRows: rendered,
    loadMoreMs: loads,
    scroll,
    selectMs: select,
    filterMs: filter
  };
  console.log(`history-1000: ${JSON.stringify(figures)}`);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  fs.writeFileSync(
    path.join(SCREENSHOTS, 'history-1000.json'),
    JSON.stringify(figures, null, 2)
  );
});
