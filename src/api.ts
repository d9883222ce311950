/**
 * The one way the frontend talks to the mlvc server extension.
 *
 * This is the only module that knows URLs: everything else calls the typed
 * functions below.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { Mlvc } from './tokens';

/**
 * The URL namespace of the server extension.
 */
const API_NAMESPACE = 'mlvc';

/**
 * The error every failed mlvc request throws.
 */
export class MlvcRequestError extends Error {
  /**
   * Create an error.
   *
   * @param message - What went wrong, in words a user can act on.
   * @param status - The HTTP status, or 0 when the server could not be reached.
   */
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'MlvcRequestError';
  }
}

/**
 * Call the mlvc server extension.
 *
 * @param endPoint - The path under `/mlvc/`, with its query string.
 * @param init - The request options (method, body...).
 * @param settings - The server connection settings; the default ones if omitted.
 * @returns The response body parsed as JSON.
 * @throws {MlvcRequestError} When the server cannot be reached or answers with an error.
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new MlvcRequestError(
      `Could not reach the Jupyter server: ${String(error)}`,
      0
    );
  }

  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }

  if (!response.ok) {
    const reason =
      (data && typeof data === 'object' && (data.message || data.reason)) ||
      (typeof data === 'string' && data) ||
      response.statusText;
    throw new MlvcRequestError(String(reason), response.status);
  }

  return data as T;
}

/**
 * Fetch the commit history of one notebook.
 *
 * @param notebookPath - The notebook path relative to the server root.
 * @param limit - The most commits to return; all when omitted.
 * @param settings - The server connection settings; the default ones if omitted.
 * @returns Whether a store exists, and the commits newest first.
 */
export async function fetchLog(
  notebookPath: string,
  limit?: number,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.ILogResponse> {
  const query = URLExt.objectToQueryString(
    limit === undefined
      ? { path: notebookPath }
      : { path: notebookPath, limit: String(limit) }
  );
  return requestAPI<Mlvc.ILogResponse>(`log${query}`, {}, settings);
}
