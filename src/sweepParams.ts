/**
 * The parameters cell of a notebook (as `mlvc run` and papermill read it) and the
 * values typed for a sweep: pure functions, for "Start Sweep…" (src/sweep.ts).
 */

/** A parameter and its value in the parameters cell (as written). */
export interface IParameter {
  /** The variable name. */
  name: string;
  /** Its value, as source. */
  value: string;
}

/** What `POST /mlvc/sweeps` takes. */
export interface ISweepRequest {
  /** Name -> the values to try. */
  params: { [name: string]: unknown[] };
  /** Runs at a time. */
  jobs: number;
  /** The sweep's name (its branches are `sweep/NAME/...`). */
  name?: string;
}

/**
 * The `name = value` assignments of the first cell tagged `parameters`.
 *
 * @param cells - The notebook's cells (source and tags).
 * @returns The parameters, in order (none without such a cell).
 */
export function parametersOf(
  cells: ReadonlyArray<{ source: string; tags: ReadonlyArray<string> }>
): IParameter[] {
  const cell = cells.find(c => c.tags.includes('parameters'));
  if (!cell) {
    return [];
  }
  const out: IParameter[] = [];
  for (const line of cell.source.split('\n')) {
    const m = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=\s*(.+?)\s*(#.*)?$/.exec(line);
    if (m) {
      out.push({ name: m[1], value: m[2] });
    }
  }
  return out;
}

/**
 * The values typed for a parameter: comma-separated, each JSON when it parses
 * (numbers, `true`, `"text"`, `[1, 2]`), Python's `True`/`False`/`None` as
 * JSON's, else the text itself.
 *
 * @param text - What was typed.
 * @returns The values (empty when nothing was typed).
 */
export function parseValues(text: string): unknown[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let current = '';
  for (const ch of text) {
    if (quote) {
      quote = ch === quote ? '' : quote;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '[' || ch === '{') {
      depth++;
    } else if (ch === ']' || ch === '}') {
      depth--;
    } else if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  const python: { [k: string]: unknown } = {
    True: true,
    False: false,
    None: null
  };
  return parts
    .map(p => p.trim())
    .filter(Boolean)
    .map(p => {
      if (p in python) {
        return python[p];
      }
      if (/^'.*'$/.test(p)) {
        return p.slice(1, -1);
      }
      try {
        return JSON.parse(p);
      } catch {
        return p;
      }
    });
}
