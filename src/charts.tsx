/**
 * Vega-Lite charts of the Compare view, drawn with vega-embed: the copy
 * JupyterLab ships in its shared module scope for its own Vega renderer
 * (`sharedPackages` in package.json: not bundled here). The renderer itself
 * keeps vega-embed's result private, and the charts need its view: clicks
 * select runs (`view.addEventListener`), the selection is set as a signal
 * without drawing again (`view.signal`), and the width follows the container
 * (`view.width`). vega-embed gives the tooltips and the "…" menu that saves
 * PNG and SVG.
 *
 * Colours of the plot area, axes, grid and text come from JupyterLab's CSS
 * variables ({@link themeConfig}); a chart draws again when the theme changes.
 */
// The declarations stand in for vega-embed's types (not installed); Jest's
// compiler reads only the files imported, so they are referenced here.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./vega-embed.d.ts" />
import type { Result } from 'vega-embed';
import * as React from 'react';

import { rendererFor, SELECTED_PARAM, sized, Spec } from './chartSpecs';

export { rendererFor, SVG_MOST_POINTS } from './chartSpecs';

/** The mime type of a Vega-Lite v5 spec. */
export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

/** The narrowest a chart is drawn (px), however narrow its container. */
export const MIN_WIDTH = 220;
/** Room kept right of a chart for vega-embed's "…" menu (its padding). */
const ACTIONS_WIDTH = 40;

/**
 * A Vega config from JupyterLab's theme: background, axes, grid, legend and
 * title colours and the UI font, read from its CSS variables.
 *
 * @param css - The computed style of an element under the theme (the body).
 * @returns The config.
 */
export function themeConfig(css: {
  getPropertyValue(name: string): string;
}): Spec {
  const v = (name: string, fallback: string) =>
    css.getPropertyValue(name).trim() || fallback;
  const text = v('--jp-ui-font-color1', '#333');
  const muted = v('--jp-ui-font-color2', '#666');
  const grid = v('--jp-border-color2', '#e0e0e0');
  const domain = v('--jp-border-color1', '#bdbdbd');
  const font = v('--jp-ui-font-family', 'sans-serif');
  return {
    background: v('--jp-layout-color0', '#fff'),
    font,
    view: { stroke: grid },
    axis: {
      domainColor: domain,
      tickColor: domain,
      gridColor: grid,
      labelColor: muted,
      titleColor: text
    },
    legend: { labelColor: muted, titleColor: text },
    title: { color: text, subtitleColor: muted },
    header: { labelColor: text, titleColor: text }
  };
}

let embedding: Promise<typeof import('vega-embed')> | null = null;

/**
 * Load vega-embed (JupyterLab's shared copy), once. The Compare command calls
 * this while it fetches the table, so the charts do not wait for it.
 *
 * @returns The module.
 */
export function loadVegaEmbed(): Promise<typeof import('vega-embed')> {
  if (!embedding) {
    embedding = import('vega-embed');
    embedding.catch(() => {
      embedding = null; // try again next time
    });
  }
  return embedding;
}

let drawing: Promise<unknown> = Promise.resolve();

/**
 * Run chart drawings one after another: the first chart of a view (the
 * scatter) is drawn before the next starts, instead of both sharing the CPU.
 *
 * @param task - Draws a chart.
 * @returns What the task returns.
 */
function inTurn<T>(task: () => Promise<T>): Promise<T> {
  const run = drawing.then(task, task);
  drawing = run.catch(() => undefined);
  return run;
}

/** Whether JupyterLab's theme is light (`data-jp-theme-light` on the body). */
function isLight(): boolean {
  return document.body.dataset.jpThemeLight !== 'false';
}

/**
 * The theme's name, and a new render whenever JupyterLab switches theme (it
 * sets the body's `data-jp-theme-*` attributes once the theme's CSS is in).
 */
function useThemeName(): string {
  const read = () =>
    typeof document === 'undefined'
      ? ''
      : `${document.body.dataset.jpThemeName ?? ''}:${isLight()}`;
  const [theme, setTheme] = React.useState(read);
  React.useEffect(() => {
    const observer = new MutationObserver(() => setTheme(read()));
    observer.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light']
    });
    return () => observer.disconnect();
  }, []);
  return theme;
}

/** The width to draw a chart at in a container. */
function widthIn(node: HTMLElement): number {
  return Math.max(MIN_WIDTH, Math.floor(node.clientWidth) - ACTIONS_WIDTH);
}

/**
 * Props of {@link VegaChart}.
 */
interface IVegaChartProps {
  /** The Vega-Lite spec (one chart or one layered chart). */
  spec: Spec;
  /** The selected commit ids (outlined). */
  selected: ReadonlyArray<string>;
  /** Called with the id of the run clicked. */
  onSelect?: (id: string) => void;
  /** The chart's accessible name. */
  label: string;
  /** Shown when vega-embed cannot be loaded. */
  unavailable: string;
  /** The file name of an exported PNG or SVG. */
  fileName?: string;
}

/**
 * A Vega-Lite chart as wide as its container. The container gets
 * `data-render-ms` (from handing the spec over to the chart drawn) once drawn.
 * A change of selection sets a signal; only a new spec or a new theme draws
 * the chart again.
 */
export function VegaChart(props: IVegaChartProps): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const [error, setError] = React.useState<string | null>(null);
  const onSelect = React.useRef(props.onSelect);
  onSelect.current = props.onSelect;
  const selected = React.useRef(props.selected);
  selected.current = props.selected;
  const view = React.useRef<Result['view'] | null>(null);
  const theme = useThemeName();

  React.useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    let gone = false;
    let result: Result | null = null;
    let resize: ResizeObserver | null = null;
    const start = performance.now();
    delete node.dataset.renderMs;
    setError(null);
    let width = widthIn(node);
    const drawn = [...selected.current];
    const spec = sized(props.spec, width, drawn);
    // vega-embed styles the element it draws in (inline-block, padding for
    // its menu): a child of its own, so the host keeps measuring the space
    const target = document.createElement('div');
    node.appendChild(target);
    inTurn(async () => {
      const module = await loadVegaEmbed();
      if (gone) {
        return null;
      }
      return module.default(target, spec, {
        mode: 'vega-lite',
        renderer: rendererFor(spec),
        actions: {
          export: true,
          source: false,
          compiled: false,
          editor: false
        },
        config: themeConfig(getComputedStyle(document.body)),
        tooltip: { theme: isLight() ? 'light' : 'dark' },
        downloadFileName: props.fileName ?? 'mlvc-compare'
      });
    }).then(
      res => {
        if (!res) {
          return;
        }
        if (gone) {
          res.finalize();
          return;
        }
        result = res;
        view.current = res.view;
        node.dataset.renderMs = String(Math.round(performance.now() - start));
        res.view.addEventListener('click', (_event, item) => {
          const id = item?.datum?.id;
          if (typeof id === 'string') {
            onSelect.current?.(id);
          }
        });
        // the selection may have changed while the chart was drawn
        if (selected.current.join(',') !== drawn.join(',')) {
          void res.view
            .signal(SELECTED_PARAM, [...selected.current])
            .runAsync();
        }
        resize = new ResizeObserver(() => {
          const now = widthIn(node);
          if (now !== width) {
            width = now;
            void res.view.width(now).runAsync();
          }
        });
        resize.observe(node);
      },
      reason => {
        if (!gone) {
          setError(`${props.unavailable} (${reason?.message ?? reason})`);
        }
      }
    );
    return () => {
      gone = true;
      resize?.disconnect();
      view.current = null;
      result?.finalize();
      target.remove();
    };
  }, [props.spec, theme]);

  const key = props.selected.join(',');
  React.useEffect(() => {
    void view.current?.signal(SELECTED_PARAM, [...props.selected]).runAsync();
  }, [key]);

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
