/**
 * The part of vega-embed's public API the Compare view's charts use. vega-embed
 * is not bundled: JupyterLab provides it in its shared module scope (it is what
 * its own Vega renderer draws with), and this extension consumes that copy
 * (`sharedPackages` in package.json). These declarations stand in for its
 * types, which would otherwise need vega, vega-lite and vega-embed installed
 * only to compile.
 */
declare module 'vega-embed' {
  /** A scenegraph item (a mark's point, line...) and the data row it draws. */
  export interface Item {
    datum?: { [key: string]: unknown };
  }

  /** A Vega view (vega-view's `View`). */
  export interface View {
    addEventListener(
      type: string,
      handler: (event: Event, item: Item | null | undefined) => void
    ): View;
    signal(name: string, value: unknown): View;
    width(width: number): View;
    runAsync(): Promise<View>;
    finalize(): View;
  }

  /** What `embed` resolves to. */
  export interface Result {
    view: View;
    finalize(): void;
  }

  /** Options of `embed`. */
  export interface EmbedOptions {
    mode?: 'vega' | 'vega-lite';
    renderer?: 'canvas' | 'svg';
    actions?:
      | boolean
      | {
          export?: boolean;
          source?: boolean;
          compiled?: boolean;
          editor?: boolean;
        };
    config?: { [key: string]: unknown };
    tooltip?: boolean | { theme?: 'light' | 'dark' | 'custom' };
    downloadFileName?: string;
  }

  /** Draw a Vega or Vega-Lite spec into an element. */
  export default function embed(
    element: HTMLElement,
    spec: object,
    options?: EmbedOptions
  ): Promise<Result>;
}
