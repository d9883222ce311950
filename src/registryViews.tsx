/**
 * The registry's dialogs (register, promote, approve, gates, rollback) and the
 * main-area lineage view.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { LineageView, MermaidRenderer } from './components/LineageView';
import { GateResults } from './components/ModelsView';
import { COMMON_ALIASES, IGateCheck } from './registry';
import { Mlvc, Registry } from './tokens';
import { AsyncView } from './views';

/** A counter for unique ids. */
let nextId = 0;

/**
 * A labelled field in a dialog body.
 */
function field(
  parent: HTMLElement,
  label: string,
  input: HTMLElement,
  cls: string
): void {
  const row = document.createElement('label');
  row.className = `jp-mlvc-field ${cls}`;
  const span = document.createElement('span');
  span.className = 'jp-mlvc-field-label';
  span.textContent = label;
  row.appendChild(span);
  row.appendChild(input);
  parent.appendChild(row);
}

function textInput(
  name: string,
  value = '',
  placeholder = '',
  options: ReadonlyArray<string> = []
): HTMLInputElement {
  const input = document.createElement('input');
  input.type = 'text';
  input.className = 'jp-mod-styled';
  input.name = name;
  input.value = value;
  input.placeholder = placeholder;
  if (options.length) {
    const list = document.createElement('datalist');
    list.id = `jp-mlvc-${name}-options-${nextId++}`;
    for (const option of options) {
      const el = document.createElement('option');
      el.value = option;
      list.appendChild(el);
    }
    input.setAttribute('list', list.id);
    input.appendChild(list);
  }
  return input;
}

function paragraph(parent: HTMLElement, text: string, cls?: string): void {
  const p = document.createElement('p');
  p.textContent = text;
  if (cls) {
    p.className = cls;
  }
  parent.appendChild(p);
}

/**
 * The aliases to offer: the model's, then the common ones.
 */
function aliasOptions(model?: Registry.IModelInfo): string[] {
  return [
    ...new Set([
      ...Object.keys(model?.aliases ?? {}),
      ...Object.keys(model?.gates ?? {}),
      ...COMMON_ALIASES
    ])
  ];
}

/**
 * What the Register dialog asks.
 */
export interface IRegisterValue {
  /** The model's name. */
  name: string;
  /** The variable of the commit. */
  variable: string;
  /** Why this version. */
  message: string;
}

/**
 * The body of the Register Model dialog: the variable, the model's name, a message.
 */
export class RegisterBody extends Widget {
  constructor(
    commit: Mlvc.ICommitSummary,
    variables: ReadonlyArray<string>,
    models: ReadonlyArray<string>,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlvc-RegisterBody');
    paragraph(
      this.node,
      trans.__(
        'Register a variable of %1 "%2" as the next version of a model.',
        commit.short_id,
        commit.message || trans.__('(no message)')
      )
    );
    this._variable = document.createElement('select');
    this._variable.className = 'jp-mod-styled';
    this._variable.name = 'variable';
    for (const name of variables) {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name;
      this._variable.appendChild(option);
    }
    field(
      this.node,
      trans.__('Variable'),
      this._variable,
      'jp-mlvc-field-variable'
    );
    this._name = textInput(
      'model',
      models.length === 1 ? models[0] : '',
      trans.__('e.g. churn'),
      models
    );
    field(this.node, trans.__('Model'), this._name, 'jp-mlvc-field-model');
    this._message = textInput('message', '', trans.__('optional'));
    field(
      this.node,
      trans.__('Message'),
      this._message,
      'jp-mlvc-field-message'
    );
  }

  /** The answers. */
  getValue(): IRegisterValue {
    return {
      name: this._name.value.trim(),
      variable: this._variable.value,
      message: this._message.value.trim()
    };
  }

  private _variable: HTMLSelectElement;
  private _name: HTMLInputElement;
  private _message: HTMLInputElement;
}

/**
 * The body of the first Promote dialog: the alias and the reason.
 */
export class PromoteBody extends Widget {
  constructor(
    model: Registry.IModelInfo | undefined,
    version: number,
    trans: TranslationBundle,
    alias = ''
  ) {
    super();
    this.addClass('jp-mlvc-PromoteBody');
    paragraph(
      this.node,
      trans.__(
        'Move an alias to %1 version %2. Its gates are checked first; nothing changes until you confirm.',
        model?.name ?? '',
        version
      )
    );
    const options = aliasOptions(model);
    this._alias = textInput('alias', alias || options[0], '', options);
    field(this.node, trans.__('Alias'), this._alias, 'jp-mlvc-field-alias');
    this._reason = textInput('reason', '', trans.__('why this version'));
    field(this.node, trans.__('Reason'), this._reason, 'jp-mlvc-field-reason');
  }

  /** The alias and the reason. */
  getValue(): { alias: string; reason: string } {
    return {
      alias: this._alias.value.trim(),
      reason: this._reason.value.trim()
    };
  }

  private _alias: HTMLInputElement;
  private _reason: HTMLInputElement;
}

/**
 * The body of the Approve dialog: the alias and a comment.
 */
export class ApproveBody extends Widget {
  constructor(
    model: Registry.IModelInfo | undefined,
    version: number,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlvc-ApproveBody');
    paragraph(
      this.node,
      trans.__(
        'Approve %1 version %2 for an alias. An approvals gate counts users other than the one who promotes.',
        model?.name ?? '',
        version
      )
    );
    const options = aliasOptions(model);
    this._alias = textInput('alias', options[0], '', options);
    field(this.node, trans.__('Alias'), this._alias, 'jp-mlvc-field-alias');
    this._comment = textInput('comment', '', trans.__('optional'));
    field(
      this.node,
      trans.__('Comment'),
      this._comment,
      'jp-mlvc-field-comment'
    );
  }

  /** The alias and the comment. */
  getValue(): { alias: string; comment: string } {
    return {
      alias: this._alias.value.trim(),
      comment: this._comment.value.trim()
    };
  }

  private _alias: HTMLInputElement;
  private _comment: HTMLInputElement;
}

/**
 * The body of the Gates dialog: the metric condition, the evaluation, approvals.
 */
export class GatesBody extends Widget {
  constructor(
    model: Registry.IModelInfo | undefined,
    alias: string,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlvc-GatesBody');
    const gates: Registry.IGates = model?.gates?.[alias] ?? {};
    paragraph(
      this.node,
      trans.__(
        'What a version must pass before %1 of %2 moves to it.',
        alias,
        model?.name ?? ''
      )
    );
    this._metrics = textInput(
      'metrics',
      gates.metrics ?? '',
      trans.__('e.g. metrics.auc >= 0.8')
    );
    field(
      this.node,
      trans.__('Metrics condition'),
      this._metrics,
      'jp-mlvc-field-metrics'
    );
    this._evaluated = document.createElement('input');
    this._evaluated.type = 'checkbox';
    this._evaluated.name = 'evaluated';
    this._evaluated.checked = Boolean(gates.evaluated);
    const row = document.createElement('label');
    row.className = 'jp-mlvc-checkRow jp-mlvc-field-evaluated';
    row.appendChild(this._evaluated);
    row.appendChild(
      document.createTextNode(
        ' ' +
          trans.__(
            'Evaluated against the current holder, and not worse than it'
          )
      )
    );
    this.node.appendChild(row);
    this._approvals = document.createElement('input');
    this._approvals.type = 'number';
    this._approvals.min = '0';
    this._approvals.max = '100';
    this._approvals.className = 'jp-mod-styled';
    this._approvals.name = 'approvals';
    this._approvals.value = String(gates.approvals ?? 0);
    field(
      this.node,
      trans.__('Approvals by other users'),
      this._approvals,
      'jp-mlvc-field-approvals'
    );
  }

  /** The gates. */
  getValue(): Registry.IGates {
    const approvals = Math.max(0, Math.floor(Number(this._approvals.value)));
    return {
      metrics: this._metrics.value.trim() || null,
      evaluated: this._evaluated.checked,
      approvals: Number.isFinite(approvals) ? approvals : 0
    };
  }

  private _metrics: HTMLInputElement;
  private _evaluated: HTMLInputElement;
  private _approvals: HTMLInputElement;
}

/**
 * The body of the Roll Back dialog: the move, what the gates say of the version
 * it goes back to (a dry run), and the reason.
 */
export class RollbackBody extends ReactWidget {
  constructor(
    private readonly _name: string,
    private readonly _alias: string,
    private readonly _current: number | undefined,
    private readonly _previous: number | null,
    private readonly _check: IGateCheck | null,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlvc-RollbackBody');
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const [name, alias] = [this._name, this._alias];
    return (
      <>
        <p>
          {this._previous !== null && this._current !== undefined
            ? trans.__(
                '%1 of %2 goes back from version %3 to version %4, which held it before.',
                alias,
                name,
                this._current,
                this._previous
              )
            : trans.__(
                '%1 of %2 goes back to the version that held it before.',
                alias,
                name
              )}
        </p>
        {this._check && (
          <>
            <p className="jp-mlvc-RollbackBody-gates">
              {trans.__(
                'What the gates of %1 say of version %2 now (a rollback does not wait for them: it is the way back):',
                alias,
                this._previous
              )}
            </p>
            {this._check.error ? (
              <p className="jp-mlvc-error">{this._check.error}</p>
            ) : (
              <GateResults gates={this._check.gates} trans={trans} />
            )}
          </>
        )}
        <label className="jp-mlvc-field jp-mlvc-field-reason">
          <span className="jp-mlvc-field-label">{trans.__('Reason')}</span>
          <input
            type="text"
            name="reason"
            className="jp-mod-styled"
            placeholder={trans.__('why roll back')}
            onChange={event => {
              this._reason = event.target.value;
            }}
          />
        </label>
      </>
    );
  }

  /** The reason. */
  getValue(): string {
    return this._reason.trim();
  }

  private _reason = '';
}

/**
 * What a promotion would do and what its gates say (the second Promote dialog).
 */
export function PromotionCheck(props: {
  name: string;
  version: number;
  alias: string;
  check: IGateCheck;
  trans: TranslationBundle;
}): JSX.Element {
  const { name, version, alias, check, trans } = props;
  return (
    <div className="jp-mlvc-PromotionCheck">
      <p>
        {check.previous === null
          ? trans.__('%1 of %2: none → version %3', alias, name, version)
          : trans.__(
              '%1 of %2: version %3 → version %4',
              alias,
              name,
              check.previous,
              version
            )}
      </p>
      {check.error ? (
        <p className="jp-mlvc-error" role="alert">
          {check.error}
        </p>
      ) : (
        <GateResults gates={check.gates} trans={trans} />
      )}
      <p
        className={
          'jp-mlvc-PromotionCheck-verdict ' +
          (check.ok ? 'jp-mlvc-mod-passed' : 'jp-mlvc-mod-failed')
        }
        role="status"
      >
        {check.ok
          ? trans.__('Every gate passes: the promotion can go ahead.')
          : check.error
            ? trans.__('The gates could not be checked: nothing changes.')
            : trans.__(
                'A gate failed: the promotion is refused and nothing changes.'
              )}
      </p>
    </div>
  );
}

/**
 * A main-area widget with the lineage of a model version or a commit.
 *
 * @param load - Fetches the lineage.
 * @param label - The tab's label and the view's title.
 * @param trans - The translation bundle of the extension.
 * @param render - Draws the Mermaid graph; the Mermaid text is shown when omitted.
 * @returns The widget, to add to the shell.
 */
export function createLineageWidget(
  load: () => Promise<Registry.ILineage>,
  label: string,
  trans: TranslationBundle,
  render?: MermaidRenderer
): MainAreaWidget {
  const content = new AsyncView<Registry.ILineage>(
    load,
    lineage => (
      <LineageView
        lineage={lineage}
        title={label}
        trans={trans}
        render={render}
      />
    ),
    trans
  );
  const widget = new MainAreaWidget({ content });
  widget.id = `mlvc-lineage-${nextId++}`;
  widget.addClass('jp-mlvc-LineageWidget');
  widget.title.label = label;
  widget.title.closable = true;
  return widget;
}
