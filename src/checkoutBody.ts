/**
 * The body of the Checkout dialog (apart from the other views, so that it renders in
 * tests without JupyterLab's application widgets).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { formatBytes } from './components/DataChanges';
import { Mlvc } from './tokens';

/**
 * What the Checkout dialog returns: the mode, and the data files to put back.
 */
export interface ICheckoutChoice {
  mode: Mlvc.CheckoutMode;
  /**
   * The data files (paths from the project root) to put back with the checkout.
   */
  data: string[];
}

/**
 * The body of the Checkout dialog: what is replaced, the mode, and the data files
 * the commit read that differ from the files here (each with a checkbox, checked:
 * a checkout goes back to the run, data included; each replaced file is kept as a
 * safety copy).
 */
export class CheckoutBody extends Widget {
  /**
   * @param commit - The commit checked out.
   * @param notebookPath - The notebook.
   * @param trans - The translation bundle.
   * @param data - The data checkout's dry run for the commit (null: none known).
   */
  constructor(
    commit: Mlvc.ICommitSummary,
    notebookPath: string,
    trans: TranslationBundle,
    data: Mlvc.IDataCheckout | null = null
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
    if (data) {
      this._addData(data, trans);
    }
  }

  /**
   * The chosen mode and data files.
   */
  getValue(): ICheckoutChoice {
    const checked = this._inputs.find(i => i.checked);
    return {
      mode: (checked?.value ?? 'both') as Mlvc.CheckoutMode,
      data: this._data.filter(i => i.checked).map(i => i.value)
    };
  }

  private _addData(plan: Mlvc.IDataCheckout, trans: TranslationBundle): void {
    const read =
      plan.restored.length + plan.unchanged.length + plan.not_captured.length;
    if (read === 0) {
      return;
    }
    const group = document.createElement('fieldset');
    group.className = 'jp-mlvc-modes jp-mlvc-CheckoutData';
    const legend = document.createElement('legend');
    legend.textContent = trans.__('Data files it read');
    group.appendChild(legend);
    const note = (text: string) => {
      const el = document.createElement('p');
      el.className = 'jp-mlvc-muted';
      el.textContent = text;
      group.appendChild(el);
    };
    if (plan.restored.length === 0) {
      note(trans.__('The data files it read are as it read them.'));
    }
    for (const path of plan.restored) {
      const row = document.createElement('label');
      row.className = 'jp-mlvc-CheckoutData-file';
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = path;
      input.checked = true;
      this._data.push(input);
      const name = document.createElement('code');
      name.textContent = path;
      const sizes = document.createElement('span');
      sizes.className = 'jp-mlvc-muted';
      const now = plan.current_sizes[path];
      sizes.textContent =
        ' ' +
        (now === undefined
          ? trans.__('%1 (missing here)', formatBytes(plan.sizes[path]))
          : trans.__(
              '%1 at the commit, %2 here',
              formatBytes(plan.sizes[path]),
              formatBytes(now)
            ));
      row.appendChild(input);
      row.appendChild(
        document.createTextNode(' ' + trans.__('Put back') + ' ')
      );
      row.appendChild(name);
      row.appendChild(sizes);
      group.appendChild(row);
    }
    if (plan.restored.length > 0) {
      note(
        trans.__(
          'Each file replaced is kept first under .mlvc/mlvc/data-safety/.'
        )
      );
    }
    if (plan.not_captured.length > 0) {
      note(
        trans.__(
          'Only the hashes of these were recorded, they cannot be put back: %1',
          plan.not_captured.join(', ')
        )
      );
    }
    this.node.appendChild(group);
  }

  private _inputs: HTMLInputElement[] = [];
  private _data: HTMLInputElement[] = [];
}
