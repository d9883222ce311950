/**
 * Live sync: the panel shows every change to its notebook's store within a
 * second, whoever made it (the panel, another tab, a `%mlvc` magic, the Python
 * API, the CLI, `mlvc run`), without polling every notebook.
 *
 * The server watches the stores that open panels look at and emits
 * {@link STORE_CHANGED_SCHEMA} on jupyter_server's event bus when one changes;
 * JupyterLab's event stream (`app.serviceManager.events`) carries it here, and
 * the model fetches the history again with a conditional GET. A slow check
 * (every {@link KEEPALIVE_MS}) keeps the server watching and catches an event
 * lost while the socket reconnected; without an event stream the same check
 * runs every {@link FALLBACK_MS} (a 304 when nothing changed).
 */
import type { Event } from '@jupyterlab/services';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import type { ExperimentsModel } from './model';

/**
 * The id of the server's store-changed event (mlvc_server/server/events.py).
 */
export const STORE_CHANGED_SCHEMA =
  'https://events.mlvc.dev/jupyterlab-mlvc/store-changed/v1';

/**
 * How often the history is checked when events arrive, ms (the server stops
 * watching a store no panel asked about for 90 s).
 */
export const KEEPALIVE_MS = 20_000;

/**
 * How often the history is checked when there is no event stream, ms.
 */
export const FALLBACK_MS = 2_000;

/**
 * How long a burst of events waits before one sync, ms.
 */
const DEBOUNCE_MS = 30;

/**
 * Whether an event names the notebook a panel shows.
 *
 * @param emission - An event from the stream.
 * @param path - The notebook in the panel, or null.
 */
export function concerns(
  emission: Event.Emission,
  path: string | null
): boolean {
  if (emission.schema_id !== STORE_CHANGED_SCHEMA || path === null) {
    return false;
  }
  const paths = emission.paths;
  return Array.isArray(paths) && paths.includes(path);
}

/**
 * Keep the model in sync with its store.
 *
 * @param model - The model (its `catchUp` fetches the history if it changed).
 * @param events - JupyterLab's event manager; null when there is none.
 * @returns Stops syncing when disposed.
 */
export function liveSync(
  model: Pick<ExperimentsModel, 'catchUp' | 'state'>,
  events: Event.IManager | null
): IDisposable {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const soon = (): void => {
    if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        void model.catchUp();
      }, DEBOUNCE_MS);
    }
  };
  const onEvent = (_: unknown, emission: Event.Emission): void => {
    if (concerns(emission, model.state.notebookPath)) {
      soon();
    }
  };
  const stream = events?.stream ?? null;
  stream?.connect(onEvent);
  const every = stream ? KEEPALIVE_MS : FALLBACK_MS;
  const check = setInterval(() => {
    if (typeof document === 'undefined' || !document.hidden) {
      void model.catchUp();
    }
  }, every);
  const onVisible = (): void => {
    if (!document.hidden) {
      soon();
    }
  };
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', onVisible);
  }
  return new DisposableDelegate(() => {
    stream?.disconnect(onEvent);
    clearInterval(check);
    if (timer !== null) {
      clearTimeout(timer);
    }
    if (typeof document !== 'undefined') {
      document.removeEventListener('visibilitychange', onVisible);
    }
  });
}
