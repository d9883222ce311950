/**
 * What the Experiments panel needs in Jupyter Notebook 7, whose shell differs from
 * JupyterLab's: a notebook toolbar button that opens (or closes) the panel in the
 * left area, since Notebook 7 has no sidebar tab bar to click (only View > Left
 * Sidebar). Diff and Compare open in Notebook 7's down area (see `tabs.ts`).
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { TranslationBundle } from '@jupyterlab/translation';
import { historyIcon } from '@jupyterlab/ui-components';
import type { Widget } from '@lumino/widgets';

/**
 * The command of the notebook toolbar's Experiments button (Notebook 7 only).
 */
export const TOGGLE_PANEL = 'mlvc:toggle-panel';

/**
 * The part of Notebook 7's shell the toolbar button uses (it has no token that
 * mlvc could require without depending on Notebook 7).
 */
interface ICollapsibleShell {
  collapseLeft(): void;
}

function canCollapseLeft(shell: unknown): shell is ICollapsibleShell {
  return (
    typeof (shell as Partial<ICollapsibleShell>).collapseLeft === 'function'
  );
}

/**
 * Register the command of the notebook toolbar's Experiments button.
 *
 * @param app - The application.
 * @param panel - The Experiments panel.
 * @param isLab - Whether the shell is JupyterLab's: there the panel has its tab in
 *   the left sidebar, so the button hides itself.
 * @param trans - The extension's translation bundle.
 */
export function addPanelButtonCommand(
  app: JupyterFrontEnd,
  panel: Widget,
  isLab: boolean,
  trans: TranslationBundle
): void {
  const { commands, shell } = app;
  commands.addCommand(TOGGLE_PANEL, {
    describedBy: { args: { type: 'object', properties: {} } },
    label: trans.__('Experiments'),
    caption: trans.__('Show or hide the Experiments panel'),
    icon: historyIcon,
    isVisible: () => !isLab,
    isToggled: () => panel.isVisible,
    execute: () => {
      if (panel.isVisible && canCollapseLeft(shell)) {
        shell.collapseLeft();
      } else {
        shell.activateById(panel.id);
      }
      commands.notifyCommandChanged(TOGGLE_PANEL);
    }
  });
}
