/**
 * What the panel says after a checkout: a notification naming the commit, what
 * changed (the notebook, the variables restored and those that were not) and
 * where the previous state went (the safety commit), with an Undo that goes back
 * there.
 */
import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { Mlvc } from './tokens';

/**
 * Where the notebook was before a checkout.
 */
export interface IBefore {
  /** The current branch, or null when not known. */
  branch: string | null;
  /** The commit the notebook was at. */
  head: string | null;
  /** Whether it was at a commit that is not a branch tip. */
  detached: boolean;
}

/**
 * What Undo checks out to go back to the state before a checkout: the branch the
 * notebook was on (the safety commit, if one was made, is its tip now), else the
 * safety commit or the commit the notebook was at.
 *
 * @param out - The checkout's answer.
 * @param before - Where the notebook was.
 * @returns The revision, or null when there is nothing to go back to.
 */
export function undoTarget(
  out: Mlvc.ICheckout,
  before: IBefore
): string | null {
  if (!before.detached && before.branch) {
    return before.branch;
  }
  return out.safety_commit ?? before.head;
}

/**
 * The notification's text: one short sentence per fact, the most important first
 * (a toast shows about 140 characters; the notification center shows all).
 *
 * @param out - The checkout's answer.
 * @param label - The commit checked out, as the user knows it (id and message).
 * @param trans - The translation bundle.
 */
export function checkoutMessage(
  out: Mlvc.ICheckout,
  label: string,
  trans: TranslationBundle
): string {
  // most important first: a toast shows about 140 characters
  const parts = [trans.__('Checked out %1.', label)];
  if (out.safety_commit) {
    parts.push(
      trans.__('Previous state saved as %1.', out.safety_commit.slice(0, 8))
    );
  }
  const notRestored = [
    ...Object.keys(out.failed ?? {}),
    ...Object.keys(out.skipped ?? {})
  ];
  if (notRestored.length > 0) {
    parts.push(trans.__('Not restored: %1.', notRestored.join(', ')));
  }
  if (out.notebook_written) {
    parts.push(trans.__('Notebook replaced.'));
  }
  const files = out.data?.restored ?? [];
  if (files.length > 0) {
    parts.push(trans.__('Data files put back: %1.', files.join(', ')));
  }
  if (out.kernel === 'none') {
    parts.push(trans.__('No kernel: variables left alone.'));
  }
  const restored = out.variables_restored ?? [];
  if (restored.length > 0) {
    parts.push(trans.__('Restored: %1.', restored.join(', ')));
  }
  return parts.join(' ');
}

/**
 * Show the notification of a checkout.
 *
 * @param out - The checkout's answer.
 * @param label - The commit checked out, as the user knows it.
 * @param before - Where the notebook was before.
 * @param undo - Checks out a revision (to go back).
 * @param trans - The translation bundle.
 * @returns The notification's id.
 */
export function notifyCheckout(
  out: Mlvc.ICheckout,
  label: string,
  before: IBefore,
  undo: (rev: string) => void,
  trans: TranslationBundle
): string {
  const target = undoTarget(out, before);
  const failed =
    Object.keys(out.failed ?? {}).length > 0 ||
    Object.keys(out.skipped ?? {}).length > 0;
  const options = {
    autoClose: 15000 as number | false,
    actions:
      target !== null
        ? [
            {
              label: trans.__('Undo'),
              caption: trans.__('Check out %1 again', target.slice(0, 12)),
              callback: () => undo(target)
            }
          ]
        : []
  };
  const message = checkoutMessage(out, label, trans);
  return failed
    ? Notification.warning(message, options)
    : Notification.success(message, options);
}
