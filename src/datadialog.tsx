/**
 * The data checkout dialog's body (kept apart from the components so that those
 * render without JupyterLab's widgets, in tests too).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DataCheckoutList } from './components/DataChanges';
import { Mlvc } from './tokens';

/**
 * The data checkout dialog's body as a widget.
 *
 * @param plan - What the dry run said the checkout will write.
 * @param trans - The translation bundle.
 * @returns The widget.
 */
export function dataCheckoutBody(
  plan: Mlvc.IDataCheckout,
  trans: TranslationBundle
): ReactWidget {
  return ReactWidget.create(<DataCheckoutList plan={plan} trans={trans} />);
}
