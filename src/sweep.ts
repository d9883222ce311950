/**
 * "Start Sweep…": the parameters of the notebook in focus (its cell tagged
 * `parameters`, as `mlvc run` and papermill read it), a dialog asking the values
 * to try, and the request body of `POST /mlvc/sweeps`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IParameter, ISweepRequest, parseValues } from './sweepParams';

export { parametersOf } from './sweepParams';

/**
 * The dialog's body: one field per parameter (prefilled with its value), the
 * runs at a time and the sweep's name.
 */
export class SweepBody extends Widget {
  constructor(
    parameters: ReadonlyArray<IParameter>,
    defaultName: string,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-mlvc-SweepBody');
    const help = document.createElement('p');
    help.textContent = trans.__(
      'Values to try, separated by commas; every combination runs on its own branch sweep/NAME/….'
    );
    this.node.appendChild(help);
    const field = (label: string, value: string, name: string) => {
      const row = document.createElement('label');
      row.className = 'jp-mlvc-sweepField';
      const span = document.createElement('span');
      span.textContent = label;
      const input = document.createElement('input');
      input.className = 'jp-mod-styled';
      input.value = value;
      input.name = name;
      input.setAttribute('aria-label', label);
      row.append(span, input);
      this.node.appendChild(row);
      return input;
    };
    for (const p of parameters) {
      this._inputs.set(p.name, field(p.name, p.value, `param-${p.name}`));
    }
    this._jobs = field(trans.__('Runs at a time'), '2', 'jobs');
    this._name = field(trans.__('Sweep name'), defaultName, 'name');
  }

  /**
   * The request the dialog describes.
   *
   * @returns The request body.
   */
  getValue(): ISweepRequest {
    const params: { [name: string]: unknown[] } = {};
    for (const [name, input] of this._inputs) {
      const values = parseValues(input.value);
      if (values.length) {
        params[name] = values;
      }
    }
    const jobs = Math.max(1, Math.min(16, Number(this._jobs.value) || 2));
    const name = this._name.value.trim();
    return { params, jobs, ...(name ? { name } : {}) };
  }

  private _inputs = new Map<string, HTMLInputElement>();
  private _jobs: HTMLInputElement;
  private _name: HTMLInputElement;
}
