import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Registry } from '../tokens';

/**
 * Draws Mermaid text into a host element (JupyterLab's Markdown renderer, which
 * renders ```mermaid blocks); resolves to a function that removes the drawing.
 */
export type MermaidRenderer = (
  text: string,
  host: HTMLElement
) => Promise<() => void>;

/** The order kinds are listed in: from the data to what was made of it. */
const KIND_ORDER = ['data', 'source', 'commit', 'model', 'alias', 'export'];

/** Fields the label already says, or that only matter to the graph. */
const HIDDEN_FIELDS = [
  'id',
  'kind',
  'label',
  'short_id',
  'message',
  'name',
  'depth',
  'truncated'
];

/**
 * The node's fields beyond what its label says, as `key: value` text.
 *
 * @param node - A lineage node.
 */
export function nodeDetails(node: Registry.ILineageNode): string[] {
  return Object.entries(node)
    .filter(
      ([k, v]) =>
        !HIDDEN_FIELDS.includes(k) && v !== null && v !== undefined && v !== ''
    )
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
}

/**
 * The lineage of a model version or a commit: the graph (the server's Mermaid
 * text drawn by JupyterLab's Markdown renderer), then every node with its
 * details (hashes, commits, paths), grouped by kind.
 */
export function LineageView(props: {
  lineage: Registry.ILineage;
  title: string;
  trans: TranslationBundle;
  render?: MermaidRenderer;
}): JSX.Element {
  const { lineage, trans, render } = props;
  const host = React.useRef<HTMLDivElement>(null);
  const [failed, setFailed] = React.useState<string | null>(null);
  const theme = useThemeLight();
  React.useEffect(() => {
    const node = host.current;
    if (!render || !node || !lineage.mermaid) {
      return;
    }
    let undo: (() => void) | null = null;
    let live = true;
    render(lineage.mermaid, node).then(
      remove => {
        if (live) {
          undo = remove;
        } else {
          remove();
        }
      },
      reason => live && setFailed(String(reason?.message ?? reason))
    );
    return () => {
      live = false;
      undo?.();
    };
  }, [lineage, render, theme]);
  const kinds = [...new Set(lineage.nodes.map(n => n.kind))].sort(
    (a, b) =>
      ((KIND_ORDER.indexOf(a) + 99) % 99) - ((KIND_ORDER.indexOf(b) + 99) % 99)
  );
  const incoming = new Map<string, number>();
  for (const e of lineage.edges) {
    incoming.set(e.to, (incoming.get(e.to) ?? 0) + 1);
  }
  return (
    <div className="jp-mlvc-LineageView">
      <h2>{props.title}</h2>
      <p className="jp-mlvc-Lineage-summary">
        {lineage.nodes.length === 1
          ? trans.__('1 node')
          : trans.__('%1 nodes', lineage.nodes.length)}
        {', '}
        {lineage.edges.length === 1
          ? trans.__('1 edge')
          : trans.__('%1 edges', lineage.edges.length)}
        {'. '}
        {trans.__(
          'Arrows go from what was read or made first to what was made of it.'
        )}
      </p>
      {lineage.truncated && (
        <p className="jp-mlvc-status jp-mlvc-warn">
          {trans.__(
            'Some inputs were not followed (the depth or size limit): the graph is partial.'
          )}
        </p>
      )}
      {render && !failed ? (
        <div
          ref={host}
          className="jp-mlvc-Lineage-graph"
          aria-label={trans.__('Lineage graph')}
        />
      ) : (
        <>
          {failed && (
            <p className="jp-mlvc-message jp-mlvc-error" role="alert">
              {trans.__('The graph could not be drawn: %1', failed)}
            </p>
          )}
          <pre className="jp-mlvc-Lineage-source">{lineage.mermaid}</pre>
        </>
      )}
      {kinds.map(kind => (
        <section key={kind} className="jp-mlvc-Lineage-kind">
          <h3>{kindTitle(kind, trans)}</h3>
          <ul>
            {lineage.nodes
              .filter(n => n.kind === kind)
              .map(n => (
                <li
                  key={n.id}
                  className={
                    'jp-mlvc-Lineage-node' +
                    (n.id === lineage.root ? ' jp-mlvc-mod-root' : '')
                  }
                  data-kind={n.kind}
                >
                  <span className="jp-mlvc-Lineage-label">{n.label}</span>
                  {nodeDetails(n).map(d => (
                    <span key={d} className="jp-mlvc-Lineage-detail">
                      {d}
                    </span>
                  ))}
                </li>
              ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

/**
 * Whether JupyterLab's theme is light (`data-jp-theme-light` on the body), again
 * on each change of theme: Mermaid draws in the theme's colors when it renders,
 * so the graph is drawn again.
 */
function useThemeLight(): string | null {
  const read = (): string | null =>
    typeof document === 'undefined'
      ? null
      : (document.body.dataset.jpThemeLight ?? null);
  const [light, setLight] = React.useState(read);
  React.useEffect(() => {
    const observer = new MutationObserver(() => setLight(read()));
    observer.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-light']
    });
    return () => observer.disconnect();
  }, []);
  return light;
}

function kindTitle(kind: string, trans: TranslationBundle): string {
  const titles: { [kind: string]: string } = {
    data: trans.__('Data read'),
    source: trans.__('Source files'),
    commit: trans.__('Commits'),
    model: trans.__('Model versions'),
    alias: trans.__('Aliases'),
    export: trans.__('Exports')
  };
  return titles[kind] ?? kind;
}
