/**
 * The main-area tabs mlvc opens, one per key: opening the diff of the same two
 * commits again shows its tab (a diff of two commits never changes); opening the
 * compare view of the same notebook again replaces its tab in place, with fresh
 * data. Closing a tab forgets it.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { Widget } from '@lumino/widgets';

/**
 * Opens main-area tabs, reusing the open tab of the same key.
 */
export class TabReuse {
  /**
   * @param shell - The application shell.
   */
  constructor(private readonly _shell: JupyterFrontEnd.IShell) {}

  /**
   * Show the tab of `key`.
   *
   * @param key - What the tab shows (e.g. `diff:NOTEBOOK:A:B`).
   * @param create - Makes a new tab.
   * @param replace - Replace an open tab of the key with a new one in its place
   *   (its data may have changed); otherwise the open tab is shown as it is.
   * @returns The tab shown.
   */
  async open(
    key: string,
    create: () => Widget | Promise<Widget>,
    replace = false
  ): Promise<Widget> {
    const open = this._open.get(key);
    if (open && !open.isDisposed && !replace) {
      this._shell.activateById(open.id);
      return open;
    }
    const widget = await create();
    this._open.set(key, widget);
    widget.disposed.connect(() => {
      if (this._open.get(key) === widget) {
        this._open.delete(key);
      }
    });
    if (open && !open.isDisposed) {
      this._shell.add(widget, 'main', { ref: open.id, mode: 'tab-after' });
      open.dispose();
    } else {
      this._shell.add(widget, 'main');
    }
    this._shell.activateById(widget.id);
    return widget;
  }

  /**
   * How many tabs are open.
   */
  get size(): number {
    return this._open.size;
  }

  private readonly _open = new Map<string, Widget>();
}
