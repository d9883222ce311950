/**
 * Main-area views (Diff, Compare) and the dialogs of the row actions.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { loadVegaEmbed } from './charts';
import { CompareView, ICompareCharts } from './components/CompareView';
import { DataChanges } from './components/DataChanges';
import { DiffView } from './components/DiffView';
import { Mlvc } from './tokens';

/** A counter for unique widget ids. */
let nextViewId = 0;

/**
 * A React widget that loads its data once, then renders it.
 */
export class AsyncView<T> extends ReactWidget {
  constructor(
    load: () => Promise<T>,
    private readonly _render: (data: T) => JSX.Element,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlvc-MainView');
    load().then(
      data => {
        this._data = data;
        this.update();
      },
      reason => {
        this._error = String(reason?.message ?? reason);
        this.update();
      }
    );
  }

  protected render(): JSX.Element {
    if (this._error !== null) {
      return (
        <p className="jp-mlvc-message jp-mlvc-error" role="alert">
          {this._error}
        </p>
      );
    }
    if (this._data === null) {
      return <p className="jp-mlvc-message">{this._trans.__('Loading…')}</p>;
    }
    return this._render(this._data);
  }

  private _data: T | null = null;
  private _error: string | null = null;
}

/**
 * A main-area widget with the diff of two commits.
 *
 * @param load - Fetches the diff.
 * @param label - The tab's label.
 * @param trans - The translation bundle of the extension.
 * @param showOutputs - Show cell outputs at first.
 * @param loadData - Fetches the data files' sizes, rows and columns.
 * @returns The widget, to add to the shell.
 */
export function createDiffWidget(
  load: () => Promise<Mlvc.IDiff>,
  label: string,
  trans: TranslationBundle,
  showOutputs = false,
  loadData?: () => Promise<Mlvc.IDataFilesDiff>
): MainAreaWidget {
  const content = new AsyncView<Mlvc.IDiff>(
    load,
    diff => (
      <DiffView
        diff={diff}
        trans={trans}
        showOutputs={showOutputs}
        data={loadData && <DataChanges load={loadData} trans={trans} />}
      />
    ),
    trans
  );
  const widget = new MainAreaWidget({ content });
  widget.id = `mlvc-diff-${nextViewId++}`;
  widget.title.label = label;
  widget.title.closable = true;
  return widget;
}

/**
 * What the compare view shows.
 */
interface ICompareData {
  /** The params/metrics table. */
  compare: Mlvc.ICompare;
  /** The metric series. */
  series: Mlvc.ISeries;
  /** The Vega-Lite charts. */
  charts?: ICompareCharts;
}

/**
 * The selection the compare view shares with the Experiments panel.
 */
interface ISelectionLink {
  /** Emitted when the selection may have changed. */
  changed: ISignal<any, any>;
  /** The selected commit ids. */
  selected: () => ReadonlyArray<string>;
  /** Select or unselect a commit. */
  toggle: (id: string) => void;
  /** Open the diff of two commits. */
  diff: (a: string, b: string) => void;
}

/**
 * A main-area widget with the compare table and chart.
 *
 * @param load - Fetches the table.
 * @param label - The tab's label.
 * @param trans - The translation bundle of the extension.
 * @param link - The selection shared with the panel.
 * @returns The widget, to add to the shell.
 */
export function createCompareWidget(
  load: () => Promise<ICompareData>,
  label: string,
  trans: TranslationBundle,
  link: ISelectionLink
): MainAreaWidget {
  // vega-embed loads while the table is fetched (its failure is the charts' to tell)
  loadVegaEmbed().catch(() => undefined);
  const content = new AsyncView<ICompareData>(
    load,
    data => (
      <UseSignal signal={link.changed}>
        {() => (
          <CompareView
            compare={data.compare}
            series={data.series}
            charts={data.charts}
            selected={link.selected()}
            onToggle={link.toggle}
            onDiff={link.diff}
            trans={trans}
          />
        )}
      </UseSignal>
    ),
    trans
  );
  const widget = new MainAreaWidget({ content });
  widget.id = `mlvc-compare-${nextViewId++}`;
  widget.title.label = label;
  widget.title.closable = true;
  return widget;
}

/**
 * The body of the Checkout dialog: what is replaced, and the mode.
 */
export class CheckoutBody extends Widget {
  constructor(
    commit: Mlvc.ICommitSummary,
    notebookPath: string,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlvc-CheckoutBody');
    const p = (text: string, cls?: string) => {
      const el = document.createElement('p');
      el.textContent = text;
      if (cls) {
        el.className = cls;
      }
      this.node.appendChild(el);
    };
    const names = commit.variables ?? [];
    p(
      trans.__(
        'Check out %1 "%2".',
        commit.short_id,
        commit.message || trans.__('(no message)')
      )
    );
    p(
      names.length
        ? trans.__(
            'This replaces the notebook %1 and %2 variables: %3.',
            notebookPath,
            names.length,
            names.join(', ')
          )
        : trans.__('This replaces the notebook %1.', notebookPath)
    );
    p(
      trans.__('Your current state is committed first as a safety commit.'),
      'jp-mlvc-safety'
    );
    const group = document.createElement('fieldset');
    group.className = 'jp-mlvc-modes';
    const legend = document.createElement('legend');
    legend.textContent = trans.__('Bring back');
    group.appendChild(legend);
    const modes: [Mlvc.CheckoutMode, string][] = [
      ['both', trans.__('Notebook and variables')],
      ['variables', trans.__('Variables only')],
      ['notebook', trans.__('Notebook only')]
    ];
    for (const [mode, label] of modes) {
      const row = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'jp-mlvc-checkout-mode';
      input.value = mode;
      input.checked = mode === 'both';
      this._inputs.push(input);
      row.appendChild(input);
      row.appendChild(document.createTextNode(' ' + label));
      group.appendChild(row);
    }
    this.node.appendChild(group);
  }

  /**
   * The chosen mode.
   */
  getValue(): Mlvc.CheckoutMode {
    const checked = this._inputs.find(i => i.checked);
    return (checked?.value ?? 'both') as Mlvc.CheckoutMode;
  }

  private _inputs: HTMLInputElement[] = [];
}

/**
 * The body of the Restore dialog: a checkbox per variable.
 */
export class RestoreBody extends Widget {
  /**
   * @param names - The variables the commit holds.
   * @param trans - The translation bundle.
   * @param source - The commit they come from, as the user knows it (id, message).
   */
  constructor(names: string[], trans: TranslationBundle, source?: string) {
    super();
    this.addClass('jp-mlvc-RestoreBody');
    if (source) {
      const from = document.createElement('p');
      from.className = 'jp-mlvc-RestoreBody-source';
      from.textContent = trans.__('From commit %1', source);
      this.node.appendChild(from);
    }
    const p = document.createElement('p');
    p.textContent = names.length
      ? trans.__('Variables to load into the kernel:')
      : trans.__('This commit stored no variables.');
    this.node.appendChild(p);
    for (const name of names) {
      const row = document.createElement('label');
      row.className = 'jp-mlvc-checkRow';
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = name;
      input.checked = true;
      this._inputs.push(input);
      row.appendChild(input);
      row.appendChild(document.createTextNode(' ' + name));
      this.node.appendChild(row);
    }
    if (names.length) {
      const warn = document.createElement('p');
      warn.className = 'jp-mlvc-muted';
      warn.textContent = trans.__(
        'Variables of the same name in the kernel are replaced. If they changed since the last commit, they are committed first (a safety commit), so you can bring them back.'
      );
      this.node.appendChild(warn);
    }
  }

  /**
   * The chosen names.
   */
  getValue(): string[] {
    return this._inputs.filter(i => i.checked).map(i => i.value);
  }

  private _inputs: HTMLInputElement[] = [];
}
