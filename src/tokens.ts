/**
 * Public identifiers of the extension and the wire types of the mlvc REST API.
 *
 * The wire types mirror the JSON that `mlvc_server/handlers.py` returns; the
 * OpenAPI description in `mlvc_server/openapi.yaml` is the reference.
 */

/**
 * The id of the main plugin.
 */
export const PLUGIN_ID = 'jupyterlab-mlvc:plugin';

/**
 * The DOM id of the Experiments side panel.
 */
export const PANEL_ID = 'mlvc-experiments';

/**
 * Wire types of the mlvc REST API.
 */
export namespace Mlvc {
  /**
   * A JSON value as the server sends it.
   */
  export type JSONValue =
    | string
    | number
    | boolean
    | null
    | JSONValue[]
    | { [key: string]: JSONValue };

  /**
   * One commit as `GET /mlvc/log` lists it.
   */
  export interface ICommitSummary {
    /** Full commit id (40 hex digits). */
    id: string;
    /** Abbreviated commit id, for display. */
    short_id: string;
    /** The commit message. */
    message: string;
    /** Who made the commit. */
    author: string;
    /** When the commit was made, ISO 8601 with a time zone. */
    time: string;
    /** The experiment branch the commit is on. */
    branch: string;
    /** The notebook path, relative to the server root. */
    notebook: string;
    /** Hyperparameters recorded with the commit. */
    params: { [key: string]: JSONValue };
    /** Metrics recorded with the commit. */
    metrics: { [key: string]: JSONValue };
  }

  /**
   * The body of `GET /mlvc/log`.
   */
  export interface ILogResponse {
    /** Whether an mlvc store exists for this notebook. */
    initialized: boolean;
    /** Commit summaries, newest first. */
    commits: ICommitSummary[];
  }
}
