/**
 * Wire types of the mlvc REST API, generated from mlvc_server/openapi.yaml by
 * openapi-typescript. Do not edit: change the spec and run `jlpm gen:wire`.
 */
/* eslint-disable */
export interface paths {
  '/mlvc/status': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The notebook's store, branch and changes, and its kernel's state */
    get: operations['getStatus'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/init': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create the store
     * @description Creates `.mlvc/` in the notebook's folder (or in `MlvcApp.store_root`) unless a
     *     store is already found from there upward. The body, if any, must be `{}`.
     */
    post: operations['initStore'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/log': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The commit graph of one notebook, a page at a time
     * @description Commits of the notebook's experiments (all its branches, or `branch`), newest
     *     first, with the branches and tags. A notebook with no store answers
     *     `initialized: false`. `total` is given when the page reaches the end of the
     *     history.
     *
     *     Live sync: asking for the log makes the server watch the notebook's store; any
     *     change to it (from this server, the magics, the Python API, the CLI, `mlvc run`)
     *     is then emitted within a second on jupyter_server's event bus as the event
     *     `https://events.mlvc.dev/jupyterlab-mlvc/store-changed/v1` with data
     *     `{store, paths, reason}`. A store no one asked about for 90 s is no longer
     *     watched. The answer carries an `ETag` that changes with the store's history;
     *     `If-None-Match` with it answers `304` while nothing changed.
     */
    get: operations['getLog'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/commits': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Commit the open notebook, through its kernel
     * @description With a kernel running for the notebook, the kernel commits its variables (all,
     *     or `variables`; none with `include_variables: false`), the saved notebook, the
     *     data files it read, params and metrics: the same code as `%mlvc commit`. Save the
     *     notebook first. With no kernel, the notebook alone is committed and the answer
     *     says `kernel: "none"`. The author is the Jupyter user making the request.
     *     Variables over `MlvcApp.max_variable_bytes` are skipped and named in `skipped`.
     */
    post: operations['createCommit'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/commits/{rev}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One commit's full record */
    get: operations['getCommit'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/branches': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The notebook's branches */
    get: operations['listBranches'];
    put?: never;
    /**
     * Create a branch (a new experiment)
     * @description At `from` (default HEAD); it becomes the current branch unless `switch` is
     *     false. Before the first commit, this names the branch the first commit goes to.
     */
    post: operations['createBranch'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/branches/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One branch */
    get: operations['getBranch'];
    put?: never;
    post?: never;
    /** Delete a branch (not the current one) */
    delete: operations['deleteBranch'];
    options?: never;
    head?: never;
    /**
     * Rename a branch and/or make it current
     * @description `new_name` renames it (its commits stay; if it was current, the new name is);
     *     `switch: true` makes it the branch new commits go to (without touching the
     *     notebook: use checkout for that).
     */
    patch: operations['updateBranch'];
    trace?: never;
  };
  '/mlvc/tags': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The notebook's tags */
    get: operations['listTags'];
    put?: never;
    /**
     * Tag a commit, or move a tag (`force`)
     * @description Tags name registered model versions; `force` moves an alias such as `champion`.
     */
    post: operations['createTag'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/tags/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One tag */
    get: operations['getTag'];
    put?: never;
    post?: never;
    /** Delete a tag */
    delete: operations['deleteTag'];
    options?: never;
    head?: never;
    /** Rename a tag */
    patch: operations['renameTag'];
    trace?: never;
  };
  '/mlvc/diff': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Differences between two commits
     * @description The structure of the core `diff` (`mlvc_server/diffs.py`): sections `params`,
     *     `metrics`, `variables`, `data`, `env`, `hardware`, `notebook` (with nbdime's cell
     *     diff under `notebook.diff` when `cells` is true), `skipped` and `sources`.
     *     Default `a` = `HEAD~1`, `b` = `HEAD`; `a` alone compares it with `HEAD`.
     */
    get: operations['getDiff'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/compare': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A table of params and metrics over many commits
     * @description Rows are commits (`revs` in that order, else the newest `limit` commits of the
     *     notebook or of `branch`); columns are the union of param and metric names;
     *     `best` gives, per metric with numeric values, the best value and the commits
     *     reaching it. A metric is better when lower if its name, split into words at
     *     every non-alphanumeric character, holds one of loss, error, err, mse, rmse, mae,
     *     mape, smape, nll, perplexity, ppl, wer, cer, fpr, fnr, latency, duration, time,
     *     seconds, or ends in "loss" or "error"; otherwise higher is better.
     */
    get: operations['getCompare'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/series': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Metric series for charts
     * @description Per metric: its value at each commit, oldest first (`points`), and the steps each
     *     commit logged with `log_metrics(step=...)` (`steps`). Numeric values only. With
     *     `plot=steps`, `vegalite` holds, per metric with steps, the Vega-Lite chart of its
     *     steps, a line per run (`render.steps_vegalite`, the chart `%mlvc compare --plot`
     *     shows too).
     */
    get: operations['getSeries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/checkout': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Go back to a commit (notebook, variables or both)
     * @description First, unless `MlvcApp.safety_commit` is false, unsaved state is committed on the
     *     current branch: through the kernel when one runs (the notebook file if it
     *     differs from HEAD and will be replaced, the variables if they differ and will be
     *     replaced), else the notebook alone. Then the notebook of `rev` is saved through
     *     the Jupyter contents API (reload an open document when `notebook_written`), the
     *     variables are restored in the kernel, and, when `rev` is another branch, that
     *     branch becomes current. `mode: variables` needs a kernel (409 `NoKernel`);
     *     `mode: both` without a kernel writes the notebook only (`kernel: "none"`).
     *     With `data: true`, the data files `rev` read (those in `data_paths`, relative
     *     to the project root; all when null) are put back before the notebook is written,
     *     as `POST /mlvc/data/checkout` does (each replaced file kept as a safety copy);
     *     a path that names no data file of `rev` is refused (404) before anything changes.
     */
    post: operations['checkout'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/restore': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Restore single variables into the kernel
     * @description Loads `names` (all when null or absent) of `rev` into the kernel's namespace.
     *     Variables that fail are listed in `failed` with their error class; when none
     *     could be restored the answer is an error: 403 if one needs `trust` (a pickle you
     *     did not write), 404 if none exists in the commit. 409 `NoKernel` with no kernel.
     */
    post: operations['restoreVariables'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/remotes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The store's remotes (where push and pull go)
     * @description Remotes are configured with `mlvc remote add NAME URL [--payloads FSSPEC-URL]`
     *     (not over REST: a URL makes the server connect somewhere). `payloads` is the
     *     payload remote (object storage) of each, or null when payloads travel through
     *     git; `payload_options` lists only the names of its storage options.
     */
    get: operations['listRemotes'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/push': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Push branches, tags and payloads to a remote (a job)
     * @description Starts a push in the background and answers **202** with the job; poll
     *     `GET /mlvc/jobs/{job}` (its URL is in `Location`) for progress until `state` is
     *     `succeeded` (the report in `result`) or `failed` (`error`). With a payload
     *     remote, payload parts the remote lacks are uploaded first, then the git refs
     *     move. Nothing on the remote is overwritten without `force`: a branch that
     *     diverged comes back in `result.refs` with `status: rejected`, its `ahead`/
     *     `behind` counts and a message saying what to do. `remote` defaults to `origin`
     *     (or the only remote); `branches` (names, `notebook.ipynb/branch` or ref names)
     *     to every branch and tag. 404 `RemoteNotFoundError` when there is no such remote;
     *     409 `JobRunning` (with `Location` of the running job) while a push or pull runs
     *     on this store.
     */
    post: operations['push'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/sweeps': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Run the notebook for every combination of parameters (a job)
     * @description Starts `mlvc sweep` of the notebook in the background (each combination with
     *     `mlvc run`'s semantics, on its branch `sweep/NAME/COMBO`; combinations already
     *     committed by a sweep of the same name are skipped) and answers **202** with the
     *     job; poll `GET /mlvc/jobs/{job}`: `done`/`total` count the runs ended, `phase`
     *     names the last one and how it ended, `eta` the seconds left, and
     *     `result.outcomes` lists every combination (`params`, `branch`, `status`: ok,
     *     failed, lost, cancelled or skipped, `commit`, `error`, `seconds`) when `state` is
     *     `succeeded` or `cancelled`. `DELETE /mlvc/jobs/{job}` cancels it. At most 1,000
     *     combinations. 409 `JobRunning` while a push, pull or sweep runs on this store.
     */
    post: operations['startSweep'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/pull': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Fetch a remote and fast-forward local branches (a job)
     * @description Starts a pull and answers **202** with the job (poll its `Location`). Local
     *     branches the remote moved ahead are fast-forwarded, new ones created, new tags
     *     added. A branch that diverged is left as it is and reported (`status:
     *     diverged`, `ahead`, `behind`); the remote's tip is kept as
     *     `refs/remotes/<remote>/<notebook>/<branch>`. With a payload remote, no payload
     *     bytes are downloaded: restore fetches them when needed.
     */
    post: operations['pull'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/jobs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The jobs of the notebook's store, newest first
     * @description Running and recently ended push, pull and sweep jobs of the store the
     *     notebook belongs to (the last 50 per server), newest first: a page opened
     *     while a sweep runs finds it here, with its progress and whether it can be
     *     cancelled.
     */
    get: operations['listJobs'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/jobs/{job}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A push, pull or sweep job, its progress and its result
     * @description `state` is `running`, `succeeded` or `failed`. While running, `phase` says what
     *     it does (`listing remote refs`, `uploading payloads`, `sending objects`,
     *     `receiving objects`, `unpacking objects`...) and `done`/`total` (objects, or
     *     bytes for payloads) or `bytes` how far it is; a sweep's `eta` is the seconds
     *     left. A cancelled sweep is `cancelled`. Finished jobs are kept for a while (the
     *     last 50 per server). 404 for an unknown job or one of another store.
     */
    get: operations['getJob'];
    put?: never;
    post?: never;
    /**
     * Cancel a running sweep job
     * @description Cancels a sweep (`POST /mlvc/sweeps`): `mlvc sweep` gets SIGTERM, shuts down the
     *     kernels of the runs under way (nothing is committed for them), starts no other
     *     run and reports its outcomes (`cancelled` for every combination without a
     *     commit; the branches it made for them are deleted). Answers the job, `state`
     *     `cancelled` (`result.outcomes` once the process has reported them), when the
     *     store's job slot is free: a new sweep can start at once. Starting the same sweep
     *     again runs only the combinations without an ok commit. A job that has ended is
     *     answered as it is; 409 `JobNotCancellableError` for a push or pull.
     */
    delete: operations['cancelJob'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/data/diff': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The data files two commits read, and what changed in them
     * @description `service.data_diff` (`mlvc_server/service/data.py`): each data file added,
     *     removed or changed with its sizes; for CSV and parquet files whose content both
     *     commits stored, `schema` (columns added, removed, retyped) and `rows` (counts,
     *     added, removed; changed when `key` names the column that identifies rows).
     *     Default `a` = `HEAD~1`, `b` = `HEAD`.
     */
    get: operations['getDataDiff'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/data/checkout': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Put the data files a commit read back in place
     * @description `service.data_checkout`: writes each stored data file of `rev` that differs
     *     from the file on disk (atomically, checked against the recorded hash), keeping
     *     the current file under `.mlvc/mlvc/data-safety/` first. `paths` (relative to the
     *     project root; files, folders or globs) limits it; `dry_run` lists what would be
     *     written, for a confirmation dialog. 404 when a path names no data file of `rev`.
     */
    post: operations['checkoutData'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/data/undo': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Put back the files a data checkout replaced
     * @description `service.data_undo`: each file the checkout named `safety` (its answer's
     *     `safety`; absent or null: the last one not undone) replaced is put back from its
     *     safety copy, each file it created is removed; a file changed since the checkout
     *     is left alone and named. 404 when there is no such checkout (or none left to
     *     undo), 400 when it was undone already or `safety` is not a checkout's name.
     */
    post: operations['undoDataCheckout'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/evaluations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Stored evaluations of two model versions, newest first
     * @description Each evaluation is a commit (kind `evaluation`) under
     *     `refs/mlvc/evaluations/<notebook>/<id>` whose parents are the two versions;
     *     push and pull carry it. `all=true` lists every notebook's.
     */
    get: operations['getEvaluations'];
    put?: never;
    /**
     * Evaluate version B against version A and store the report
     * @description `type: evaluate` (default) compares the two models on the labeled rows of
     *     `data` (a Parquet, CSV or JSON-lines file relative to the server root) with
     *     paired statistics: per metric both values, the difference `b - a`, its interval
     *     (`ci_method`) and a paired test (`test`, `p_value`), per-slice results and a
     *     verdict at `level`. `shadow` replays unlabeled inputs (disagreement, PSI, KS,
     *     latency); `canary` simulates routing `fraction` of a labeled stream to B with an
     *     always-valid confidence sequence and a `guard` such as `accuracy_drop <= 0.01`.
     *     The models load in the server in their safe formats; a pickle needs its
     *     writer's signature. 422 when the input cannot be evaluated (missing column,
     *     models needing other features, non-numeric predictions for a regression
     *     metric, a variable that is not a model).
     */
    post: operations['createEvaluation'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/models': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The registered models
     * @description Every model of the registry (`refs/mlvc/registry/<name>`): its versions (newest
     *     first), aliases and gates. Resource `mlvc-registry`, action `read`.
     */
    get: operations['listModels'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/models/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One registered model */
    get: operations['getModel'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/models/{name}/history': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Every change of a model, newest first
     * @description Who registered, approved, promoted or rolled back what, when, why, and the gate results.
     */
    get: operations['getModelHistory'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/models/{name}/versions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Register a variable of a commit as the model's next version
     * @description Versions are numbered 1, 2, ... per model; a new name starts a model. The
     *     registered commit is kept by gc and carried by push, pull and clone. Resource
     *     `mlvc-registry`, action `write`; the Jupyter user is recorded.
     */
    post: operations['registerModelVersion'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/models/{name}/promote': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Point an alias at a version once every gate of the alias passes
     * @description The gates of the alias (metrics query, a stored evaluation against the current
     *     holder, approvals by other users) are checked; when one fails the answer is 409
     *     `GateFailedError` with every gate's result under `gates`, and nothing changed.
     *     `dry_run` only checks them (200, `promoted: false`). Resource `mlvc-registry`,
     *     action `execute`.
     */
    post: operations['promoteModel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/models/{name}/rollback': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Move an alias back to the version it held before its last promotion
     * @description No gate is checked (it is the way back). Resource `mlvc-registry`, action `execute`.
     */
    post: operations['rollbackModel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/models/{name}/approvals': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Approve a version for an alias (as the Jupyter user)
     * @description The approvals gate counts distinct users other than the promoter. Resource `mlvc-registry`, action `write`.
     */
    post: operations['approveModelVersion'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/models/{name}/gates/{alias}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Set the gates a promotion to an alias must pass
     * @description Replaces the alias's gates; all off removes them. `metrics` is a query of the
     *     `log --where` language over the version's commit (`metrics.auc >= 0.8`).
     *     Resource `mlvc-registry`, action `execute`.
     */
    put: operations['setModelGates'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mlvc/lineage': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Where a commit or a registered model version came from
     * @description `service.lineage` (`mlvc_server/service/lineage.py`) as a graph: the data files
     *     the commit read (path and content hash) <- the commits of any notebook whose
     *     outputs have that exact hash (not the same path: a rewrite of the file never
     *     moves an old link) <- what those read, up to `depth` hops; the source files each
     *     commit imported; for a model version (or a commit registered as one) the model
     *     version and its aliases. Edges point the way data flows (`wrote`, `read`,
     *     `imported`, `registered`, `alias`, `exported`). `mermaid` is the same graph as a
     *     Mermaid flowchart with every label escaped. Give `rev` (looked up in the
     *     notebook `path`) or `model` (`NAME`, `NAME@3`, `NAME@production`; `path`
     *     optional).
     */
    get: operations['getLineage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    Error: {
      message: string;
      reason?: string | null;
    };
    CommitId: string;
    /**
     * @description A full or abbreviated commit id, a branch, a tag, `HEAD`, `HEAD~N`, `X^`.
     * @example HEAD~1
     */
    Revision: string;
    /**
     * @description Letters, digits and `. _ + @ = -`, "/" between parts, each part starting with a
     *     letter or digit; not `HEAD`, not hex that looks like a commit id, no "..", no part
     *     ending in ".lock" or ".", not ending in ".ipynb".
     * @example lr-sweep
     */
    RefName: string;
    /** @description Name -> JSON value (hyperparameters or metrics). */
    Values: {
      [key: string]: unknown;
    };
    Status: {
      /** @description Whether a store was found for the notebook. */
      initialized: boolean;
      /**
       * @description The notebook's kernel: `none` (no session, or its kernel is dead), `starting`,
       *     `idle`, `busy`, or `running` (alive, state not known).
       */
      kernel: string;
      /** @description The store's folder relative to the server root ("" for the root itself). */
      root?: string;
      branch?: string;
      /** @description The commit the notebook is at: the one checked out when `detached`, else the tip of the current branch; null before its first commit. */
      head?: string | null;
      /** @description The notebook was checked out at a commit that is not its branch's tip; its next commit starts the branch `<branch>-from-<short id>` there. */
      detached?: boolean;
      notebook_exists?: boolean;
      /** @description The notebook file differs from what HEAD recorded. */
      notebook_changed?: boolean;
      /** @description Data files HEAD recorded, path -> status now. */
      data?: {
        [key: string]: 'added' | 'changed' | 'unchanged' | 'missing';
      };
      data_changed?: boolean;
      /** @description The variables HEAD could not store, name -> reason. */
      skipped?: {
        [key: string]: string;
      };
    };
    Init: {
      initialized: boolean;
      created: boolean;
      root: string;
    };
    CommitSummary: {
      id: components['schemas']['CommitId'];
      short_id: string;
      message: string;
      author: string;
      email: string;
      /**
       * Format: date-time
       * @description ISO 8601 with a time zone.
       */
      time: string;
      /** @description The branch the commit was made on. */
      branch: string | null;
      /** @description The notebook path relative to the project root. */
      notebook: string | null;
      /** @description `ok` or `failed` (a failed run is recorded too). */
      status: string;
      params: components['schemas']['Values'];
      metrics: components['schemas']['Values'];
      variables: string[];
      parents: components['schemas']['CommitId'][];
      /** @description The branches whose tip this commit is. */
      branches: string[];
      tags: string[];
      /** @description Set on commits mlvc made on its own: `safety` for the state saved before a checkout or restore. */
      kind?: string;
    };
    Branch: {
      name: string;
      /** @description Null for a branch that has no commit yet. */
      head: string | null;
      current: boolean;
    };
    Tag: {
      name: string;
      commit: components['schemas']['CommitId'];
    };
    BranchList: {
      branches: components['schemas']['Branch'][];
      current: string | null;
    };
    TagList: {
      tags: components['schemas']['Tag'][];
    };
    Log: {
      /** @description Whether an mlvc store exists for the notebook. */
      initialized: boolean;
      commits: components['schemas']['CommitSummary'][];
      branches: components['schemas']['Branch'][];
      tags: components['schemas']['Tag'][];
      skip: number;
      limit: number;
      has_more: boolean;
      /** @description All commits of the selection; given when this page reaches the end. */
      total?: number;
    };
    CommitRecord: {
      id: components['schemas']['CommitId'];
      message: string;
      author: string;
      time: string;
      params: components['schemas']['Values'];
      metrics: components['schemas']['Values'];
      metric_series?: {
        [key: string]: unknown[];
      };
      /** @description Name -> type, format, size, shape/dtype where they apply. */
      variables: {
        [key: string]: Record<string, unknown>;
      };
      skipped: {
        [key: string]: string;
      };
      /** @description Path -> hash, size. */
      data: {
        [key: string]: Record<string, unknown>;
      };
      /**
       * @description The files the run wrote (path -> hash, size, mtime), hashed like `data`;
       *     absent when it wrote none. Lineage links readers of that content back here.
       */
      outputs?: {
        [key: string]: Record<string, unknown>;
      };
      sources: string[];
      env: Record<string, unknown>;
      hardware: Record<string, unknown>;
      parents: components['schemas']['CommitId'][];
      branches: string[];
      tags: string[];
    } & {
      [key: string]: unknown;
    };
    CommitRequest: {
      message: string;
      params?: components['schemas']['Entries'];
      metrics?: components['schemas']['Entries'];
      variables?: components['schemas']['Names'];
      /** @description False commits no variables (default true). */
      include_variables?: boolean;
    };
    /** @description Name (1-256 characters) -> JSON value. */
    Entries: {
      [key: string]: unknown;
    };
    /** @description Variable names; null or absent for all. */
    Names: string[] | null;
    CommitCreated: {
      commit: components['schemas']['CommitSummary'];
      /**
       * @description Whether the notebook's kernel made the commit (`none`, the notebook alone).
       * @enum {string}
       */
      kernel: 'used' | 'none';
      /** @description Variables not stored, name -> reason. */
      skipped: {
        [key: string]: string;
      };
      /** @description With no kernel: "no kernel: the notebook alone was committed". */
      note?: string;
    };
    BranchCreate: {
      name: components['schemas']['RefName'];
      from?: components['schemas']['Revision'];
      /** @description Make it the current branch (default true). */
      switch?: boolean;
    };
    BranchUpdate: {
      new_name?: components['schemas']['RefName'];
      switch?: boolean;
    };
    TagCreate: {
      name: components['schemas']['RefName'];
      rev?: components['schemas']['Revision'];
      /** @description Move the tag if it exists (default false). */
      force?: boolean;
    };
    TagUpdate: {
      new_name: components['schemas']['RefName'];
    };
    /** @enum {string} */
    DiffStatus: 'added' | 'removed' | 'changed' | 'unchanged';
    /** @description One side of a diff. */
    DiffSide: {
      id: components['schemas']['CommitId'];
      short_id: string;
      message: string;
      time: string;
      branch: string | null;
    };
    /**
     * @description One key of params, metrics, env or hardware (or of a model's hyperparameters):
     *     its value in A and in B (null where absent) and, when both are numbers and
     *     differ, `delta` = B - A.
     */
    ValueDiff: {
      key: string;
      status: components['schemas']['DiffStatus'];
      /** @description The value in A (any JSON value; null when absent). */
      a: unknown;
      /** @description The value in B (any JSON value; null when absent). */
      b: unknown;
      delta?: number;
    };
    /** @description A stored variable as its commit recorded it (null where absent). */
    VariableSummary:
      | ({
          type?: string;
          format?: string;
          size?: number;
          /** @description The shape of arrays, tensors and frames. */
          shape?: unknown[];
          /** @description The element type of arrays (a string). */
          dtype?: unknown;
          /** @description The value itself, for small scalars. */
          value?: unknown;
        } & {
          [key: string]: unknown;
        })
      | null;
    /**
     * @description One variable. For a changed one: `segments_changed`, `segments_total`,
     *     `bytes_changed` and `fraction_bytes_changed` compare content-addressed parts (no
     *     payload is read); for arrays, `fraction_changed` and `max_abs_diff` compare
     *     values (`value_error` when they could not be read); for a model, `params` lists
     *     the changed hyperparameters and `fitted_changed` the fitted attributes that
     *     changed. `kind` and `lines` are the model-aware facts (an estimator's
     *     hyperparameters old -> new, the tensors that changed and by how much, a frame's
     *     rows and columns, a container's leaves); `change` says what changed in the words
     *     of `mlvc diff` and `%mlvc diff` (the one presenter, `render.variable_change`).
     */
    VariableDiff: {
      name: string;
      status: components['schemas']['DiffStatus'];
      a: components['schemas']['VariableSummary'];
      b: components['schemas']['VariableSummary'];
      change?: string;
      kind?: string;
      lines?: string[];
      semantic_error?: string;
      segments_changed?: string[];
      segments_total?: number;
      bytes_changed?: number;
      fraction_bytes_changed?: number;
      fraction_changed?: number;
      max_abs_diff?: number;
      value_error?: string;
      params?: components['schemas']['ValueDiff'][];
      fitted_changed?: string[];
    };
    /** @description A data file as a commit recorded it (null where absent). */
    DataFile:
      | ({
          hash?: string;
          size?: number;
        } & {
          [key: string]: unknown;
        })
      | null;
    DataDiff: {
      path: string;
      status: components['schemas']['DiffStatus'];
      a: components['schemas']['DataFile'];
      b: components['schemas']['DataFile'];
    };
    /** @description A source file committed with the notebook (`a`/`b` its blob ids). */
    SourceDiff: {
      path: string;
      status: components['schemas']['DiffStatus'];
      a: string | null;
      b: string | null;
    };
    ChangedValues: {
      changed: components['schemas']['ValueDiff'][];
      /** @description How many keys did not change. */
      unchanged: number;
    };
    CellOutput: {
      /** @enum {string} */
      kind: 'stream' | 'error' | 'image' | 'text' | 'other';
      /** @description The stream (stdout, stderr). */
      name?: string | null;
      /** @description Truncated to 4,000 characters. */
      text?: string;
      /** @description Base64 PNG, up to 256 KiB. */
      png?: string;
    };
    /** @description One cell of one side of a notebook diff. */
    CellSide: {
      source: string;
      execution_count: number | null;
      outputs: components['schemas']['CellOutput'][];
    };
    /**
     * @description A cell of both notebooks, paired in order (nbdime's alignment); `lines` is a line
     *     diff of a modified cell's source, `[tag, text]` with tag " ", "-" or "+".
     */
    CellPair: {
      /** @enum {string} */
      status: 'unchanged' | 'added' | 'removed' | 'modified' | 'outputs';
      cell_type?: string | null;
      a?: components['schemas']['CellSide'];
      b?: components['schemas']['CellSide'];
      lines?: [string, string][];
    };
    NotebookDiff: {
      /** @enum {string} */
      status: 'added' | 'removed' | 'changed' | 'unchanged' | 'none';
      path_a: string | null;
      path_b: string | null;
      /** @description How many cells were added, removed, modified, or changed only their outputs. */
      cells?: {
        added: number;
        removed: number;
        modified: number;
        outputs_changed: number;
      };
      /** @description nbdime's diff of the two notebooks (when `cells` was asked and they differ). */
      diff?: {
        [key: string]: unknown;
      }[];
      /**
       * @description Both notebooks' cells paired in order; `a` and `b` hold source, execution
       *     count and outputs (text truncated to 4,000 characters, PNGs up to 256 KiB of
       *     base64).
       */
      cell_view?: components['schemas']['CellPair'][];
      /** @description Why the notebooks could not be compared cell by cell. */
      error?: string;
    };
    Diff: {
      a: components['schemas']['DiffSide'];
      b: components['schemas']['DiffSide'];
      params: components['schemas']['ValueDiff'][];
      metrics: components['schemas']['ValueDiff'][];
      variables: components['schemas']['VariableDiff'][];
      /** @description The variables each side could not store, name -> reason. */
      skipped: {
        a: {
          [key: string]: string;
        };
        b: {
          [key: string]: string;
        };
      };
      data: components['schemas']['DataDiff'][];
      env: components['schemas']['ChangedValues'];
      hardware: components['schemas']['ChangedValues'];
      notebook: components['schemas']['NotebookDiff'];
      /** @description Source files that changed. */
      sources: components['schemas']['SourceDiff'][];
    };
    CompareRow: {
      id: components['schemas']['CommitId'];
      short_id: string;
      message: string;
      author: string;
      time: string;
      branch: string | null;
      status: string;
      branches: string[];
      tags: string[];
      params: components['schemas']['Values'];
      metrics: components['schemas']['Values'];
    };
    Compare: {
      rows: components['schemas']['CompareRow'][];
      columns: {
        params: string[];
        metrics: string[];
      };
      best: {
        [key: string]: {
          /** @enum {string} */
          goal: 'min' | 'max';
          value: number;
          ids: components['schemas']['CommitId'][];
        };
      };
      /** @description With `plot`, the chart's Vega-Lite v5 spec (render.compare_vegalite). */
      vegalite?: {
        [key: string]: unknown;
      };
    };
    Series: {
      /** @description With `plot=steps`, per metric that has steps, its chart's Vega-Lite v5 spec. */
      vegalite?: {
        [key: string]: {
          [key: string]: unknown;
        };
      };
      series: {
        [key: string]: {
          /** @enum {string} */
          goal: 'min' | 'max';
          points: {
            id: components['schemas']['CommitId'];
            short_id: string;
            time: string;
            branch?: string | null;
            value: number;
          }[];
          steps: {
            id: components['schemas']['CommitId'];
            short_id: string;
            branch?: string | null;
            message?: string;
            /** @description [step, value] pairs. */
            steps: [number, number][];
          }[];
        };
      };
    };
    CheckoutRequest: {
      rev: components['schemas']['Revision'];
      /**
       * @description What to bring back (default both).
       * @enum {string}
       */
      mode?: 'both' | 'notebook' | 'variables';
      /** @description Load pickles that you did not write (default false). */
      trust?: boolean;
      /** @description Also put back the data files `rev` read (default false). */
      data?: boolean;
      /** @description With `data`, the data paths or globs (relative to the project root); null for all. */
      data_paths?: string[] | null;
    };
    /** @description Variables not restored, name -> error class and message. */
    Failures: {
      [key: string]: {
        error: string;
        message: string;
      };
    };
    Checkout: {
      commit: components['schemas']['CommitId'];
      /** @description The current branch now. */
      branch: string;
      /** @description The commit of unsaved state made first, if any. */
      safety_commit: string | null;
      /** @description The notebook file was replaced (reload an open document). */
      notebook_written: boolean;
      variables_restored: string[];
      /** @description Variables not restored, name -> reason. */
      skipped: {
        [key: string]: string;
      };
      failed: components['schemas']['Failures'];
      /** @enum {string} */
      kernel: 'used' | 'none';
      /** @description The data checkout done with it (`data: true`), else null. */
      data: components['schemas']['DataCheckout'] | null;
    };
    DataCheckoutRequest: {
      rev: components['schemas']['Revision'];
      /** @description Data paths or globs relative to the project root; null for all. */
      paths?: string[] | null;
      /** @description Only say what would be written (default false). */
      dry_run?: boolean;
    };
    DataCheckout: {
      commit: components['schemas']['CommitId'];
      restored: string[];
      unchanged: string[];
      not_captured: string[];
      safety_copies: {
        [key: string]: string;
      };
      bytes: number;
      dry_run: boolean;
      /** @description Path -> its size as the commit read it (files restored or not captured). */
      sizes: {
        [key: string]: number;
      };
      /** @description Path -> the size of the file there now (files restored that exist). */
      current_sizes: {
        [key: string]: number;
      };
      /** @description The name `POST /mlvc/data/undo` takes to undo this checkout (null when nothing was written). */
      safety: string | null;
    };
    DataUndoRequest: {
      safety?: string | null;
    };
    DataUndo: {
      safety: string;
      commit: string;
      put_back: string[];
      removed: string[];
      /** @description Path -> why it was not touched. */
      left_alone: {
        [key: string]: string;
      };
    };
    DataFilesDiff: {
      a: components['schemas']['CommitId'];
      b: components['schemas']['CommitId'];
      key: string | null;
      files: {
        path: string;
        /** @enum {string} */
        status: 'added' | 'removed' | 'changed';
        size_a: number | null;
        size_b: number | null;
        captured: boolean;
        schema?: Record<string, unknown>;
        rows?: Record<string, unknown>;
        note?: string;
      }[];
    };
    RestoreRequest: {
      rev: components['schemas']['Revision'];
      names?: components['schemas']['Names'];
      /** @description Load pickles that you did not write (default false). */
      trust?: boolean;
      /**
       * @description First commit the kernel's variables when they differ from HEAD (a safety
       *     commit, kind `safety`), so that what the restore overwrites can be brought
       *     back (default false; the panel sends true).
       */
      safety?: boolean;
    };
    Restore: {
      commit: components['schemas']['CommitId'];
      restored: string[];
      failed: components['schemas']['Failures'];
      /** @description The safety commit made first, or null (none asked, or nothing would be lost). */
      safety_commit?: string | null;
    };
    Remote: {
      name: string;
      /** @description The git URL (a path, file://, git://, ssh://, https://). */
      url: string;
      /** @description The payload remote (fsspec URL), or null when payloads go through git. */
      payloads: string | null;
      /** @description Names of the payload remote's storage options (values are not shown). */
      payload_options: string[];
    };
    RemoteList: {
      remotes: components['schemas']['Remote'][];
    };
    SweepRequest: {
      /** @description Parameter name -> the values to try (numbers, strings, booleans, null). */
      params: {
        [key: string]: unknown[];
      };
      /** @description Runs at a time (default 2). */
      jobs?: number;
      /** @description The sweep's name (default the notebook's); its branches are sweep/NAME/.... */
      name?: string;
    };
    PushRequest: {
      /** @description The remote (default `origin`, or the only one). */
      remote?: string;
      /** @description Branches to push (default every branch and tag). */
      branches?: string[];
      /** @description Overwrite remote refs that diverged (default false). */
      force?: boolean;
    };
    PullRequest: {
      /** @description The remote (default `origin`, or the only one). */
      remote?: string;
      /**
       * @description Adopt the payload remote the git remote publishes (where payload bytes go). Without it a published URL is reported (`payloads_message`) and not used.
       * @default false
       */
      accept_payloads: boolean;
    };
    /** @description What a push or pull did to one ref. */
    RefUpdate: {
      /** @description The full git ref, e.g. `refs/heads/train.ipynb/main`. */
      ref: string;
      /**
       * @description `model`: a model of the registry (`refs/mlvc/registry/<name>`).
       * @enum {string}
       */
      kind: 'branch' | 'tag' | 'evaluation' | 'model' | 'other';
      notebook: string | null;
      name: string;
      /**
       * @description push: `up-to-date`, `created`, `fast-forward`, `forced`, `rejected`;
       *     pull: `up-to-date`, `created`, `fast-forward`, `ahead` (local commits not
       *     pushed yet), `diverged`, `conflict` (a tag that points elsewhere),
       *     `replayed` (a model changed on both sides: the local registry events were
       *     replayed on top of the remote's, see `replay`).
       */
      status: string;
      /** @description With `replayed`: `replayed` (count), `skipped` (why each), `renumbered` ({old: new version}), `head`. */
      replay?: {
        [key: string]: unknown;
      };
      /** @description Local commits the remote lacks. */
      ahead: number;
      /** @description Remote commits this store lacks. */
      behind: number;
      /** @description A sentence for people (what happened, what to do). */
      message: string;
    };
    /** @description The outcome of every combination of a sweep, in plan order. */
    SweepReport: {
      outcomes: components['schemas']['SweepOutcome'][];
    };
    SweepOutcome: {
      params: {
        [key: string]: unknown;
      };
      branch: string;
      /**
       * @description ok and failed runs are committed; lost ones (a dead worker) and cancelled ones
       *     are not, and run again when the same sweep is started again; skipped ones
       *     were committed by an earlier sweep of the same name.
       * @enum {string}
       */
      status: 'ok' | 'failed' | 'lost' | 'cancelled' | 'skipped';
      commit: string | null;
      error: string | null;
      seconds: number;
    };
    /** @description The result of a push or a pull. */
    SyncReport: {
      remote: string;
      url: string;
      refs: components['schemas']['RefUpdate'][];
      /** @description Push only, refs not pushed (diverged or moved tags). */
      rejected?: number;
      /** @description Pull only, branches that diverged. */
      diverged?: number;
      /** @description Pull only, git objects received. */
      objects?: number;
      /**
       * @description Pull only, the notebook files written (paths in the project): each one whose
       *     current branch was fast-forwarded while the file was as its old tip had it,
       *     or that a new branch brought and that had no file here.
       */
      notebooks?: string[];
      /**
       * @description Push: what went to the payload remote (`url`, `parts`, `uploaded`, `bytes`,
       *     `present`, `commits`, `not_here`), or null without one. Pull: the payload
       *     remote's URL, or null.
       */
      payloads?:
        | (
            | string
            | {
                [key: string]: unknown;
              }
          )
        | null;
    };
    Job: {
      id: string;
      /** @enum {string} */
      kind: 'push' | 'pull' | 'sweep';
      /** @enum {string} */
      state: 'running' | 'succeeded' | 'failed' | 'cancelled';
      /** @description What the job does now (`done` when finished, `cancelled`). */
      phase: string;
      /** @description Objects (or payload bytes) done in this phase. */
      done?: number | null;
      /** @description Objects (or payload bytes) to do in this phase. */
      total?: number | null;
      /** @description Bytes received so far (receiving phases). */
      bytes?: number | null;
      /** @description Seconds left, estimated from the pace so far (sweeps, once a run ended). */
      eta?: number | null;
      /** @description Whether `DELETE` of the job would cancel it (a running sweep). */
      cancellable?: boolean;
      /** Format: date-time */
      started: string;
      /** Format: date-time */
      finished?: string | null;
      /** @description What the job did, a push or pull's report or a sweep's outcomes. */
      result?:
        | (
            | components['schemas']['SyncReport']
            | components['schemas']['SweepReport']
          )
        | null;
      /**
       * @description Why it failed: `status` (the HTTP status the cause maps to: 404 no remote,
       *     409 a ref moved meanwhile, 502 the remote or the payload storage failed),
       *     `reason` (the error class) and `message`.
       */
      error?: {
        status: number;
        reason: string;
        message: string;
      } | null;
    };
    EvaluationRequest: {
      /** @enum {string} */
      type?: 'evaluate' | 'shadow' | 'canary';
      a: components['schemas']['Revision'];
      b: components['schemas']['Revision'];
      /** @description The data file, relative to the server root. */
      data: string;
      /** @description The target column (`evaluate`, `canary`). */
      target?: string;
      metrics?: ('accuracy' | 'f1' | 'roc_auc' | 'rmse' | 'mae')[];
      slice?: string;
      seed?: number;
      level?: number;
      resamples?: number;
      variable?: string;
      fraction?: number;
      guard?: string;
      time_column?: string;
      top?: number;
      record?: boolean;
    };
    EvaluationVersion: {
      rev?: string;
      commit?: components['schemas']['CommitId'];
      variable?: string;
      type?: string;
    };
    EvaluationVerdict: {
      metric?: string;
      level?: number;
      /** @description `a`, `b`, or null (no significant difference). */
      better?: string | null;
      decision?: string;
      text?: string;
    };
    EvaluationReport: {
      /** @enum {string} */
      type: 'evaluate' | 'shadow' | 'canary';
      /** @description The evaluation commit (null when not recorded). */
      id: string | null;
      a: components['schemas']['EvaluationVersion'];
      b: components['schemas']['EvaluationVersion'];
      /** @description The file's path, BLAKE3 hash, size, time and rows. */
      data: {
        [key: string]: unknown;
      };
      /**
       * @description Per metric: `a`, `b`, `diff` (b - a), `ci`, `level`, `ci_method`, `test`,
       *     `p_value`, `better`, `n` (or `error`).
       */
      metrics?: {
        [key: string]: unknown;
      };
      slices?: {
        [key: string]: unknown;
      }[];
      verdict: components['schemas']['EvaluationVerdict'];
    } & {
      [key: string]: unknown;
    };
    EvaluationSummary: {
      id: components['schemas']['CommitId'];
      short_id: string;
      type: string;
      time: string;
      /** @description Epoch seconds (orders evaluations made within one second). */
      timestamp?: number;
      author?: string;
      notebook?: string | null;
      message?: string;
      a: components['schemas']['EvaluationVersion'];
      b: components['schemas']['EvaluationVersion'];
      verdict: components['schemas']['EvaluationVerdict'];
      data?: {
        [key: string]: unknown;
      } | null;
    };
    EvaluationList: {
      evaluations: components['schemas']['EvaluationSummary'][];
    };
    /**
     * @description Letters, digits, `.`, `_`, `-`, starting with a letter or digit; no "..", not ending in "." or ".lock".
     * @example churn
     */
    ModelNameValue: string;
    /**
     * @description Starts with a letter (never a version number); not `latest`.
     * @example production
     */
    AliasName: string;
    ModelVersion: {
      name: string;
      version: number;
      commit: components['schemas']['CommitId'];
      short_id: string;
      variable: string;
      notebook: string | null;
      branch: string | null;
      registered_by: string;
      time: string;
      message: string;
      params: components['schemas']['Values'];
      metrics: components['schemas']['Values'];
      /** @description The serializer format of the variable (`sklearn`, `safetensors`, `pickle`...). */
      kind: string;
      aliases: string[];
      /** @description The exports of this version made by name (`mlvc model export`), newest first. */
      exports?: components['schemas']['ExportRecord'][];
    };
    ExportRecord: {
      /** @enum {string} */
      format: 'mlflow' | 'onnx' | 'native';
      /** @description The folder written, as given to the exporting process. */
      path: string;
      user: string;
      time: string;
    };
    GateSettings: {
      metrics: string | null;
      evaluated: boolean;
      approvals: number;
    };
    GateSettingsUpdate: {
      /** @description A query the version's commit must match (`metrics.auc >= 0.8`). */
      metrics?: string | null;
      /** @description A stored evaluation must not find the alias's current holder better. */
      evaluated?: boolean;
      /** @description Distinct users other than the promoter who approved. */
      approvals?: number;
    };
    ModelInfo: {
      name: string;
      versions: components['schemas']['ModelVersion'][];
      aliases: {
        [key: string]: number;
      };
      gates: {
        [key: string]: components['schemas']['GateSettings'];
      };
      latest: number;
    };
    ModelList: {
      models: components['schemas']['ModelInfo'][];
    };
    GateResult: {
      /** @enum {string} */
      gate: 'metrics' | 'evaluated' | 'approvals';
      ok: boolean;
      detail: string;
    };
    RegistryEvent: {
      id: components['schemas']['CommitId'];
      /** @enum {string} */
      type:
        'register' | 'promote' | 'rollback' | 'approve' | 'gates' | 'unalias';
      user: string;
      time: string;
      version: number | null;
      alias: string | null;
      previous: number | null;
      reason: string;
      gates: components['schemas']['GateResult'][];
    };
    RegistryEventList: {
      events: components['schemas']['RegistryEvent'][];
    };
    Promotion: {
      name: string;
      alias: string;
      version: number;
      previous: number | null;
      /** @description False for a dry run. */
      promoted: boolean;
      gates: components['schemas']['GateResult'][];
      event: components['schemas']['RegistryEvent'] | null;
    };
    GateFailure: {
      message: string;
      reason?: string | null;
      gates?: components['schemas']['GateResult'][];
    };
    ModelRegister: {
      rev: components['schemas']['Revision'];
      variable: string;
      /** @description The notebook the revision belongs to (relative to the server root). */
      notebook?: string;
      message?: string;
    };
    ModelPromote: {
      version: number;
      alias: components['schemas']['AliasName'];
      reason: string;
      dry_run?: boolean;
    };
    ModelRollback: {
      alias: components['schemas']['AliasName'];
      reason: string;
    };
    ModelApprove: {
      version: number;
      alias: components['schemas']['AliasName'];
      comment?: string;
    };
    /**
     * @description One node; `kind` says which optional fields it has. `commit`: commit, short_id,
     *     notebook, branch, message, author, time, status, depth (0 for the one asked
     *     about, +1 per data hop upstream), truncated (its inputs were not followed).
     *     `data`: a file as a commit read it: path, hash, size, producers (how many
     *     commits wrote this exact content). `source`: path, blob (git id of its content).
     *     `model`: name, version, variable, commit. `alias`: name, alias, version.
     *     `export`: an exported copy of a model version (`mlvc model export NAME@...`):
     *     name, version, format, path, user, time.
     */
    LineageNode: {
      /** @description Stable within a graph, e.g. `commit:<id>`, `data:<path>@<hash>`. */
      id: string;
      /** @enum {string} */
      kind: 'commit' | 'data' | 'source' | 'model' | 'alias' | 'export';
      label: string;
      commit?: string;
      short_id?: string;
      notebook?: string | null;
      branch?: string | null;
      message?: string;
      author?: string;
      time?: string;
      status?: string;
      depth?: number;
      truncated?: boolean;
      path?: string;
      hash?: string;
      size?: number | null;
      producers?: number;
      blob?: string;
      name?: string;
      version?: number;
      variable?: string;
      alias?: string;
      format?: string;
      user?: string;
    };
    LineageEdge: {
      from: string;
      to: string;
      /** @description wrote, wrote PATH (same content under another path), read, imported, registered, alias, exported. */
      label: string;
    };
    Lineage: {
      /** @description The id of the node asked about (nodes[0]). */
      root: string;
      nodes: components['schemas']['LineageNode'][];
      edges: components['schemas']['LineageEdge'][];
      /** @description Some inputs were not followed (the depth, node or producer limit). */
      truncated: boolean;
      /** @description The graph as a Mermaid flowchart (`flowchart LR`), labels escaped. */
      mermaid: string;
    };
  };
  responses: {
    /** @description Invalid argument or body (the message says which and why). */
    BadRequest: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description Not authenticated, not authorized for `mlvc`, no XSRF token on a cookie-authenticated change, or a pickle that needs `trust`. */
    Forbidden: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description No store, revision, branch, tag, variable or notebook file. */
    NotFound: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description A branch or tag exists already; the current branch cannot be deleted; a stored
     *     object is damaged (`CorruptObjectError`: run `mlvc fsck`); no kernel runs for the
     *     notebook (`NoKernel`); the kernel stayed busy past `MlvcApp.kernel_timeout`
     *     (`KernelBusy`, nothing was done); the kernel cannot run mlvc (`KernelUnavailable`).
     */
    Conflict: {
      headers: {
        /** @description With `KernelBusy`, seconds after which to try again. */
        'Retry-After'?: number;
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description The request body is over 1 MiB. */
    TooLarge: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /**
     * @description A push, pull or sweep is already running on this store (`JobRunning`);
     *     `Location` is its job's URL.
     */
    JobRunning: {
      headers: {
        Location: components['headers']['JobLocation'];
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description A stored variable cannot be read in its format (`SerializationError`). */
    Unprocessable: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
  };
  parameters: {
    /**
     * @description The notebook path relative to the server root, "/" separated, ending in
     *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
     *     are refused.
     */
    NotebookPath: string;
    /** @description A revision (percent-encode "/"). */
    Rev: components['schemas']['Revision'];
    /** @description A branch or tag name (percent-encode "/"). */
    RefName: components['schemas']['RefName'];
    /**
     * @description A notebook whose store to use (relative to the server root, ending in
     *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
     *     folder).
     */
    StorePath: string;
    /** @description A model name. */
    ModelName: components['schemas']['ModelNameValue'];
    /** @description An alias of a model (`production`, `staging`...). */
    Alias: components['schemas']['AliasName'];
  };
  requestBodies: never;
  headers: {
    /** @description The URL of what was created (with `?path=`). */
    Location: string;
    /** @description The URL of the job (`/mlvc/jobs/{job}?path=...`) to poll. */
    JobLocation: string;
  };
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  getStatus: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description `initialized: false` (and only `kernel`) when no store is found. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Status'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
    };
  };
  initStore: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': Record<string, unknown>;
      };
    };
    responses: {
      /** @description A store already existed. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Init'];
        };
      };
      /** @description The store was created. */
      201: {
        headers: {
          Location: components['headers']['Location'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Init'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  getLog: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
        /** @description The most commits to return (default and maximum `MlvcApp.max_log_limit`). */
        limit?: number;
        /** @description Commits to skip (pagination). */
        skip?: number;
        /** @description Only commits reachable from this branch. */
        branch?: components['schemas']['RefName'];
        /**
         * @description Only commits matching this query, e.g. `metrics.acc > 0.9 and params.C < 1 and
         *     branch ~ "sweep/*"` (the grammar of `mlvc log --where`, docs/cli.md). A query
         *     that does not parse answers 400 with the column of the bad token.
         */
        where?: string;
      };
      header?: {
        /** @description An ETag of an earlier answer; 304 if the history did not change since (any other value is ignored). */
        'If-None-Match'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The history. */
      200: {
        headers: {
          /** @description Changes whenever the store's history (refs, log, branches) does. */
          ETag?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Log'];
        };
      };
      /** @description Not modified since the answer whose ETag was given. */
      304: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  createCommit: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CommitRequest'];
      };
    };
    responses: {
      /** @description The new commit. */
      201: {
        headers: {
          Location: components['headers']['Location'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CommitCreated'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
      422: components['responses']['Unprocessable'];
    };
  };
  getCommit: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description A revision (percent-encode "/"). */
        rev: components['parameters']['Rev'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The record (`service.show`). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CommitRecord'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
    };
  };
  listBranches: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The branches and the current one. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BranchList'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  createBranch: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['BranchCreate'];
      };
    };
    responses: {
      /** @description The branch. */
      201: {
        headers: {
          Location: components['headers']['Location'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Branch'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  getBranch: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description A branch or tag name (percent-encode "/"). */
        name: components['parameters']['RefName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The branch. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Branch'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  deleteBranch: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description A branch or tag name (percent-encode "/"). */
        name: components['parameters']['RefName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
    };
  };
  updateBranch: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description A branch or tag name (percent-encode "/"). */
        name: components['parameters']['RefName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['BranchUpdate'];
      };
    };
    responses: {
      /** @description The branch as it is now. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Branch'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  listTags: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The tags. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TagList'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  createTag: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['TagCreate'];
      };
    };
    responses: {
      /** @description The tag. */
      201: {
        headers: {
          Location: components['headers']['Location'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Tag'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  getTag: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description A branch or tag name (percent-encode "/"). */
        name: components['parameters']['RefName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The tag. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Tag'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  deleteTag: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description A branch or tag name (percent-encode "/"). */
        name: components['parameters']['RefName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
    };
  };
  renameTag: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description A branch or tag name (percent-encode "/"). */
        name: components['parameters']['RefName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['TagUpdate'];
      };
    };
    responses: {
      /** @description The tag under its new name. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Tag'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  getDiff: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
        a?: components['schemas']['Revision'];
        b?: components['schemas']['Revision'];
        /** @description Include nbdime's cell diff (default true). */
        cells?: boolean;
        /** @description Compare arrays element by element (default true). */
        values?: boolean;
        /** @description Include the cells' outputs in `cell_view` (default false: outputs can be most of a notebook; the panel asks for them). */
        outputs?: boolean;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The diff. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Diff'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
    };
  };
  getCompare: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
        /**
         * @description Comma-separated revisions (at most 3,000 characters: 73 full ids or 333
         *     short ones; use `branch` and `limit` for more).
         */
        revs?: string;
        branch?: components['schemas']['RefName'];
        /** @description Without `revs`, the newest this many commits (default 100). */
        limit?: number;
        /** @description Keep the safety commits made before checkouts (left out by default). */
        include_safety?: boolean;
        /**
         * @description Only commits matching this query, e.g. `metrics.acc > 0.9 and params.C < 1 and
         *     branch ~ "sweep/*"` (the grammar of `mlvc log --where`, docs/cli.md). A query
         *     that does not parse answers 400 with the column of the bad token.
         */
        where?: string;
        /**
         * @description Order the rows by `metrics.NAME` (best first), `params.NAME`, `time`, `branch`,
         *     `message`, `author` or `status`; a leading `-` reverses.
         */
        sort?: string;
        /** @description Leave out the params and metrics columns equal in every row. */
        only_differing?: boolean;
        /**
         * @description Also answer `vegalite`, the Vega-Lite v5 spec of these rows that
         *     `%mlvc compare --plot` shows: `scatter` (each numeric param against each
         *     numeric metric) or `parallel` (parallel coordinates over them). Each datum
         *     carries the run's `id`; a datum with `selected: true` is outlined.
         */
        plot?: 'scatter' | 'parallel';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The table. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Compare'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  getSeries: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
        /** @description Only this metric (default every metric). */
        metric?: string;
        branch?: components['schemas']['RefName'];
        /** @description The newest this many commits (default 100). */
        limit?: number;
        /** @description Keep the safety commits made before checkouts (left out by default). */
        include_safety?: boolean;
        /** @description `steps`: add the charts of the steps (`vegalite`). */
        plot?: 'steps';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The series. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Series'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  checkout: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CheckoutRequest'];
      };
    };
    responses: {
      /** @description What was done. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Checkout'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
      422: components['responses']['Unprocessable'];
    };
  };
  restoreVariables: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['RestoreRequest'];
      };
    };
    responses: {
      /** @description What was restored. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Restore'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
      422: components['responses']['Unprocessable'];
    };
  };
  listRemotes: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The remotes, by name. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RemoteList'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  push: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['PushRequest'];
      };
    };
    responses: {
      /** @description The push started. */
      202: {
        headers: {
          Location: components['headers']['JobLocation'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['JobRunning'];
      413: components['responses']['TooLarge'];
    };
  };
  startSweep: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SweepRequest'];
      };
    };
    responses: {
      /** @description The sweep started. */
      202: {
        headers: {
          Location: components['headers']['JobLocation'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['JobRunning'];
      413: components['responses']['TooLarge'];
    };
  };
  pull: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['PullRequest'];
      };
    };
    responses: {
      /** @description The pull started. */
      202: {
        headers: {
          Location: components['headers']['JobLocation'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['JobRunning'];
      413: components['responses']['TooLarge'];
    };
  };
  listJobs: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The jobs. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            jobs: components['schemas']['Job'][];
          };
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
    };
  };
  getJob: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description The job id (`id` of the job a push or pull answered). */
        job: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The job. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  cancelJob: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path: {
        /** @description The sweep's job id. */
        job: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The job, cancelled (or as it ended). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
    };
  };
  getDataDiff: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
        a?: components['schemas']['Revision'];
        b?: components['schemas']['Revision'];
        /** @description The column identifying rows of CSV/parquet files. */
        key?: string;
        /** @description Compare rows (default true); false compares files and schemas. */
        rows?: boolean;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The data diff. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DataFilesDiff'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  checkoutData: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DataCheckoutRequest'];
      };
    };
    responses: {
      /** @description What was (or would be) written. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DataCheckout'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  undoDataCheckout: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['DataUndoRequest'];
      };
    };
    responses: {
      /** @description What was put back, removed and left alone. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DataUndo'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      413: components['responses']['TooLarge'];
    };
  };
  getEvaluations: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
        all?: boolean;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The evaluations. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['EvaluationList'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
  createEvaluation: {
    parameters: {
      query: {
        /**
         * @description The notebook path relative to the server root, "/" separated, ending in
         *     `.ipynb`. Absolute paths, ".." components and symlinks leading outside the root
         *     are refused.
         */
        path: components['parameters']['NotebookPath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['EvaluationRequest'];
      };
    };
    responses: {
      /** @description The report (stored unless `record` is false). */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['EvaluationReport'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
      422: components['responses']['Unprocessable'];
    };
  };
  listModels: {
    parameters: {
      query?: {
        /**
         * @description A notebook whose store to use (relative to the server root, ending in
         *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
         *     folder).
         */
        path?: components['parameters']['StorePath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The models, by name. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ModelList'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
    };
  };
  getModel: {
    parameters: {
      query?: {
        /**
         * @description A notebook whose store to use (relative to the server root, ending in
         *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
         *     folder).
         */
        path?: components['parameters']['StorePath'];
      };
      header?: never;
      path: {
        /** @description A model name. */
        name: components['parameters']['ModelName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The model. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ModelInfo'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
    };
  };
  getModelHistory: {
    parameters: {
      query?: {
        /**
         * @description A notebook whose store to use (relative to the server root, ending in
         *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
         *     folder).
         */
        path?: components['parameters']['StorePath'];
      };
      header?: never;
      path: {
        /** @description A model name. */
        name: components['parameters']['ModelName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The events. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RegistryEventList'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
    };
  };
  registerModelVersion: {
    parameters: {
      query?: {
        /**
         * @description A notebook whose store to use (relative to the server root, ending in
         *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
         *     folder).
         */
        path?: components['parameters']['StorePath'];
      };
      header?: never;
      path: {
        /** @description A model name. */
        name: components['parameters']['ModelName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ModelRegister'];
      };
    };
    responses: {
      /** @description The new version. */
      201: {
        headers: {
          Location: components['headers']['Location'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ModelVersion'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  promoteModel: {
    parameters: {
      query?: {
        /**
         * @description A notebook whose store to use (relative to the server root, ending in
         *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
         *     folder).
         */
        path?: components['parameters']['StorePath'];
      };
      header?: never;
      path: {
        /** @description A model name. */
        name: components['parameters']['ModelName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ModelPromote'];
      };
    };
    responses: {
      /** @description What the promotion did (or, dry run, would do). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Promotion'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      /** @description A gate failed (`GateFailedError`, with `gates`; nothing changed), or the model kept changing under concurrent writers (`RegistryConflictError`). */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GateFailure'];
        };
      };
      413: components['responses']['TooLarge'];
    };
  };
  rollbackModel: {
    parameters: {
      query?: {
        /**
         * @description A notebook whose store to use (relative to the server root, ending in
         *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
         *     folder).
         */
        path?: components['parameters']['StorePath'];
      };
      header?: never;
      path: {
        /** @description A model name. */
        name: components['parameters']['ModelName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ModelRollback'];
      };
    };
    responses: {
      /** @description What the rollback did. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Promotion'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  approveModelVersion: {
    parameters: {
      query?: {
        /**
         * @description A notebook whose store to use (relative to the server root, ending in
         *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
         *     folder).
         */
        path?: components['parameters']['StorePath'];
      };
      header?: never;
      path: {
        /** @description A model name. */
        name: components['parameters']['ModelName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ModelApprove'];
      };
    };
    responses: {
      /** @description The approval event. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RegistryEvent'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  setModelGates: {
    parameters: {
      query?: {
        /**
         * @description A notebook whose store to use (relative to the server root, ending in
         *     `.ipynb`); without it, the server's store (`MlvcApp.store_root`, or the root
         *     folder).
         */
        path?: components['parameters']['StorePath'];
      };
      header?: never;
      path: {
        /** @description A model name. */
        name: components['parameters']['ModelName'];
        /** @description An alias of a model (`production`, `staging`...). */
        alias: components['parameters']['Alias'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['GateSettingsUpdate'];
      };
    };
    responses: {
      /** @description The model with its gates. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ModelInfo'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
      409: components['responses']['Conflict'];
      413: components['responses']['TooLarge'];
    };
  };
  getLineage: {
    parameters: {
      query?: {
        /** @description The notebook (required with `rev`), as in the other routes. */
        path?: string;
        rev?: components['schemas']['Revision'];
        /** @description A model version, `NAME[@VERSION|@ALIAS]`. */
        model?: string;
        /** @description Data hops to follow upstream (default 8). */
        depth?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The lineage graph. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Lineage'];
        };
      };
      400: components['responses']['BadRequest'];
      403: components['responses']['Forbidden'];
      404: components['responses']['NotFound'];
    };
  };
}
