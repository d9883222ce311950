/**
 * Tells a notebook's kernel when the notebook is renamed or moved.
 *
 * A kernel learns its notebook's path once, when it starts (`JPY_SESSION_NAME`,
 * ipykernel's `__session__`). After "rename Untitled.ipynb to train.ipynb" the
 * `%mlvc` magics would still look for `Untitled.ipynb`. So when an open
 * notebook's path changes, this sends its kernel a silent execute request that
 * calls `mlvc_server.kernel.session.notebook_moved(old, new)` (paths relative to
 * the server root; the kernel turns them into its absolute path). A kernel
 * without mlvc ignores it; nothing shows in the notebook or its history.
 */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

/**
 * The code a kernel runs when its notebook moved from `oldPath` to `newPath`.
 * JSON strings are valid Python string literals.
 *
 * @param oldPath - The notebook's previous path, relative to the server root.
 * @param newPath - Its new path.
 */
export function movedCode(oldPath: string, newPath: string): string {
  return (
    'try:\n' +
    "    __import__('mlvc_server.kernel.session', fromlist=['notebook_moved'])" +
    `.notebook_moved(${JSON.stringify(oldPath)}, ${JSON.stringify(newPath)})\n` +
    'except ImportError:\n' +
    '    pass\n'
  );
}

/**
 * Tell each open notebook's kernel when the notebook's path changes.
 *
 * @param notebooks - The notebook tracker.
 * @returns Stops telling when disposed.
 */
export function tellKernelsWhenMoved(notebooks: INotebookTracker): IDisposable {
  const watched = new Map<NotebookPanel, () => void>();
  const watch = (_: unknown, panel: NotebookPanel): void => {
    if (watched.has(panel)) {
      return;
    }
    let last = panel.context.path;
    const onPath = (_: unknown, path: string): void => {
      const old = last;
      last = path;
      if (old === path) {
        return;
      }
      const kernel = panel.sessionContext.session?.kernel;
      if (!kernel) {
        return; // a kernel started later is started for the new path
      }
      void kernel.info
        .then(info => {
          if (info.language_info.name !== 'python') {
            return;
          }
          return kernel.requestExecute(
            {
              code: movedCode(old, path),
              silent: true,
              store_history: false,
              allow_stdin: false,
              stop_on_error: false
            },
            true
          ).done;
        })
        .catch(reason =>
          console.warn('mlvc: could not tell the kernel of the rename', reason)
        );
    };
    panel.context.pathChanged.connect(onPath);
    const stop = (): void => {
      panel.context.pathChanged.disconnect(onPath);
      watched.delete(panel);
    };
    watched.set(panel, stop);
    panel.disposed.connect(stop);
  };
  notebooks.forEach(panel => watch(null, panel));
  notebooks.widgetAdded.connect(watch);
  return new DisposableDelegate(() => {
    notebooks.widgetAdded.disconnect(watch);
    [...watched.values()].forEach(stop => stop());
  });
}
