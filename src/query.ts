/**
 * The Experiments panel's filter: structured terms (`metrics.acc > 0.9`,
 * `branch ~ "sweep/*"`, `-status = failed` to exclude) are sent to the server as
 * one `?where=` query in mlvc's query language (the grammar of `mlvc log
 * --where`); plain words search the commits' text (`-word` excludes); the names
 * of params and metrics complete as they are typed.
 */
import * as React from 'react';

import { filterCommits } from './model';
import { Mlvc } from './tokens';

/** The fields a query may name besides `params.NAME` and `metrics.NAME`. */
export const QUERY_FIELDS = [
  'id',
  'branch',
  'author',
  'email',
  'message',
  'time',
  'kind',
  'status',
  'notebook',
  'tags',
  'branches',
  'variables'
];

const FIELD = String.raw`(?:params|metrics)\.[A-Za-z0-9_][A-Za-z0-9_.\-]*|${QUERY_FIELDS.join('|')}`;
const OP = String.raw`==|!=|<=|>=|!~|=|<|>|~`;
const VALUE = String.raw`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"']+`;
/** One term: an optional `-`, a field, an operator and a value. */
const TERM = new RegExp(
  String.raw`(^|\s)(-?)(${FIELD})\s*(${OP})\s*(${VALUE})`,
  'g'
);

/**
 * The parts of a filter.
 */
export interface IFilterParts {
  /** The structured terms as one query (`and`), or null when there are none. */
  where: string | null;
  /** The rest: words searched in the commits' text (`-word` excludes). */
  words: string;
}

/**
 * Split a filter into its query terms and its plain words.
 *
 * @param text - What the user typed.
 * @returns The query (terms joined by `and`, `-term` as `not (term)`) and the words.
 */
export function splitFilter(text: string): IFilterParts {
  const terms: string[] = [];
  const words = text.replace(
    TERM,
    (
      _m,
      lead: string,
      neg: string,
      field: string,
      op: string,
      value: string
    ) => {
      const term = `${field} ${op} ${value}`;
      terms.push(neg ? `not (${term})` : term);
      return lead;
    }
  );
  return {
    where: terms.length ? terms.join(' and ') : null,
    words: words.replace(/\s+/g, ' ').trim()
  };
}

/**
 * The commits holding every word of `words` in their text (message, tags,
 * branches, variables) and none of the `-word`s; `kind:` and `-kind:` as in
 * {@link filterCommits}.
 *
 * @param commits - The commits.
 * @param words - Plain words.
 * @returns The matching commits, in order.
 */
export function filterWords(
  commits: ReadonlyArray<Mlvc.ICommitSummary>,
  words: string
): Mlvc.ICommitSummary[] {
  const all = words.split(/\s+/).filter(Boolean);
  const negative = all
    .filter(w => w.length > 1 && w.startsWith('-') && !/^-kind:/i.test(w))
    .map(w => w.slice(1));
  const positive = all.filter(
    w => !(w.length > 1 && w.startsWith('-') && !/^-kind:/i.test(w))
  );
  const kept = filterCommits(commits, positive.join(' '));
  if (negative.length === 0) {
    return kept;
  }
  return kept.filter(c =>
    negative.every(w => filterCommits([c], w).length === 0)
  );
}

/**
 * The names a query may use for these commits: `params.NAME`, `metrics.NAME` and
 * the other fields.
 *
 * @param commits - The commits loaded.
 * @returns The names, params first, then metrics, then fields.
 */
export function queryNames(
  commits: ReadonlyArray<Mlvc.ICommitSummary>
): string[] {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const c of commits) {
    Object.keys(c.params ?? {}).forEach(k => params.add(`params.${k}`));
    Object.keys(c.metrics ?? {}).forEach(k => metrics.add(`metrics.${k}`));
  }
  return [...[...params].sort(), ...[...metrics].sort(), ...QUERY_FIELDS];
}

/**
 * Completions of the word being typed (the filter's last word) among `names`:
 * whole filters, as a `<datalist>` offers them.
 *
 * @param text - The filter so far.
 * @param names - From {@link queryNames}.
 * @param most - The most completions.
 * @returns Filters with the last word completed.
 */
export function completions(
  text: string,
  names: ReadonlyArray<string>,
  most = 20
): string[] {
  const match = /(^|\s)(-?)([A-Za-z0-9_.]+)$/.exec(text);
  if (!match) {
    return [];
  }
  const typed = match[3].toLowerCase();
  const head = text.slice(0, text.length - match[2].length - match[3].length);
  return names
    .filter(n => n.toLowerCase().startsWith(typed) && n.length > typed.length)
    .slice(0, most)
    .map(n => `${head}${match[2]}${n} `);
}

/**
 * What the server's query matched.
 */
export interface IQueryMatch {
  /** The ids of the commits matching the query; null without a query. */
  ids: ReadonlySet<string> | null;
  /** The server's message for a query that does not parse. */
  error: string | null;
}

/**
 * The ids of the commits matching `where`, asked of the server a moment after
 * the query stops changing.
 *
 * @param where - The query, or null.
 * @param query - Asks the server (`GET /mlvc/log?where=`).
 * @param refreshKey - Changes when the history changes (asks again).
 * @returns The match.
 */
export function useQueryMatch(
  where: string | null,
  query: ((where: string) => Promise<ReadonlySet<string>>) | undefined,
  refreshKey: unknown
): IQueryMatch {
  const [match, setMatch] = React.useState<IQueryMatch>({
    ids: null,
    error: null
  });
  React.useEffect(() => {
    if (where === null || !query) {
      setMatch({ ids: null, error: null });
      return;
    }
    let gone = false;
    const timer = setTimeout(() => {
      query(where).then(
        ids => !gone && setMatch({ ids, error: null }),
        reason =>
          !gone &&
          setMatch({
            ids: new Set(),
            error: String(reason?.message ?? reason)
          })
      );
    }, 250);
    return () => {
      gone = true;
      clearTimeout(timer);
    };
  }, [where, query, refreshKey]);
  return match;
}
