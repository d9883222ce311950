/**
 * The frontend half of the kernel ↔ frontend protocol.
 *
 * The kernel (the `%mlvc` magics) cannot save or reload a notebook itself: it
 * asks the frontend by displaying an output of mime type
 * {@link REQUEST_MIME_TYPE}, with data
 * `{"action": "save" | "revert", "path": string, "id": string, "time": number}`
 * (`time` in Unix seconds), and for `revert` an optional `message`: what
 * `%mlvc checkout` printed, shown in a notification once the notebook is reloaded
 * (the reload replaces the cell that printed it). The renderer registered here renders nothing
 * visible; it finds the notebook whose output holds it and saves the notebook
 * (so a commit reads what the user sees) or reverts it to the file on disk
 * (after a checkout wrote it). Each request is carried out once, and only while
 * it is fresh, so a request that was saved into a notebook never fires again
 * when the notebook is reopened.
 */
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

/**
 * The id of the plugin that carries out the kernel's requests.
 */
export const REQUEST_PLUGIN_ID = 'jupyterlab-mlvc:kernel-requests';

/**
 * The mime type of a kernel's request to the frontend.
 */
const REQUEST_MIME_TYPE = 'application/vnd.mlvc.request+json';

/**
 * How old (in seconds) a request may be and still be carried out.
 */
const REQUEST_MAX_AGE_S = 60;

/**
 * The rank of the request renderer: above `text/plain`, which the kernel
 * sends alongside as an empty fallback for other frontends.
 */
export const REQUEST_RENDERER_RANK = 0;

/**
 * What a kernel can ask of the notebook it runs for.
 */
type RequestAction = 'save' | 'revert';

/**
 * A kernel's request, as the data of a {@link REQUEST_MIME_TYPE} output.
 */
interface IKernelRequest {
  /** `save`: write the notebook to disk; `revert`: reload it from disk. */
  action: RequestAction;
  /** The notebook's path, relative to the server root, as the kernel knows it. */
  path: string;
  /** Unique per request: a request is carried out at most once. */
  id: string;
  /** When the kernel made the request, in Unix seconds. */
  time: number;
  /** `revert`: what to tell the user once the notebook is reloaded. */
  message?: string;
}

/**
 * Read a request from an output's data, or null if it is not a valid one.
 *
 * @param data - The value of the output's {@link REQUEST_MIME_TYPE} entry.
 */
export function parseRequest(data: unknown): IKernelRequest | null {
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  const { action, path, id, time, message } = data as {
    [key: string]: unknown;
  };
  if (
    (action !== 'save' && action !== 'revert') ||
    typeof path !== 'string' ||
    typeof id !== 'string' ||
    id === '' ||
    typeof time !== 'number' ||
    !Number.isFinite(time)
  ) {
    return null;
  }
  return typeof message === 'string' && message !== ''
    ? { action, path, id, time, message }
    : { action, path, id, time };
}

/**
 * Whether a request is fresh enough to carry out: made less than
 * {@link REQUEST_MAX_AGE_S} seconds ago (a kernel clock up to as far ahead is
 * tolerated).
 *
 * @param request - The request.
 * @param now - The current time in milliseconds (`Date.now()`).
 */
function isFresh(request: IKernelRequest, now = Date.now()): boolean {
  const age = now / 1000 - request.time;
  return age < REQUEST_MAX_AGE_S && age > -REQUEST_MAX_AGE_S;
}

/**
 * Whether a notebook path (from the frontend) is the one a kernel names: the
 * same, or ending with it (a kernel may know a shorter path).
 */
function samePath(notebookPath: string, requested: string): boolean {
  const wanted = requested.replace(/^\.?\/+/, '');
  return (
    wanted !== '' &&
    (notebookPath === wanted || notebookPath.endsWith(`/${wanted}`))
  );
}

/**
 * Carries out kernel requests on the open notebooks, each request once.
 */
export class KernelRequestHandler {
  /**
   * Create a handler.
   *
   * @param tracker - The open notebooks.
   * @param trans - The translation bundle of the extension, for error messages.
   */
  constructor(
    private readonly _tracker: INotebookTracker,
    private readonly _trans: TranslationBundle
  ) {}

  /**
   * Carry out a request, unless it was carried out before or is stale.
   *
   * @param request - The request.
   * @param node - The DOM node of the output that holds the request; the
   *   notebook that contains it is the one acted on. When no open notebook
   *   contains it, the notebook with the request's path is.
   * @returns Whether the request was carried out.
   */
  async handle(request: IKernelRequest, node: HTMLElement): Promise<boolean> {
    if (this._handled.has(request.id) || !isFresh(request)) {
      return false;
    }
    const panel =
      this._tracker.find(p => p.node.contains(node)) ??
      this._tracker.find(p => samePath(p.context.path, request.path));
    if (!panel) {
      return false;
    }
    this._handled.add(request.id);
    try {
      await this._perform(request.action, panel);
      if (request.message) {
        Notification.info(request.message, { autoClose: 10000 });
      }
    } catch (reason) {
      console.error(
        this._trans.__(
          'mlvc: could not %1 %2 as the kernel asked: %3',
          request.action,
          panel.context.path,
          String(reason)
        )
      );
      return false;
    }
    return true;
  }

  private async _perform(
    action: RequestAction,
    panel: NotebookPanel
  ): Promise<void> {
    await panel.context.ready;
    if (action === 'save') {
      await panel.context.save();
    } else {
      await panel.context.revert();
    }
  }

  private readonly _handled = new Set<string>();
}

/**
 * The CSS class of a request's (empty, hidden) output node.
 */
const REQUEST_CLASS = 'jp-mlvc-KernelRequest';

/**
 * Renders a kernel request: shows nothing, hands the request to the handler
 * once the output is in the page.
 */
class KernelRequestRenderer extends Widget implements IRenderMime.IRenderer {
  /**
   * Create a renderer.
   *
   * @param handler - Carries out the requests.
   */
  constructor(private readonly _handler: KernelRequestHandler) {
    super();
    this.addClass(REQUEST_CLASS);
    this.node.hidden = true;
    this.node.setAttribute('aria-hidden', 'true');
  }

  /**
   * Read the request from the output; carry it out once the node is in the
   * notebook (output areas attach their outputs right after rendering them).
   *
   * @param model - The output's mime model.
   */
  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._request = parseRequest(model.data[REQUEST_MIME_TYPE]);
    void Promise.resolve().then(() => this._dispatch());
    return Promise.resolve();
  }

  /**
   * Dispatch the request now that the node is in the page, in case it was
   * not when the model was rendered.
   */
  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._dispatch();
  }

  private _dispatch(): void {
    if (this._request && !this.isDisposed) {
      void this._handler.handle(this._request, this.node);
    }
  }

  private _request: IKernelRequest | null = null;
}

/**
 * The renderer factory to register with the rendermime registry.
 *
 * @param handler - Carries out the requests.
 */
export function requestRendererFactory(
  handler: KernelRequestHandler
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [REQUEST_MIME_TYPE],
    defaultRank: REQUEST_RENDERER_RANK,
    createRenderer: () => new KernelRequestRenderer(handler)
  };
}
