/**
 * The notification after a checkout: what changed, where the previous state went,
 * and an Undo that goes back there; the message a `%mlvc checkout` leaves for
 * after the reload.
 */
// the request renderer's widget is not used here (Lumino needs a fuller DOM)
jest.mock('@lumino/widgets', () => ({ Widget: class {} }));
jest.mock('@jupyterlab/apputils', () => ({
  Notification: {
    success: jest.fn(() => 'n1'),
    warning: jest.fn(() => 'n2'),
    info: jest.fn(() => 'n3')
  }
}));

import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { checkoutMessage, notifyCheckout, undoTarget } from '../notify';
import { parseRequest } from '../request';
import { Mlvc } from '../tokens';

const trans = {
  __: (text: string, ...args: unknown[]) =>
    text.replace(/%(\d+)/g, (_, n) => String(args[Number(n) - 1]))
} as unknown as TranslationBundle;

const SAFETY = 'f'.repeat(40);

function answer(extra: Partial<Mlvc.ICheckout> = {}): Mlvc.ICheckout {
  return {
    commit: 'a'.repeat(40),
    branch: 'main',
    safety_commit: SAFETY,
    notebook_written: true,
    variables_restored: ['X', 'lr'],
    skipped: {},
    failed: {},
    kernel: 'used',
    data: null,
    ...extra
  };
}

describe('checkoutMessage', () => {
  it('says what changed and where the previous state is, first things first', () => {
    expect(checkoutMessage(answer(), 'aaaaaaaa "first"', trans)).toBe(
      'Checked out aaaaaaaa "first". Previous state saved as ffffffff. ' +
        'Notebook replaced. Restored: X, lr.'
    );
    const partly = answer({
      safety_commit: null,
      notebook_written: false,
      variables_restored: ['X'],
      failed: { model: { error: 'TrustError', message: 'a pickle' } },
      skipped: { gen: 'not serializable' }
    });
    expect(checkoutMessage(partly, 'aaaaaaaa', trans)).toBe(
      'Checked out aaaaaaaa. Not restored: model, gen. Restored: X.'
    );
    expect(
      checkoutMessage(
        answer({ kernel: 'none', variables_restored: [] }),
        'a',
        trans
      )
    ).toContain('No kernel: variables left alone.');
    const plan = {
      commit: 'a'.repeat(40),
      restored: ['data/t.csv'],
      unchanged: [],
      not_captured: [],
      safety_copies: {},
      bytes: 13,
      dry_run: false,
      sizes: {},
      current_sizes: {},
      safety: null
    };
    expect(checkoutMessage(answer({ data: plan }), 'a', trans)).toContain(
      'Notebook replaced. Data files put back: data/t.csv.'
    );
  });
});

describe('undoTarget', () => {
  it('goes back to the branch, else the safety commit, else the old head', () => {
    const head = 'b'.repeat(40);
    expect(
      undoTarget(answer(), { branch: 'main', head, detached: false })
    ).toBe('main');
    expect(undoTarget(answer(), { branch: 'main', head, detached: true })).toBe(
      SAFETY
    );
    expect(
      undoTarget(answer({ safety_commit: null }), {
        branch: null,
        head,
        detached: true
      })
    ).toBe(head);
  });
});

describe('notifyCheckout', () => {
  it('offers Undo, and warns when something was not restored', () => {
    const undo = jest.fn();
    notifyCheckout(
      answer(),
      'aaaaaaaa',
      { branch: 'exp', head: null, detached: false },
      undo,
      trans
    );
    const [message, options] = (Notification.success as jest.Mock).mock
      .calls[0];
    expect(message).toContain('Previous state saved as ffffffff');
    expect(options.actions).toHaveLength(1);
    expect(options.actions[0].label).toBe('Undo');
    options.actions[0].callback();
    expect(undo).toHaveBeenCalledWith('exp');

    notifyCheckout(
      answer({ failed: { m: { error: 'E', message: 'm' } } }),
      'a',
      { branch: 'exp', head: null, detached: false },
      undo,
      trans
    );
    expect(Notification.warning).toHaveBeenCalledTimes(1);
  });
});

describe('parseRequest', () => {
  it("keeps a revert's message for the notification after the reload", () => {
    const base = { action: 'revert', path: 'a.ipynb', id: 'x', time: 1 };
    expect(parseRequest({ ...base, message: 'Checked out 1234' })).toEqual({
      ...base,
      message: 'Checked out 1234'
    });
    expect(parseRequest(base)).toEqual(base);
    expect(parseRequest({ ...base, message: 3 })).toEqual(base);
  });
});
