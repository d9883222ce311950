import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { describeGates, IModelsState } from '../registry';
import { Registry } from '../tokens';
import { formatAge } from './CommitList';

/**
 * What the Models section's controls do.
 */
export interface IModelsActions {
  /** Open a version's actions menu (promote, approve, lineage) at a point. */
  menu: (name: string, version: number, x: number, y: number) => void;
  /** Roll an alias back (a dialog asks why first). */
  rollback: (name: string, alias: string) => void;
  /** Edit an alias's gates. */
  gates: (name: string, alias: string) => void;
  /** Fetch the models again. */
  refresh: () => void;
}

/**
 * Props of {@link ModelsView}.
 */
interface IModelsViewProps {
  /** The state to render. */
  state: IModelsState;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
  /** What the controls do; read-only when omitted. */
  actions?: IModelsActions;
  /** The time ages are computed against; now when omitted. */
  now?: Date;
}

/** Code the empty state shows; code is not translated. */
const MAGIC_REGISTER = '%mlvc model register NAME REV VARIABLE';

/**
 * The Models section: each registered model with its aliases (and their gates)
 * and its versions, newest first.
 */
export function ModelsView(props: IModelsViewProps): JSX.Element {
  const { state, trans } = props;
  const [collapsed, setCollapsed] = React.useState<ReadonlySet<string>>(
    () => new Set()
  );
  const toggle = (name: string): void =>
    setCollapsed(old => {
      const next = new Set(old);
      if (!next.delete(name)) {
        next.add(name);
      }
      return next;
    });
  let body: JSX.Element;
  if (state.status === 'no-notebook') {
    body = (
      <p className="jp-mlvc-message">
        {trans.__('Open a notebook to see the models of its store.')}
      </p>
    );
  } else if (state.status === 'error') {
    body = (
      <div className="jp-mlvc-message jp-mlvc-error" role="alert">
        <p>{trans.__('Could not load the models.')}</p>
        <p className="jp-mlvc-error-detail">{state.error}</p>
      </div>
    );
  } else if (state.models.length === 0) {
    body =
      state.status === 'loading' ? (
        <p className="jp-mlvc-message">{trans.__('Loading models…')}</p>
      ) : (
        <p className="jp-mlvc-message jp-mlvc-empty">
          {trans.__(
            'No models yet. Register one from a commit: its ⋯ menu, Register Model…; or'
          )}{' '}
          <code>{MAGIC_REGISTER}</code>
        </p>
      );
  } else {
    body = (
      <ul className="jp-mlvc-ModelList" aria-label={trans.__('Models')}>
        {state.models.map(model => (
          <ModelItem
            key={model.name}
            model={model}
            open={!collapsed.has(model.name)}
            onToggle={() => toggle(model.name)}
            trans={trans}
            actions={props.actions}
            now={props.now ?? new Date()}
          />
        ))}
      </ul>
    );
  }
  return (
    <div className="jp-mlvc-ModelsView" aria-busy={state.status === 'loading'}>
      <ModelsStatus state={state} trans={trans} />
      {body}
    </div>
  );
}

/**
 * The busy line or the outcome of the last registry action.
 */
function ModelsStatus(props: {
  state: IModelsState;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { state, trans } = props;
  const busyText: { [key: string]: string } = {
    register: trans.__('Registering…'),
    promote: trans.__('Promoting…'),
    rollback: trans.__('Rolling back…'),
    approve: trans.__('Approving…'),
    gates: trans.__('Setting gates…')
  };
  if (state.busy) {
    return (
      <p className="jp-mlvc-status jp-mlvc-busy" role="status">
        {busyText[state.busy] ?? trans.__('Working…')}
      </p>
    );
  }
  if (state.actionError) {
    return (
      <p className="jp-mlvc-status jp-mlvc-error" role="alert">
        {state.actionError}
      </p>
    );
  }
  if (state.result) {
    return (
      <p className="jp-mlvc-status jp-mlvc-models-result" role="status">
        {state.result}
      </p>
    );
  }
  return null;
}

/**
 * One model: a header that folds it, its aliases, its versions.
 */
function ModelItem(props: {
  model: Registry.IModelInfo;
  open: boolean;
  onToggle: () => void;
  trans: TranslationBundle;
  actions?: IModelsActions;
  now: Date;
}): JSX.Element {
  const { model, trans, actions } = props;
  const aliases = Object.entries(model.aliases ?? {}).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  // Aliases with gates but no holder yet are shown too: their gates apply.
  for (const alias of Object.keys(model.gates ?? {})) {
    if (!(alias in (model.aliases ?? {}))) {
      aliases.push([alias, NaN]);
    }
  }
  const count = model.versions.length;
  return (
    <li className="jp-mlvc-Model" data-model={model.name}>
      <button
        className="jp-mlvc-Model-header"
        aria-expanded={props.open}
        onClick={props.onToggle}
        title={model.name}
      >
        <span className="jp-mlvc-Model-caret" aria-hidden="true">
          {props.open ? '▾' : '▸'}
        </span>
        <span className="jp-mlvc-Model-name">{model.name}</span>
        <span className="jp-mlvc-Model-count">
          {count === 1 ? trans.__('1 version') : trans.__('%1 versions', count)}
        </span>
      </button>
      {props.open && (
        <>
          {aliases.length > 0 && (
            <ul
              className="jp-mlvc-AliasList"
              aria-label={trans.__('Aliases of %1', model.name)}
            >
              {aliases.map(([alias, version]) => (
                <AliasRow
                  key={alias}
                  model={model}
                  alias={alias}
                  version={version}
                  trans={trans}
                  actions={actions}
                />
              ))}
            </ul>
          )}
          <ul
            className="jp-mlvc-VersionList"
            aria-label={trans.__('Versions of %1', model.name)}
          >
            {model.versions.map(v => (
              <VersionRow
                key={v.version}
                version={v}
                trans={trans}
                actions={actions}
                now={props.now}
              />
            ))}
          </ul>
        </>
      )}
    </li>
  );
}

/**
 * An alias: the version it points at, its gates, Roll back and Gates….
 */
function AliasRow(props: {
  model: Registry.IModelInfo;
  alias: string;
  version: number;
  trans: TranslationBundle;
  actions?: IModelsActions;
}): JSX.Element {
  const { model, alias, version, trans, actions } = props;
  const gates = describeGates(model.gates?.[alias], trans);
  const held = !Number.isNaN(version);
  return (
    <li className="jp-mlvc-Alias" data-alias={alias}>
      <div className="jp-mlvc-Alias-line">
        <span className="jp-mlvc-chip jp-mlvc-chip-alias">{alias}</span>
        <span className="jp-mlvc-Alias-version">
          {held ? trans.__('→ v%1', version) : trans.__('(no version yet)')}
        </span>
        {actions && (
          <span className="jp-mlvc-Alias-actions">
            <button
              className="jp-mlvc-linkButton"
              title={trans.__('Set the gates of %1', alias)}
              aria-label={trans.__('Gates of %1', alias)}
              onClick={() => actions.gates(model.name, alias)}
            >
              {trans.__('Gates')}
            </button>
            {held && (
              <button
                className="jp-mlvc-linkButton"
                title={trans.__(
                  'Move %1 back to the version that held it before',
                  alias
                )}
                aria-label={trans.__('Roll back %1', alias)}
                onClick={() => actions.rollback(model.name, alias)}
              >
                {trans.__('Roll back')}
              </button>
            )}
          </span>
        )}
      </div>
      <div className="jp-mlvc-Alias-gates">
        {gates.length
          ? gates.map(g => (
              <span key={g} className="jp-mlvc-gate" title={g}>
                {g}
              </span>
            ))
          : trans.__('no gates')}
      </div>
    </li>
  );
}

/**
 * A version: number, aliases, variable, commit, author, age, headline metrics.
 */
function VersionRow(props: {
  version: Registry.IModelVersion;
  trans: TranslationBundle;
  actions?: IModelsActions;
  now: Date;
}): JSX.Element {
  const { version: v, trans, actions } = props;
  const time = new Date(v.time);
  const metrics = Object.entries(v.metrics ?? {})
    .filter(([, value]) => typeof value === 'number')
    .slice(0, 2)
    .map(([k, value]) => `${k} ${Number((value as number).toPrecision(3))}`);
  const open = (x: number, y: number): void =>
    actions?.menu(v.name, v.version, x, y);
  return (
    <li
      className="jp-mlvc-Version"
      data-version={v.version}
      tabIndex={0}
      title={v.message || undefined}
      onContextMenu={event => {
        if (actions) {
          event.preventDefault();
          event.stopPropagation();
          open(event.clientX, event.clientY);
        }
      }}
    >
      <div className="jp-mlvc-Version-header">
        <span className="jp-mlvc-Version-number">
          {trans.__('v%1', v.version)}
        </span>
        {(v.aliases ?? []).map(a => (
          <span key={a} className="jp-mlvc-chip jp-mlvc-chip-alias">
            {a}
          </span>
        ))}
        <span className="jp-mlvc-Version-variable" title={v.kind ?? ''}>
          {v.variable}
        </span>
        <time
          className="jp-mlvc-CommitRow-time"
          dateTime={v.time}
          title={isNaN(time.getTime()) ? v.time : time.toLocaleString()}
        >
          {formatAge(time, props.now, trans)}
        </time>
        {actions && (
          <button
            className="jp-mlvc-CommitRow-more"
            aria-label={trans.__('Actions of version %1', v.version)}
            title={trans.__('Promote, approve, lineage')}
            onClick={event => {
              event.stopPropagation();
              const box = event.currentTarget.getBoundingClientRect();
              open(box.left, box.bottom);
            }}
          >
            ⋯
          </button>
        )}
      </div>
      <div className="jp-mlvc-Version-details">
        <span className="jp-mlvc-CommitRow-id" title={v.commit}>
          {v.short_id}
        </span>
        <span>{v.registered_by}</span>
        {metrics.map(m => (
          <span key={m} className="jp-mlvc-Version-metric">
            {m}
          </span>
        ))}
      </div>
    </li>
  );
}

/**
 * Gate results as a list: ✓ or ✗, the gate, what it found.
 *
 * @param props - The results, and the translation bundle.
 */
export function GateResults(props: {
  gates: ReadonlyArray<Registry.IGateResult>;
  trans: TranslationBundle;
}): JSX.Element {
  const { gates, trans } = props;
  if (gates.length === 0) {
    return (
      <p className="jp-mlvc-gates-none">
        {trans.__('No gates are set for this alias.')}
      </p>
    );
  }
  const names: { [gate: string]: string } = {
    metrics: trans.__('Metrics'),
    evaluated: trans.__('Evaluated'),
    approvals: trans.__('Approvals')
  };
  return (
    <ul className="jp-mlvc-GateResults" aria-label={trans.__('Gate results')}>
      {gates.map((g, i) => (
        <li
          key={`${g.gate}-${i}`}
          className={
            'jp-mlvc-GateResult ' +
            (g.ok ? 'jp-mlvc-mod-passed' : 'jp-mlvc-mod-failed')
          }
          data-gate={g.gate}
        >
          <span
            className="jp-mlvc-GateResult-mark"
            role="img"
            aria-label={g.ok ? trans.__('passed') : trans.__('failed')}
          >
            {g.ok ? '✓' : '✗'}
          </span>
          <span className="jp-mlvc-GateResult-gate">
            {names[g.gate] ?? g.gate}
          </span>
          <span className="jp-mlvc-GateResult-detail">{g.detail}</span>
        </li>
      ))}
    </ul>
  );
}
