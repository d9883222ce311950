/**
 * One tab per diff pair and per notebook's compare view: opening again shows the
 * open tab (diff) or replaces it in place (compare); a closed tab is forgotten.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import { TabReuse } from '../tabs';

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
});
