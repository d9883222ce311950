/**
 * @jest-environment jsdom
 */
/**
 * The Checkout dialog's body: the mode, and the data files the commit read that
 * differ here, each with a checkbox (checked) and its sizes.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import { CheckoutBody } from '../checkoutBody';
import { Mlvc } from '../tokens';

// a widget is its node here (lumino's needs a browser's drag events)
jest.mock('@lumino/widgets', () => ({
  Widget: class {
    node = document.createElement('div');
    addClass(name: string): void {
      this.node.classList.add(name);
    }
  }
}));

const trans = {
  __: (text: string, ...args: unknown[]) =>
    text.replace(/%(\d+)/g, (_, n) => String(args[Number(n) - 1]))
} as unknown as TranslationBundle;

const commit = {
  id: 'c'.repeat(40),
  short_id: 'cccccccc',
  message: 'first',
  variables: ['X']
} as unknown as Mlvc.ICommitSummary;

const plan: Mlvc.IDataCheckout = {
  commit: 'c'.repeat(40),
  restored: ['data/train.csv', 'data/new.csv'],
  unchanged: ['data/notes.txt'],
  not_captured: ['data/huge.bin'],
  safety_copies: {
    'data/train.csv': '/p/.mlvc/mlvc/data-safety/x/data/train.csv'
  },
  bytes: 3072,
  dry_run: true,
  sizes: { 'data/train.csv': 2048, 'data/new.csv': 1024, 'data/huge.bin': 5 },
  current_sizes: { 'data/train.csv': 4096 },
  safety: null
};

describe('CheckoutBody', () => {
  it('lists the data files that differ, checked, with their sizes', () => {
    const body = new CheckoutBody(commit, 'nb.ipynb', trans, plan);
    const text = body.node.textContent ?? '';
    expect(text).toContain('Data files it read');
    expect(text).toContain(
      'Put back data/train.csv 2.0 KiB at the commit, 4.0 KiB here'
    );
    expect(text).toContain('data/new.csv 1.0 KiB (missing here)');
    expect(text).toContain('they cannot be put back: data/huge.bin');
    expect(body.getValue()).toEqual({
      mode: 'both',
      data: ['data/train.csv', 'data/new.csv']
    });
    const boxes = body.node.querySelectorAll<HTMLInputElement>(
      'input[type=checkbox]'
    );
    boxes[0].checked = false;
    const radios =
      body.node.querySelectorAll<HTMLInputElement>('input[type=radio]');
    radios[2].checked = true;
    expect(body.getValue()).toEqual({
      mode: 'notebook',
      data: ['data/new.csv']
    });
  });

  it('says nothing of data for a commit that read none, and all is in place', () => {
    const none = new CheckoutBody(commit, 'nb.ipynb', trans, null);
    expect(none.node.textContent).not.toContain('Data files');
    expect(none.getValue()).toEqual({ mode: 'both', data: [] });
    const same = new CheckoutBody(commit, 'nb.ipynb', trans, {
      ...plan,
      restored: [],
      not_captured: []
    });
    expect(same.node.textContent).toContain(
      'The data files it read are as it read them.'
    );
    expect(same.getValue().data).toEqual([]);
  });
});
