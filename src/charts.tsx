/**
 * Vega-Lite charts drawn by JupyterLab's own renderer (the vega5 mime extension,
 * which lazy-loads vega-embed): the Compare view's scatter and parallel
 * coordinates, from the spec the server builds for `%mlvc compare --plot`.
 * vega-embed gives the tooltips and the "…" menu that saves PNG and SVG.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import * as React from 'react';

/** The mime type of a Vega-Lite v5 spec. */
export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

let registry: IRenderMimeRegistry | null = null;

/**
 * Give the charts JupyterLab's rendermime registry (called once at activation).
 *
 * @param rendermime - The application's registry.
 */
export function setChartRenderers(rendermime: IRenderMimeRegistry): void {
  registry = rendermime;
}

type Spec = { [key: string]: unknown };
type Datum = { [key: string]: unknown };

/**
 * The spec with `selected: true` on the data of the selected runs (the spec
 * outlines them), in its top-level data and in each layer's.
 *
 * @param spec - A spec from `GET /mlvc/compare?plot=`.
 * @param selected - The selected commit ids.
 * @returns A new spec; `spec` is not changed.
 */
export function withSelection(
  spec: Spec,
  selected: ReadonlyArray<string>
): Spec {
  const chosen = new Set(selected);
  const mark = (data: unknown): unknown => {
    const values = (data as { values?: Datum[] } | undefined)?.values;
    if (!Array.isArray(values)) {
      return data;
    }
    return {
      ...(data as object),
      values: values.map(v => ({
        ...v,
        selected: typeof v.id === 'string' && chosen.has(v.id)
      }))
    };
  };
  const out: Spec = { ...spec };
  if (spec.data) {
    out.data = mark(spec.data);
  }
  if (Array.isArray(spec.layer)) {
    out.layer = (spec.layer as Spec[]).map(layer =>
      layer.data ? { ...layer, data: mark(layer.data) } : layer
    );
  }
  return out;
}

/** Above this many data points a chart draws on a canvas (faster than SVG). */
export const SVG_MOST_POINTS = 500;

/**
 * SVG for small charts (its marks carry aria labels with the run's values,
 * which screen readers and tests read), canvas for large ones.
 *
 * @param spec - The spec.
 * @returns The vega-embed renderer.
 */
export function rendererFor(spec: Spec): 'svg' | 'canvas' {
  const count = (data: unknown): number => {
    const values = (data as { values?: unknown[] } | undefined)?.values;
    return Array.isArray(values) ? values.length : 0;
  };
  let n = count(spec.data);
  for (const layer of (spec.layer as Spec[] | undefined) ?? []) {
    n += count(layer.data);
  }
  return n > SVG_MOST_POINTS ? 'canvas' : 'svg';
}

/**
 * Props of {@link VegaChart}.
 */
interface IVegaChartProps {
  /** The Vega-Lite spec. */
  spec: Spec;
  /** The selected commit ids (outlined). */
  selected: ReadonlyArray<string>;
  /** Called with the id of the run clicked. */
  onSelect?: (id: string) => void;
  /** The chart's accessible name. */
  label: string;
  /** Shown when JupyterLab has no Vega-Lite renderer. */
  unavailable: string;
}

/**
 * A Vega-Lite chart rendered by JupyterLab. The container gets `data-render-ms`
 * (from handing the spec over to the chart drawn) once drawn.
 */
export function VegaChart(props: IVegaChartProps): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const [error, setError] = React.useState<string | null>(null);
  const onSelect = React.useRef(props.onSelect);
  onSelect.current = props.onSelect;
  const spec = React.useMemo(
    () => withSelection(props.spec, props.selected),
    [props.spec, props.selected.join(',')]
  );
  React.useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    if (!registry || !registry.mimeTypes.includes(VEGALITE_MIME)) {
      setError(props.unavailable);
      return;
    }
    const renderer = registry.createRenderer(VEGALITE_MIME);
    let gone = false;
    const start = performance.now();
    delete node.dataset.renderMs;
    // A non-empty image/png keeps the renderer from also making a PNG of the
    // chart for the output's data (a notebook keeps it; this view does not).
    const model: IRenderMime.IMimeModel = {
      trusted: true,
      data: { [VEGALITE_MIME]: spec as any, 'image/png': 'none' },
      metadata: {
        [VEGALITE_MIME]: { embed_options: { renderer: rendererFor(spec) } }
      },
      setData: () => undefined
    };
    node.appendChild(renderer.node);
    renderer.renderModel(model).then(
      () => {
        if (gone) {
          return;
        }
        node.dataset.renderMs = String(Math.round(performance.now() - start));
        // vega-embed's result is not public API of the renderer: without it,
        // clicks do not select (tooltips and export still work)
        const view = (renderer as any)._result?.view;
        view?.addEventListener('click', (_event: unknown, item: any) => {
          const id = item?.datum?.id;
          if (typeof id === 'string') {
            onSelect.current?.(id);
          }
        });
      },
      reason => {
        if (!gone) {
          setError(String(reason?.message ?? reason));
        }
      }
    );
    return () => {
      gone = true;
      renderer.dispose();
      renderer.node.remove();
    };
  }, [spec]);
  return (
    <div className="jp-mlvc-vegaChart" role="figure" aria-label={props.label}>
      {error !== null && (
        <p className="jp-mlvc-message jp-mlvc-error" role="alert">
          {error}
        </p>
      )}
      <div ref={host} className="jp-mlvc-vegaHost" />
    </div>
  );
}
