/**
 * The one way the frontend talks to the mlvc server extension.
 *
 * This is the only module that knows URLs: everything else calls the typed
 * functions below.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { Mlvc, Registry } from './tokens';

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
   * @param body - The error's JSON body, when the server sent one (a refused
   *   promotion's gate results are there).
   */
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown = null
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
async function requestAPI<T>(
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
    throw new MlvcRequestError(String(reason), response.status, data);
  }

  return data as T;
}

function q(notebookPath: string, extra: { [k: string]: string } = {}): string {
  return URLExt.objectToQueryString({ path: notebookPath, ...extra });
}

/**
 * The options of a request that sends `body` as JSON (typed by the spec's request schema).
 */
function post<T>(body: T, method = 'POST'): RequestInit {
  return { method, body: JSON.stringify(body) };
}

/**
 * Fetch one page of the history.
 *
 * @param notebookPath - The notebook path relative to the server root.
 * @param limit - The most commits to return.
 * @param skip - How many commits to skip.
 * @param settings - The server connection settings.
 * @returns The page.
 */
export async function fetchLogPage(
  notebookPath: string,
  limit: number,
  skip: number,
  settings?: ServerConnection.ISettings,
  where?: string
): Promise<Mlvc.ILogResponse> {
  const extra: { [k: string]: string } = {
    limit: String(limit),
    skip: String(skip)
  };
  if (where !== undefined) {
    extra.where = where;
  }
  return requestAPI<Mlvc.ILogResponse>(
    `log${q(notebookPath, extra)}`,
    {},
    settings
  );
}

/**
 * A log page with its ETag (see {@link fetchLogIfChanged}).
 */
export interface ILogAnswer {
  /** The page. */
  log: Mlvc.ILogResponse;
  /** The answer's ETag, or null when the server sent none (no store yet). */
  etag: string | null;
}

/**
 * Fetch the first page of the history unless it is unchanged since the answer
 * whose ETag is `etag` (a conditional GET: the server answers 304 cheaply).
 *
 * @param notebookPath - The notebook path relative to the server root.
 * @param limit - The most commits to return.
 * @param etag - The ETag of the answer shown now; null to fetch in any case.
 * @param settings - The server connection settings.
 * @returns The page and its ETag, or null when nothing changed.
 * @throws {MlvcRequestError} When the server cannot be reached or answers with an error.
 */
export async function fetchLogIfChanged(
  notebookPath: string,
  limit: number,
  etag: string | null,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<ILogAnswer | null> {
  const url = URLExt.join(
    settings.baseUrl,
    API_NAMESPACE,
    `log${q(notebookPath, { limit: String(limit), skip: '0' })}`
  );
  const init: RequestInit = etag
    ? { headers: { 'If-None-Match': etag }, cache: 'no-store' }
    : { cache: 'no-store' };
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new MlvcRequestError(
      `Could not reach the Jupyter server: ${String(error)}`,
      0
    );
  }
  if (response.status === 304) {
    return null;
  }
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) {
    const reason =
      (data && typeof data === 'object' && (data.message || data.reason)) ||
      response.statusText;
    throw new MlvcRequestError(String(reason), response.status);
  }
  return {
    log: data as Mlvc.ILogResponse,
    etag: response.headers.get('ETag')
  };
}

/**
 * Fetch what a commit would record now.
 *
 * @param notebookPath - The notebook path.
 * @param settings - The server connection settings.
 * @returns The status.
 */
export async function fetchStatus(
  notebookPath: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IStatus> {
  return requestAPI<Mlvc.IStatus>(`status${q(notebookPath)}`, {}, settings);
}

/**
 * Create the store for a notebook (a no-op when one exists).
 *
 * @param notebookPath - The notebook path.
 * @param settings - The server connection settings.
 */
export async function initStore(
  notebookPath: string,
  settings?: ServerConnection.ISettings
): Promise<void> {
  await requestAPI(`init${q(notebookPath)}`, post({}), settings);
}

/**
 * Commit the notebook through its kernel.
 *
 * @param notebookPath - The notebook path.
 * @param message - The commit message.
 * @param settings - The server connection settings.
 * @returns The new commit.
 */
export async function createCommit(
  notebookPath: string,
  message: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.ICommitCreated> {
  return requestAPI<Mlvc.ICommitCreated>(
    `commits${q(notebookPath)}`,
    post<Mlvc.ICommitRequest>({ message }),
    settings
  );
}

/**
 * Fetch one commit's full record.
 *
 * @param notebookPath - The notebook path.
 * @param rev - The revision.
 * @param settings - The server connection settings.
 * @returns The record.
 */
export async function fetchCommit(
  notebookPath: string,
  rev: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.ICommitRecord> {
  return requestAPI<Mlvc.ICommitRecord>(
    `commits/${encodeURIComponent(rev)}${q(notebookPath)}`,
    {},
    settings
  );
}

/**
 * Create a branch (and switch to it).
 *
 * @param notebookPath - The notebook path.
 * @param name - The branch name.
 * @param from - The revision it starts from; HEAD when omitted.
 * @param settings - The server connection settings.
 */
export async function createBranch(
  notebookPath: string,
  name: string,
  from?: string,
  settings?: ServerConnection.ISettings
): Promise<void> {
  const body: Mlvc.IBranchCreate = { name, switch: true };
  if (from) {
    body.from = from;
  }
  await requestAPI(`branches${q(notebookPath)}`, post(body), settings);
}

/**
 * Make a branch the current one.
 *
 * @param notebookPath - The notebook path.
 * @param name - The branch name.
 * @param settings - The server connection settings.
 */
export async function switchBranch(
  notebookPath: string,
  name: string,
  settings?: ServerConnection.ISettings
): Promise<void> {
  await requestAPI(
    `branches/${encodeURIComponent(name)}${q(notebookPath)}`,
    post<Mlvc.IBranchUpdate>({ switch: true }, 'PATCH'),
    settings
  );
}

/**
 * Tag a commit.
 *
 * @param notebookPath - The notebook path.
 * @param name - The tag name.
 * @param rev - The commit.
 * @param settings - The server connection settings.
 */
export async function createTag(
  notebookPath: string,
  name: string,
  rev: string,
  settings?: ServerConnection.ISettings
): Promise<void> {
  await requestAPI(
    `tags${q(notebookPath)}`,
    post<Mlvc.ITagCreate>({ name, rev }),
    settings
  );
}

/**
 * Diff two commits.
 *
 * @param notebookPath - The notebook path.
 * @param a - The old revision.
 * @param b - The new revision.
 * @param settings - The server connection settings.
 * @returns The diff.
 */
export async function fetchDiff(
  notebookPath: string,
  a: string,
  b: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IDiff> {
  return requestAPI<Mlvc.IDiff>(
    `diff${q(notebookPath, { a, b, cells: 'true', values: 'true', outputs: 'true' })}`,
    {},
    settings
  );
}

/**
 * Params and metrics of the notebook's commits as a table.
 *
 * @param notebookPath - The notebook path.
 * @param settings - The server connection settings.
 * @returns The table.
 */
export async function fetchCompare(
  notebookPath: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.ICompare> {
  return requestAPI<Mlvc.ICompare>(
    `compare${q(notebookPath, { limit: '100' })}`,
    {},
    settings
  );
}

/**
 * Fetch the compare table with the Vega-Lite spec of one of its charts (the spec
 * `%mlvc compare --plot` shows), for the Compare view's charts.
 *
 * @param notebookPath - The notebook path.
 * @param plot - `scatter` (params against metrics) or `parallel` coordinates.
 * @param limit - The newest this many commits.
 * @param settings - The server connection settings.
 * @returns The table, with `vegalite`.
 */
export async function fetchCompareChart(
  notebookPath: string,
  plot: 'scatter' | 'parallel',
  limit: number,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.ICompare> {
  return requestAPI<Mlvc.ICompare>(
    `compare${q(notebookPath, { limit: String(limit), plot })}`,
    {},
    settings
  );
}

/**
 * Metric series of the notebook's commits: across commits and across steps,
 * with the chart of each metric's steps (`vegalite`).
 *
 * @param notebookPath - The notebook path.
 * @param settings - The server connection settings.
 * @returns The series.
 */
export async function fetchSeries(
  notebookPath: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.ISeries> {
  return requestAPI<Mlvc.ISeries>(
    `series${q(notebookPath, { limit: '100', plot: 'steps' })}`,
    {},
    settings
  );
}

/**
 * The store's remotes.
 *
 * @param notebookPath - The notebook path.
 * @param settings - The server connection settings.
 * @returns The remotes.
 */
export async function fetchRemotes(
  notebookPath: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IRemote[]> {
  const out = await requestAPI<Mlvc.IRemoteList>(
    `remotes${q(notebookPath)}`,
    {},
    settings
  );
  return out.remotes;
}

/**
 * Start a push or a pull on the server.
 *
 * @param kind - push or pull.
 * @param notebookPath - The notebook path.
 * @param remote - The remote's name.
 * @param settings - The server connection settings.
 * @returns The job, to poll with {@link fetchJob}.
 */
export async function startSync(
  kind: 'push' | 'pull',
  notebookPath: string,
  remote: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IJob> {
  return requestAPI<Mlvc.IJob>(
    `${kind}${q(notebookPath)}`,
    post<Mlvc.IPushRequest>({ remote }),
    settings
  );
}

/**
 * Start a sweep of the notebook (`mlvc sweep`, as a server job).
 *
 * @param notebookPath - The notebook path.
 * @param request - The parameters' values, runs at a time, the sweep's name.
 * @param settings - The server connection settings.
 * @returns The job, to poll with {@link fetchJob}.
 */
export async function startSweep(
  notebookPath: string,
  request: Mlvc.ISweepRequest,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IJob> {
  return requestAPI<Mlvc.IJob>(
    `sweeps${q(notebookPath)}`,
    post<Mlvc.ISweepRequest>(request),
    settings
  );
}

/**
 * Cancel a running sweep job (`DELETE /mlvc/jobs/{job}`): its running runs stop,
 * nothing more is committed, and the store's job slot is free when this resolves.
 *
 * @param notebookPath - The notebook path.
 * @param job - The job id.
 * @param settings - The server connection settings.
 * @returns The job, `cancelled` (or as it ended).
 */
export async function cancelJob(
  notebookPath: string,
  job: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IJob> {
  return requestAPI<Mlvc.IJob>(
    `jobs/${encodeURIComponent(job)}${q(notebookPath)}`,
    { method: 'DELETE' },
    settings
  );
}

/**
 * A push, pull or sweep job: its progress, then its result.
 *
 * @param notebookPath - The notebook path.
 * @param job - The job id.
 * @param settings - The server connection settings.
 * @returns The job.
 */
export async function fetchJob(
  notebookPath: string,
  job: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IJob> {
  return requestAPI<Mlvc.IJob>(
    `jobs/${encodeURIComponent(job)}${q(notebookPath)}`,
    {},
    settings
  );
}

/**
 * The jobs of the notebook's store, newest first (a running sweep, a push...).
 *
 * @param notebookPath - The notebook path.
 * @param settings - The server connection settings.
 * @returns The jobs.
 */
export async function listJobs(
  notebookPath: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IJob[]> {
  const reply = await requestAPI<{ jobs: Mlvc.IJob[] }>(
    `jobs${q(notebookPath)}`,
    {},
    settings
  );
  return reply.jobs;
}

/**
 * Check a commit out (safety commit first).
 *
 * @param notebookPath - The notebook path.
 * @param rev - The revision.
 * @param mode - What to bring back.
 * @param settings - The server connection settings.
 * @returns What happened.
 */
export async function checkout(
  notebookPath: string,
  rev: string,
  mode: Mlvc.CheckoutMode,
  settings?: ServerConnection.ISettings,
  data: string[] = []
): Promise<Mlvc.ICheckout> {
  const body: Mlvc.ICheckoutRequest = { rev, mode };
  if (data.length > 0) {
    body.data = true;
    body.data_paths = data;
  }
  return requestAPI<Mlvc.ICheckout>(
    `checkout${q(notebookPath)}`,
    post<Mlvc.ICheckoutRequest>(body),
    settings
  );
}

/**
 * Restore variables of a commit into the kernel.
 *
 * @param notebookPath - The notebook path.
 * @param rev - The revision.
 * @param names - The variables.
 * @param settings - The server connection settings.
 * @returns What happened.
 */
export async function restoreVariables(
  notebookPath: string,
  rev: string,
  names: string[],
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IRestore> {
  return requestAPI<Mlvc.IRestore>(
    `restore${q(notebookPath)}`,
    post<Mlvc.IRestoreRequest>({ rev, names, safety: true }),
    settings
  );
}

/**
 * Evaluate version B against version A on a data file (paired statistics), stored
 * as an evaluation of the notebook.
 *
 * @param notebookPath - The notebook path.
 * @param request - The versions, the data file and its target column.
 * @param settings - The server connection settings.
 * @returns The report.
 */
export async function createEvaluation(
  notebookPath: string,
  request: Mlvc.IEvaluationRequest,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IEvaluationReport> {
  return requestAPI<Mlvc.IEvaluationReport>(
    `evaluations${q(notebookPath)}`,
    post(request),
    settings
  );
}

/**
 * The data files two commits read: added, removed, changed, with sizes; for CSV and
 * parquet files whose content both stored, schema changes and row counts.
 *
 * @param notebookPath - The notebook path.
 * @param a - The old revision.
 * @param b - The new revision.
 * @param settings - The server connection settings.
 * @returns The data diff.
 */
export async function fetchDataDiff(
  notebookPath: string,
  a: string,
  b: string,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IDataFilesDiff> {
  return requestAPI<Mlvc.IDataFilesDiff>(
    `data/diff${q(notebookPath, { a, b })}`,
    {},
    settings
  );
}

/**
 * Put the data files a commit read back in place (or, with `dryRun`, say which
 * files that would write).
 *
 * @param notebookPath - The notebook path.
 * @param rev - The revision.
 * @param dryRun - Only say what would be written.
 * @param paths - Data paths or globs relative to the server root; null for all.
 * @param settings - The server connection settings.
 * @returns What was (or would be) written.
 */
export async function checkoutData(
  notebookPath: string,
  rev: string,
  dryRun: boolean,
  paths: string[] | null = null,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IDataCheckout> {
  return requestAPI<Mlvc.IDataCheckout>(
    `data/checkout${q(notebookPath)}`,
    post<Mlvc.IDataCheckoutRequest>({ rev, paths, dry_run: dryRun }),
    settings
  );
}

/**
 * Undo a data checkout: put back the files it replaced (from their safety copies)
 * and remove those it created; files changed since are left alone.
 *
 * @param notebookPath - The notebook path.
 * @param safety - The checkout's `safety` name; null for the last one not undone.
 * @param settings - The server connection settings.
 * @returns What was put back, removed and left alone.
 */
export async function undoDataCheckout(
  notebookPath: string,
  safety: string | null,
  settings?: ServerConnection.ISettings
): Promise<Mlvc.IDataUndo> {
  return requestAPI<Mlvc.IDataUndo>(
    `data/undo${q(notebookPath)}`,
    post<Mlvc.IDataUndoRequest>({ safety }),
    settings
  );
}

/**
 * The URL path of a model, or of something under it.
 */
function modelPath(name: string, ...rest: string[]): string {
  return ['models', name, ...rest].map(encodeURIComponent).join('/');
}

/**
 * The registered models of the notebook's store.
 *
 * @param notebookPath - A notebook of the store.
 * @param settings - The server connection settings.
 * @returns The models, with their versions (newest first), aliases and gates.
 */
export async function fetchModels(
  notebookPath: string,
  settings?: ServerConnection.ISettings
): Promise<Registry.IModelInfo[]> {
  const out = await requestAPI<Registry.IModelList>(
    `models${q(notebookPath)}`,
    {},
    settings
  );
  return out.models;
}

/**
 * The history of a model: registrations, promotions, rollbacks, approvals.
 *
 * @param notebookPath - A notebook of the store.
 * @param name - The model.
 * @param settings - The server connection settings.
 * @returns The events, newest first.
 */
export async function fetchModelHistory(
  notebookPath: string,
  name: string,
  settings?: ServerConnection.ISettings
): Promise<Registry.IRegistryEvent[]> {
  const out = await requestAPI<Registry.IHistory>(
    `${modelPath(name, 'history')}${q(notebookPath)}`,
    {},
    settings
  );
  return out.events;
}

/**
 * Register a variable of a commit as the next version of a model.
 *
 * @param notebookPath - A notebook of the store.
 * @param name - The model.
 * @param request - The commit, the variable, a message.
 * @param settings - The server connection settings.
 * @returns The new version.
 */
export async function registerModel(
  notebookPath: string,
  name: string,
  request: Registry.IRegisterRequest,
  settings?: ServerConnection.ISettings
): Promise<Registry.IModelVersion> {
  return requestAPI<Registry.IModelVersion>(
    `${modelPath(name, 'versions')}${q(notebookPath)}`,
    post(request),
    settings
  );
}

/**
 * Move an alias to a version through its gates; with `dry_run` only check them.
 *
 * @param notebookPath - A notebook of the store.
 * @param name - The model.
 * @param request - The version, the alias, the reason, whether to only check.
 * @param settings - The server connection settings.
 * @returns What the promotion did (or would do).
 * @throws {MlvcRequestError} 409 with `{reason, gates}` as its body when a gate fails.
 */
export async function promoteModel(
  notebookPath: string,
  name: string,
  request: Registry.IPromoteRequest,
  settings?: ServerConnection.ISettings
): Promise<Registry.IPromotion> {
  return requestAPI<Registry.IPromotion>(
    `${modelPath(name, 'promote')}${q(notebookPath)}`,
    post(request),
    settings
  );
}

/**
 * Move an alias back to the version that held it before.
 *
 * @param notebookPath - A notebook of the store.
 * @param name - The model.
 * @param request - The alias and the reason.
 * @param settings - The server connection settings.
 * @returns What the rollback did.
 */
export async function rollbackModel(
  notebookPath: string,
  name: string,
  request: Registry.IRollbackRequest,
  settings?: ServerConnection.ISettings
): Promise<Registry.IPromotion> {
  return requestAPI<Registry.IPromotion>(
    `${modelPath(name, 'rollback')}${q(notebookPath)}`,
    post(request),
    settings
  );
}

/**
 * Approve a version for an alias (the approvals gate counts other users).
 *
 * @param notebookPath - A notebook of the store.
 * @param name - The model.
 * @param request - The version, the alias, a comment.
 * @param settings - The server connection settings.
 * @returns The approval event.
 */
export async function approveModel(
  notebookPath: string,
  name: string,
  request: Registry.IApproveRequest,
  settings?: ServerConnection.ISettings
): Promise<Registry.IRegistryEvent> {
  return requestAPI<Registry.IRegistryEvent>(
    `${modelPath(name, 'approvals')}${q(notebookPath)}`,
    post(request),
    settings
  );
}

/**
 * Set the gates an alias of a model checks before it moves.
 *
 * @param notebookPath - A notebook of the store.
 * @param name - The model.
 * @param alias - The alias.
 * @param gates - The metric condition, whether an evaluation must exist, approvals.
 * @param settings - The server connection settings.
 * @returns The model.
 */
export async function setModelGates(
  notebookPath: string,
  name: string,
  alias: string,
  gates: Registry.IGates,
  settings?: ServerConnection.ISettings
): Promise<Registry.IModelInfo> {
  return requestAPI<Registry.IModelInfo>(
    `${modelPath(name, 'gates', alias)}${q(notebookPath)}`,
    post(gates, 'PUT'),
    settings
  );
}

/**
 * The lineage of a model version (`{model: 'churn@3'}`) or of a commit
 * (`{rev}`): data read, the commits that wrote it, sources, versions, aliases.
 *
 * @param notebookPath - The notebook (its store; the commit's notebook for `rev`).
 * @param of - A model spec or a revision.
 * @param settings - The server connection settings.
 * @returns The graph, with its Mermaid text.
 */
export async function fetchLineage(
  notebookPath: string,
  of: { model: string } | { rev: string },
  settings?: ServerConnection.ISettings
): Promise<Registry.ILineage> {
  const extra: { [k: string]: string } =
    'model' in of ? { model: of.model } : { rev: of.rev };
  return requestAPI<Registry.ILineage>(
    `lineage${q(notebookPath, extra)}`,
    {},
    settings
  );
}
