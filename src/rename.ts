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
 *
 * It also keeps the server's session on the notebook's path. JupyterLab renames a
 * notebook's session only when the session exists: a notebook renamed while its
 * kernel starts (Galata's `createNew` makes `Untitled.ipynb`, then renames it at
 * once) keeps a session, and a kernel, named after the old path. The server finds a
 * notebook's kernel by its session's path, so it answered `kernel: none` for that
 * notebook and committed it without its variables. So when a notebook's session
 * appears or changes, its path is set to the notebook's if they differ, and the
 * kernel is told of the move.
 */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel } from '@jupyterlab/services';
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
      // without a session yet, `onSession` fixes the path when it comes
      tell(panel.sessionContext.session?.kernel ?? null, old, path);
    };
    const onSession = (): void => {
      const session = panel.sessionContext.session;
      const path = panel.context.path;
      if (!session || session.isDisposed || session.path === path) {
        return;
      }
      const old = session.path;
      void session
        .setPath(path)
        .then(() => tell(session.kernel, old, path))
        .catch(reason =>
          console.warn('mlvc: could not move the session to', path, reason)
        );
    };
    panel.context.pathChanged.connect(onPath);
    panel.sessionContext.sessionChanged.connect(onSession);
    onSession();
    const stop = (): void => {
      panel.context.pathChanged.disconnect(onPath);
      panel.sessionContext.sessionChanged.disconnect(onSession);
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

/**
 * How long an action waits for a starting kernel's session before it asks the
 * server anyway, ms.
 */
const SESSION_WAIT_MS = 10000;

/**
 * Wait until the notebook's session is ready (its kernel started, or none
 * chosen) and on the notebook's path, so that the server finds the kernel by
 * the path. Actions that need the kernel (commit, checkout) call this first: a
 * commit made while the kernel is still starting would otherwise be told
 * `kernel: none`.
 *
 * @param panel - The notebook.
 * @param timeoutMs - The longest wait for the session.
 */
export async function sessionSettled(
  panel: NotebookPanel,
  timeoutMs = SESSION_WAIT_MS
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    panel.sessionContext.ready.catch(() => undefined),
    new Promise<void>(resolve => {
      timer = setTimeout(resolve, timeoutMs);
    })
  ]);
  clearTimeout(timer);
  const session = panel.sessionContext.session;
  const path = panel.context.path;
  if (session && !session.isDisposed && session.path !== path) {
    const old = session.path;
    await session.setPath(path);
    tell(session.kernel, old, path);
  }
}

/**
 * Tell a kernel (a Python one) that its notebook moved from `old` to `path`.
 *
 * @param kernel - The notebook's kernel, if it has one.
 * @param old - The previous path, relative to the server root.
 * @param path - The new path.
 */
function tell(
  kernel: Kernel.IKernelConnection | null,
  old: string,
  path: string
): void {
  if (!kernel) {
    return;
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
}
