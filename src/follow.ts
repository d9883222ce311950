/**
 * Keeps the Experiments model on the notebook in focus, and its status (branch,
 * changed since the last commit) fresh without polling: the status is fetched
 * again when that notebook's file changes on disk (a save, a revert) and when its
 * kernel goes idle after running code (a `%mlvc commit` in a cell commits then).
 */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel } from '@jupyterlab/services';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import type { ExperimentsModel } from './model';

/**
 * How long the status waits after a save or a cell run before it is fetched, ms:
 * a run of cells, or a save followed by a run, costs one request.
 */
const STATUS_DEBOUNCE_MS = 750;

/**
 * Make the model follow the notebook in focus.
 *
 * @param notebooks - The notebook tracker.
 * @param model - The model.
 * @returns Stops following when disposed.
 */
export function followNotebooks(
  notebooks: INotebookTracker,
  model: ExperimentsModel
): IDisposable {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const refreshStatus = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
    }
    timer = setTimeout(() => {
      timer = null;
      void model.refreshStatus();
    }, STATUS_DEBOUNCE_MS);
  };

  let watched: NotebookPanel | null = null;
  let busy = false;
  const onFile = (): void => refreshStatus();
  const onKernel = (_: unknown, status: Kernel.Status): void => {
    if (status === 'busy') {
      busy = true;
    } else if (status === 'idle' && busy) {
      busy = false;
      refreshStatus();
    }
  };
  const watch = (panel: NotebookPanel | null): void => {
    if (panel === watched) {
      return;
    }
    if (watched && !watched.isDisposed) {
      watched.context.fileChanged.disconnect(onFile);
      watched.sessionContext.statusChanged.disconnect(onKernel);
    }
    watched = panel;
    busy = false;
    if (panel) {
      panel.context.fileChanged.connect(onFile);
      panel.sessionContext.statusChanged.connect(onKernel);
    }
  };

  const follow = (): void => {
    const panel = notebooks.currentWidget;
    watch(panel);
    void model.setNotebook(panel ? panel.context.path : null);
  };
  notebooks.currentChanged.connect(follow);
  // A renamed notebook keeps its widget but changes path.
  notebooks.widgetUpdated.connect(follow);
  follow();

  return new DisposableDelegate(() => {
    notebooks.currentChanged.disconnect(follow);
    notebooks.widgetUpdated.disconnect(follow);
    watch(null);
    if (timer !== null) {
      clearTimeout(timer);
    }
  });
}
