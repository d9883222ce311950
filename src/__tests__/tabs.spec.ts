/**
 * One tab per diff pair and per notebook's compare view: opening again shows the
 * open tab (diff) or replaces it in place (compare); a closed tab is forgotten.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import { TabReuse, viewArea } from '../tabs';

let next = 0;
class FakeWidget {
  id = `w${next++}`;
  isDisposed = false;
  disposed = new Signal<this, void>(this);
  dispose(): void {
    this.isDisposed = true;
    this.disposed.emit();
  }
}

function setup() {
  const shell = { add: jest.fn(), activateById: jest.fn() };
  const tabs = new TabReuse(shell as unknown as JupyterFrontEnd.IShell);
  const create = jest.fn(() => new FakeWidget() as unknown as Widget);
  return { shell, tabs, create };
}

describe('TabReuse', () => {
  it('shows the open tab of the same pair instead of a new one', async () => {
    const { shell, tabs, create } = setup();
    const first = await tabs.open('diff:nb:a:b', create);
    const again = await tabs.open('diff:nb:a:b', create);
    expect(again).toBe(first);
    expect(create).toHaveBeenCalledTimes(1);
    expect(shell.add).toHaveBeenCalledTimes(1);
    expect(shell.activateById).toHaveBeenLastCalledWith(first.id);
    await tabs.open('diff:nb:b:c', create);
    expect(create).toHaveBeenCalledTimes(2);
    expect(tabs.size).toBe(2);
  });

  it('replaces a compare tab in place with fresh data', async () => {
    const { shell, tabs, create } = setup();
    const first = await tabs.open('compare:nb', create, true);
    const second = await tabs.open('compare:nb', create, true);
    expect(second).not.toBe(first);
    expect(first.isDisposed).toBe(true);
    expect(shell.add).toHaveBeenLastCalledWith(second, 'main', {
      ref: first.id,
      mode: 'tab-after'
    });
    expect(tabs.size).toBe(1);
  });

  it('opens a new tab after the old one was closed', async () => {
    const { tabs, create } = setup();
    const first = await tabs.open('diff:nb:a:b', create);
    first.dispose();
    expect(tabs.size).toBe(0);
    const again = await tabs.open('diff:nb:a:b', create);
    expect(again).not.toBe(first);
  });

  it('opens in the main area of JupyterLab and the down area of Notebook 7', () => {
    expect(viewArea(true)).toBe('main');
    expect(viewArea(false)).toBe('down');
  });

  it('selects the tab of the view in a tabbed down area', async () => {
    // Notebook 7's down area: a tab panel (its stacked panel is each view's
    // parent) that `add` appends to and whose `activateById` shows a view
    // without selecting its tab.
    const down = {
      tabBar: {},
      currentWidget: null as Widget | null,
      widgets: [] as Widget[]
    };
    const stack = { parent: down };
    const shell = {
      add: jest.fn((widget: Widget, area: string) => {
        expect(area).toBe('down');
        (widget as unknown as { parent: unknown }).parent = stack;
        down.widgets.push(widget);
        widget.disposed.connect(() => {
          down.widgets = down.widgets.filter(w => w !== widget);
        });
      }),
      activateById: jest.fn()
    };
    const tabs = new TabReuse(
      shell as unknown as JupyterFrontEnd.IShell,
      viewArea(false)
    );
    const create = () => new FakeWidget() as unknown as Widget;
    const first = await tabs.open('diff:nb:a:b', create);
    const second = await tabs.open('diff:nb:b:c', create);
    expect(down.currentWidget).toBe(second);
    expect(await tabs.open('diff:nb:a:b', create)).toBe(first);
    expect(down.currentWidget).toBe(first);
    const compare = await tabs.open('compare:nb', create, true);
    const fresh = await tabs.open('compare:nb', create, true);
    expect(compare.isDisposed).toBe(true);
    expect(down.currentWidget).toBe(fresh);
    expect(down.widgets).toEqual([first, second, fresh]);
  });
});
