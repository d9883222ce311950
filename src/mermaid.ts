/**
 * Draw Mermaid text with JupyterLab's Markdown renderer: it renders ```mermaid
 * blocks with the Mermaid that JupyterLab ships (loaded on first use), in the
 * colors of the current theme.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import type { MermaidRenderer } from './components/LineageView';

/** The Markdown MIME type. */
const MARKDOWN = 'text/markdown';

/**
 * A {@link MermaidRenderer} over a rendermime registry.
 *
 * @param rendermime - The application's rendermime registry.
 * @returns Draws a Mermaid graph into a host element.
 */
export function mermaidRenderer(
  rendermime: IRenderMimeRegistry
): MermaidRenderer {
  return async (text, host) => {
    const renderer = rendermime.createRenderer(MARKDOWN);
    renderer.addClass('jp-mlvc-Lineage-rendered');
    const model = rendermime.createModel({
      data: { [MARKDOWN]: '```mermaid\n' + text.trim() + '\n```\n' },
      // The graph is the server's text about the user's own store; untrusted
      // Markdown still renders Mermaid, and nothing in it runs.
      trusted: false
    });
    await renderer.renderModel(model);
    Widget.attach(renderer, host);
    return () => renderer.dispose();
  };
}
