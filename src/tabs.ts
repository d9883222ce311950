/**
 * The main-area tabs mlvc opens, one per key: opening the diff of the same two
 * commits again shows its tab (a diff of two commits never changes); opening the
 * compare view of the same notebook again replaces its tab in place, with fresh
 * data. Closing a tab forgets it.
 *
 * Where the tabs open depends on the application. JupyterLab's shell shows them in
 * its main dock area. Jupyter Notebook 7's shell holds one document in its main
 * area and silently ignores a second widget added there, so in Notebook 7 the
 * views open in its "down" area instead: a tabbed, resizable panel below the
 * notebook. That is what a Notebook 7 user expects of a tool view (the notebook
 * stays in sight while they read a diff or compare runs, the log console opens
 * there too); the right sidebar is too narrow for a diff table, and a new browser
 * tab would need a page of its own and lose the panel's selection and state.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { SplitPanel, TabPanel, Widget } from '@lumino/widgets';

/**
 * The shell area of mlvc's views: `main` in JupyterLab, `down` in Notebook 7.
 */
export type ViewArea = 'main' | 'down';

/**
 * The area mlvc's views open in.
 *
 * @param isLab - Whether the shell is JupyterLab's (the optional `ILabShell`
 *   token was provided); any other shell (Notebook 7) gets the `down` area.
 */
export function viewArea(isLab: boolean): ViewArea {
  return isLab ? 'main' : 'down';
}

/**
 * Add a view to the shell and show it.
 *
 * @param shell - The application shell.
 * @param widget - The view.
 * @param area - Where views open (see `viewArea`).
 * @param options - Where to put it among the open views (main area only).
 */
export function showView(
  shell: JupyterFrontEnd.IShell,
  widget: Widget,
  area: ViewArea,
  options?: { ref: string; mode: 'tab-after' }
): void {
  if (options) {
    shell.add(widget, area, options);
  } else {
    shell.add(widget, area);
  }
  shell.activateById(widget.id);
  selectTab(widget);
}

/**
 * Select the widget's tab when it is in a tab panel (Notebook 7's down area, a
 * `TabPanel` whose stacked panel is the widget's parent): activating a widget
 * there shows the area but does not select the widget's tab.
 *
 * @param widget - A view.
 */
function selectTab(widget: Widget): void {
  const tabs = widget.parent?.parent as Partial<TabPanel> | null | undefined;
  if (tabs && 'tabBar' in tabs && 'currentWidget' in tabs) {
    tabs.currentWidget = widget;
    giveRoom(tabs as TabPanel);
  }
}

/**
 * The smallest share of the height a view below the notebook gets when it opens,
 * and the share it then gets.
 */
const DOWN_MIN_SHARE = 0.25;
const DOWN_SHARE = 0.5;

/**
 * Notebook 7 opens its down area at its minimum height (a tab bar with no room
 * for a diff): give it most of the height, leaving the notebook in sight. A
 * height the user chose (over a quarter) is kept.
 *
 * @param tabs - The down area.
 */
function giveRoom(tabs: TabPanel): void {
  const split = tabs.parent as Partial<SplitPanel> | null;
  if (
    !split ||
    typeof split.relativeSizes !== 'function' ||
    typeof split.setRelativeSizes !== 'function' ||
    !split.widgets
  ) {
    return;
  }
  const index = split.widgets.indexOf(tabs);
  const sizes = split.relativeSizes();
  if (index < 0 || sizes.length !== split.widgets.length) {
    return;
  }
  if (sizes[index] >= DOWN_MIN_SHARE) {
    return;
  }
  const others = sizes.length - 1;
  split.setRelativeSizes(
    sizes.map((_, i) => (i === index ? DOWN_SHARE : (1 - DOWN_SHARE) / others))
  );
}

/**
 * Opens main-area tabs, reusing the open tab of the same key.
 */
export class TabReuse {
  /**
   * @param shell - The application shell.
   * @param area - Where the tabs open (see `viewArea`).
   */
  constructor(
    private readonly _shell: JupyterFrontEnd.IShell,
    private readonly _area: ViewArea = 'main'
  ) {}

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
      selectTab(open);
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
      showView(this._shell, widget, this._area, {
        ref: open.id,
        mode: 'tab-after'
      });
      open.dispose();
    } else {
      showView(this._shell, widget, this._area);
    }
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
