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
    /** Parent commit ids (first parent first). */
    parents?: string[];
    /** The branches whose tip this commit is. */
    branches?: string[];
    /** The tags on this commit. */
    tags?: string[];
    /** The names of the variables stored. */
    variables?: string[];
  }

  /**
   * A branch.
   */
  export interface IBranch {
    /** The branch name. */
    name: string;
    /** Its tip, null before its first commit. */
    head: string | null;
    /** Whether it is the current branch. */
    current: boolean;
  }

  /**
   * A tag.
   */
  export interface ITag {
    /** The tag name. */
    name: string;
    /** The commit it points to. */
    commit: string;
  }

  /**
   * The body of `GET /mlvc/log`.
   */
  export interface ILogResponse {
    /** Whether an mlvc store exists for this notebook. */
    initialized: boolean;
    /** Commit summaries, newest first. */
    commits: ICommitSummary[];
    /** All branches. */
    branches?: IBranch[];
    /** All tags. */
    tags?: ITag[];
    /** Whether more commits follow this page. */
    has_more?: boolean;
    /** All commits of the selection, when this page reaches the end. */
    total?: number;
  }

  /**
   * The body of `GET /mlvc/status`.
   */
  export interface IStatus {
    /** Whether a store was found. */
    initialized: boolean;
    /** `none`, `starting`, `idle`, `busy` or `running`. */
    kernel: string;
    /** The current branch. */
    branch?: string;
    /** The notebook differs from HEAD. */
    notebook_changed?: boolean;
    /** Data files HEAD recorded, path -> status now. */
    data?: { [path: string]: string };
    /** Some data file changed. */
    data_changed?: boolean;
  }

  /**
   * The body of `POST /mlvc/commits`.
   */
  export interface ICommitCreated {
    /** The new commit. */
    commit: ICommitSummary;
    /** Whether the kernel made the commit. */
    kernel: 'used' | 'none';
    /** Variables not stored, name -> reason. */
    skipped: { [name: string]: string };
    /** A note (with no kernel). */
    note?: string;
  }

  /**
   * One commit's full record (`GET /mlvc/commits/{rev}`).
   */
  export interface ICommitRecord {
    /** Commit id. */
    id: string;
    /** Message. */
    message: string;
    /** Variables: name -> type, format, size, shape/dtype. */
    variables: { [name: string]: { [key: string]: JSONValue } };
  }

  /**
   * One entry of a diff section.
   */
  export interface IDiffEntry {
    /** `added`, `removed`, `changed` or `unchanged`. */
    status: string;
    /** The key (params, metrics, env, hardware). */
    key?: string;
    /** The name (variables). */
    name?: string;
    /** The path (data). */
    path?: string;
    /** Value in A. */
    a?: any;
    /** Value in B. */
    b?: any;
    /** B - A for numbers. */
    delta?: number;
    /** Other fields (fraction_changed, max_abs_diff...). */
    [key: string]: any;
  }

  /**
   * The body of `GET /mlvc/diff`.
   */
  export interface IDiff {
    /** Side A. */
    a: { id: string; short_id?: string; message?: string; time?: string };
    /** Side B. */
    b: { id: string; short_id?: string; message?: string; time?: string };
    /** Params. */
    params: IDiffEntry[];
    /** Metrics. */
    metrics: IDiffEntry[];
    /** Variables. */
    variables: IDiffEntry[];
    /** Data files. */
    data: IDiffEntry[];
    /** Environment. */
    env: { changed: IDiffEntry[]; unchanged?: number };
    /** Hardware. */
    hardware: { changed: IDiffEntry[]; unchanged?: number };
    /** Notebook. */
    notebook: {
      status: string;
      cells?: { [kind: string]: number };
      diff?: any[];
      cell_view?: ICellPair[];
      error?: string;
    };
  }

  /**
   * One cell of one side of a notebook diff.
   */
  export interface ICellSide {
    /** The cell's source. */
    source: string;
    /** Its execution count. */
    execution_count: number | null;
    /** Its outputs: text, error, or a small PNG (base64). */
    outputs: { kind: string; text?: string; png?: string; name?: string }[];
  }

  /**
   * Both notebooks' cells paired in order (`notebook.cell_view`).
   */
  export interface ICellPair {
    /** What happened to the cell. */
    status: 'unchanged' | 'added' | 'removed' | 'modified' | 'outputs';
    /** code, markdown or raw. */
    cell_type?: string;
    /** The old cell. */
    a?: ICellSide;
    /** The new cell. */
    b?: ICellSide;
    /** A line diff of the source: [tag, text], tag one of " ", "-", "+". */
    lines?: [string, string][];
  }

  /**
   * The body of `GET /mlvc/compare`.
   */
  export interface ICompare {
    /** One row per commit. */
    rows: ICommitSummary[];
    /** Column names. */
    columns: { params: string[]; metrics: string[] };
    /** The best value per metric. */
    best: {
      [metric: string]: { goal: 'min' | 'max'; value: number; ids: string[] };
    };
  }

  /**
   * A remote of the store (`GET /mlvc/remotes`).
   */
  export interface IRemote {
    /** Its name, e.g. origin. */
    name: string;
    /** The git URL. */
    url: string;
    /** The payload remote (fsspec URL), or null. */
    payloads: string | null;
  }

  /**
   * What a push or pull did to one ref.
   */
  export interface IRefUpdate {
    /** The full ref. */
    ref: string;
    /** branch, tag or other. */
    kind: string;
    /** The branch or tag name. */
    name: string;
    /** up-to-date, created, fast-forward, forced, rejected, ahead, diverged, conflict. */
    status: string;
    /** Local commits the remote lacks. */
    ahead: number;
    /** Remote commits this store lacks. */
    behind: number;
    /** A sentence for people. */
    message: string;
  }

  /**
   * A push or pull running on the server (`GET /mlvc/jobs/{job}`).
   */
  export interface IJob {
    /** The job id. */
    id: string;
    /** push or pull. */
    kind: 'push' | 'pull';
    /** running, succeeded or failed. */
    state: 'running' | 'succeeded' | 'failed';
    /** What it does now. */
    phase: string;
    /** Done so far in this phase (objects or bytes). */
    done?: number | null;
    /** To do in this phase. */
    total?: number | null;
    /** The report, once succeeded. */
    result?: { remote: string; refs: IRefUpdate[] } | null;
    /** Why it failed. */
    error?: { status: number; reason: string; message: string } | null;
  }

  /**
   * The body of `GET /mlvc/series`.
   */
  export interface ISeries {
    /** Per metric: its value at each commit, and the steps each commit logged. */
    series: {
      [metric: string]: {
        goal: 'min' | 'max';
        points: {
          id: string;
          short_id: string;
          time: string;
          branch?: string | null;
          value: number;
        }[];
        steps: { id: string; short_id: string; steps: [number, number][] }[];
      };
    };
  }

  /**
   * The body of `POST /mlvc/checkout`.
   */
  export interface ICheckout {
    /** The commit checked out. */
    commit: string;
    /** The current branch now. */
    branch: string;
    /** The safety commit made first, if any. */
    safety_commit: string | null;
    /** The notebook file was replaced. */
    notebook_written: boolean;
    /** Variables restored. */
    variables_restored: string[];
    /** Variables not restored. */
    failed: { [name: string]: { error: string; message: string } };
    /** Whether a kernel was used. */
    kernel: 'used' | 'none';
  }

  /**
   * The body of `POST /mlvc/restore`.
   */
  export interface IRestore {
    /** The commit. */
    commit: string;
    /** Variables restored. */
    restored: string[];
    /** Variables not restored. */
    failed: { [name: string]: { error: string; message: string } };
  }

  /**
   * What a checkout brings back.
   */
  export type CheckoutMode = 'both' | 'notebook' | 'variables';

  /**
   * The body of `POST /mlvc/evaluations` (an offline comparison of two versions).
   */
  export interface IEvaluationRequest {
    type?: 'evaluate' | 'shadow' | 'canary';
    a: string;
    b: string;
    /** The data file, relative to the server root. */
    data: string;
    target?: string;
    metrics?: string[];
    slice?: string;
    seed?: number;
    level?: number;
  }

  /**
   * One metric of an evaluation: both values, the difference B - A, its interval
   * and the paired test.
   */
  export interface IEvaluationMetric {
    metric: string;
    a?: number;
    b?: number;
    diff?: number;
    ci?: [number, number];
    level?: number;
    ci_method?: string;
    test?: string;
    p_value?: number;
    better?: 'a' | 'b' | null;
    lower_is_better?: boolean;
    /** Why the metric could not be computed (e.g. one class only in a slice). */
    error?: string;
  }

  /**
   * What `POST /mlvc/evaluations` answers (the fields the panel shows).
   */
  export interface IEvaluationReport {
    id: string | null;
    type: 'evaluate' | 'shadow' | 'canary';
    a: { rev?: string; commit?: string; variable?: string };
    b: { rev?: string; commit?: string; variable?: string };
    data: { path?: string; rows?: number; hash?: string };
    metrics?: { [name: string]: IEvaluationMetric };
    verdict: { text?: string; better?: 'a' | 'b' | null };
  }
}

/**
 * Command ids.
 */
export namespace CommandIDs {
  export const commit = 'mlvc:commit';
  export const diff = 'mlvc:diff';
  export const compare = 'mlvc:compare';
  export const checkout = 'mlvc:checkout';
  export const newBranch = 'mlvc:new-branch';
  export const tag = 'mlvc:tag';
  export const restore = 'mlvc:restore';
  export const copyId = 'mlvc:copy-id';
  export const evaluate = 'mlvc:evaluate';
}
