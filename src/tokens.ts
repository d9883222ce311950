/**
 * Public identifiers of the extension and the names the frontend uses for the
 * wire types of the mlvc REST API.
 *
 * The wire types are not written here: they are generated into `wire.ts` from
 * `mlvc_server/openapi.yaml` (`jlpm gen:wire`; `jlpm check:wire` and the Jest
 * suite fail when the two differ), so the server's description and the
 * frontend cannot drift apart.
 */
import type { components } from './wire';

/**
 * The id of the main plugin.
 */
export const PLUGIN_ID = 'jupyterlab-mlvc:plugin';

/**
 * The DOM id of the Experiments side panel.
 */
export const PANEL_ID = 'mlvc-experiments';

type Schemas = components['schemas'];

/**
 * Wire types of the mlvc REST API, by the names the frontend uses.
 */
export namespace Mlvc {
  /**
   * A JSON value as the server sends it (params, metrics, diff values).
   */
  export type JSONValue = unknown;

  /** One commit as `GET /mlvc/log` lists it. */
  export type ICommitSummary = Schemas['CommitSummary'];
  /** A branch. */
  export type IBranch = Schemas['Branch'];
  /** A tag. */
  export type ITag = Schemas['Tag'];
  /** The body of `GET /mlvc/log`. */
  export type ILogResponse = Schemas['Log'];
  /** The body of `GET /mlvc/status`. */
  export type IStatus = Schemas['Status'];
  /** The body of `POST /mlvc/commits`. */
  export type ICommitCreated = Schemas['CommitCreated'];
  /** One commit's full record (`GET /mlvc/commits/{rev}`). */
  export type ICommitRecord = Schemas['CommitRecord'];
  /** The body of `GET /mlvc/diff`. */
  export type IDiff = Schemas['Diff'];
  /** One cell of one side of a notebook diff. */
  export type ICellSide = Schemas['CellSide'];
  /** Both notebooks' cells paired in order (`notebook.cell_view`). */
  export type ICellPair = Schemas['CellPair'];
  /** The body of `GET /mlvc/compare`. */
  export type ICompare = Schemas['Compare'];
  export type ISweepRequest = Schemas['SweepRequest'];
  export type ISweepReport = Schemas['SweepReport'];
  /** One row of the compare table: a commit. */
  export type ICompareRow = Schemas['CompareRow'];
  /** A remote of the store (`GET /mlvc/remotes`). */
  export type IRemote = Schemas['Remote'];
  /** The body of `GET /mlvc/remotes`. */
  export type IRemoteList = Schemas['RemoteList'];
  /** What a push or pull did to one ref. */
  export type IRefUpdate = Schemas['RefUpdate'];
  export type ISyncReport = Schemas['SyncReport'];
  /** A push or pull running on the server (`GET /mlvc/jobs/{job}`). */
  export type IJob = Schemas['Job'];
  /** The body of `GET /mlvc/series`. */
  export type ISeries = Schemas['Series'];
  /** The body of `POST /mlvc/checkout`. */
  export type ICheckout = Schemas['Checkout'];
  /** The body of `POST /mlvc/restore`. */
  export type IRestore = Schemas['Restore'];
  /** The body of `POST /mlvc/branches`. */
  export type IBranchCreate = Schemas['BranchCreate'];
  /** The body of `PATCH /mlvc/branches/{name}`. */
  export type IBranchUpdate = Schemas['BranchUpdate'];
  /** The body of `POST /mlvc/tags`. */
  export type ITagCreate = Schemas['TagCreate'];
  /** The body of `POST /mlvc/commits`. */
  export type ICommitRequest = Schemas['CommitRequest'];
  /** The body of `POST /mlvc/checkout`. */
  export type ICheckoutRequest = Schemas['CheckoutRequest'];
  /** The body of `POST /mlvc/restore`. */
  export type IRestoreRequest = Schemas['RestoreRequest'];
  /** The body of `POST /mlvc/push`. */
  export type IPushRequest = Schemas['PushRequest'];
  /** What a checkout brings back. */
  export type CheckoutMode = NonNullable<ICheckoutRequest['mode']>;
  /** The body of `GET /mlvc/data/diff`. */
  export type IDataFilesDiff = Schemas['DataFilesDiff'];
  /** One data file of {@link IDataFilesDiff}. */
  export type IDataFileDiff = IDataFilesDiff['files'][number];
  /** The body of `POST /mlvc/data/checkout`. */
  export type IDataCheckoutRequest = Schemas['DataCheckoutRequest'];
  /** The answer of `POST /mlvc/data/checkout`. */
  export type IDataCheckout = Schemas['DataCheckout'];
  /** The body of `POST /mlvc/data/undo`. */
  export type IDataUndoRequest = Schemas['DataUndoRequest'];
  /** The answer of `POST /mlvc/data/undo`. */
  export type IDataUndo = Schemas['DataUndo'];

  // The report of POST /mlvc/evaluations, as the panel reads it (the spec
  // describes it loosely; these are the fields src/evaluation.tsx shows).
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
 * Wire types of the model registry and lineage REST API (issue 17), by the names
 * the panel uses.
 */
export namespace Registry {
  /** One registered version of a model. */
  export type IModelVersion = Schemas['ModelVersion'];
  /** The gates an alias checks before it moves. */
  export type IGates = Schemas['GateSettingsUpdate'];
  /** A model: its versions (newest first), aliases and their gates. */
  export type IModelInfo = Schemas['ModelInfo'];
  /** The body of `GET /mlvc/models`. */
  export type IModelList = Schemas['ModelList'];
  /** The outcome of one gate. */
  export type IGateResult = Schemas['GateResult'];
  /** One event of a model's history (register, promote, rollback, approve...). */
  export type IRegistryEvent = Schemas['RegistryEvent'];
  /** The body of `GET /mlvc/models/{name}/history`. */
  export type IHistory = Schemas['RegistryEventList'];
  /** What a promotion or rollback did (or, for a dry run, would do). */
  export type IPromotion = Schemas['Promotion'];
  /** The body of a 409 when a gate refuses a promotion. */
  export type IGateFailure = Schemas['GateFailure'];
  /** The body of `POST /mlvc/models/{name}/versions`. */
  export type IRegisterRequest = Schemas['ModelRegister'];
  /** The body of `POST /mlvc/models/{name}/promote`. */
  export type IPromoteRequest = Schemas['ModelPromote'];
  /** The body of `POST /mlvc/models/{name}/rollback`. */
  export type IRollbackRequest = Schemas['ModelRollback'];
  /** The body of `POST /mlvc/models/{name}/approvals`. */
  export type IApproveRequest = Schemas['ModelApprove'];
  /** One node of a lineage graph (`kind` says which optional fields it has). */
  export type ILineageNode = Schemas['LineageNode'];
  /** One edge of a lineage graph. */
  export type ILineageEdge = Schemas['LineageEdge'];
  /** The body of `GET /mlvc/lineage`. */
  export type ILineage = Schemas['Lineage'];
}

/**
 * Command ids.
 */
export namespace CommandIDs {
  export const commit = 'mlvc:commit';
  export const diff = 'mlvc:diff';
  export const compare = 'mlvc:compare';
  export const startSweep = 'mlvc:start-sweep';
  export const checkout = 'mlvc:checkout';
  export const newBranch = 'mlvc:new-branch';
  export const tag = 'mlvc:tag';
  export const restore = 'mlvc:restore';
  export const copyId = 'mlvc:copy-id';
  export const push = 'mlvc:push';
  export const pull = 'mlvc:pull';
  export const refresh = 'mlvc:refresh';
  export const showPanel = 'mlvc:show-panel';
  export const openSettings = 'mlvc:open-settings';
  export const evaluate = 'mlvc:evaluate';
  export const dataCheckout = 'mlvc:data-checkout';
}

/**
 * Command ids of the model registry (src/registryCommands.ts).
 */
export namespace RegistryCommandIDs {
  export const registerModel = 'mlvc:register-model';
  export const promoteModel = 'mlvc:promote-model';
  export const rollbackModel = 'mlvc:rollback-model';
  export const approveModel = 'mlvc:approve-model';
  export const modelGates = 'mlvc:model-gates';
  export const lineage = 'mlvc:lineage';
  export const refreshModels = 'mlvc:refresh-models';
}
