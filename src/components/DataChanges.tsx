/**
 * Data files in the panel: what changed in the data two commits read (sizes, schema,
 * rows) and what a data checkout will replace.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Mlvc } from '../tokens';

/**
 * A size in bytes, in binary units.
 *
 * @param bytes - The size, or null where the file is absent.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (typeof bytes !== 'number') {
    return '—';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function count(n: unknown): string {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '—';
}

function names(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/**
 * What changed in a CSV or parquet file's rows, in words: counts on both sides, then
 * rows added, removed and (by key) changed.
 *
 * @param rows - The `rows` of a data file's diff.
 * @param trans - The translation bundle.
 */
export function describeRows(
  rows: { [key: string]: unknown } | undefined,
  trans: TranslationBundle
): string {
  if (!rows) {
    return '';
  }
  const parts = [`${count(rows.a)} → ${count(rows.b)}`];
  if (typeof rows.added === 'number' && rows.added > 0) {
    parts.push(trans.__('+%1 added', count(rows.added)));
  }
  if (typeof rows.removed === 'number' && rows.removed > 0) {
    parts.push(trans.__('−%1 removed', count(rows.removed)));
  }
  if (typeof rows.changed === 'number' && rows.changed > 0) {
    parts.push(
      trans.__('%1 changed (by %2)', count(rows.changed), String(rows.key))
    );
  }
  return parts.join(', ');
}

/**
 * What changed in a table's columns, in words.
 *
 * @param schema - The `schema` of a data file's diff.
 * @param trans - The translation bundle.
 */
export function describeSchema(
  schema: { [key: string]: unknown } | undefined,
  trans: TranslationBundle
): string {
  if (!schema) {
    return '';
  }
  const parts: string[] = [];
  const added = names(schema.added);
  const removed = names(schema.removed);
  if (added.length) {
    parts.push(trans.__('columns added: %1', added.join(', ')));
  }
  if (removed.length) {
    parts.push(trans.__('columns removed: %1', removed.join(', ')));
  }
  const changed = schema.changed;
  if (changed && typeof changed === 'object') {
    for (const [col, types] of Object.entries(changed)) {
      const [ta, tb] = names(types);
      parts.push(trans.__('%1: %2 → %3', col, ta, tb));
    }
  }
  return parts.length ? parts.join('; ') : trans.__('same columns');
}

/**
 * The props of {@link DataChanges}.
 */
export interface IDataChangesProps {
  /** Fetches the data diff (`GET /mlvc/data/diff`). */
  load: () => Promise<Mlvc.IDataFilesDiff>;
  /** The translation bundle. */
  trans: TranslationBundle;
}

/**
 * The data files two commits read that differ: sizes on both sides, and for CSV and
 * parquet files whose content both commits stored, the rows and the columns.
 */
export function DataChanges(props: IDataChangesProps): JSX.Element {
  const { load, trans } = props;
  const [diff, setDiff] = React.useState<Mlvc.IDataFilesDiff | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let live = true;
    load().then(
      d => live && setDiff(d),
      reason => live && setError(String(reason?.message ?? reason))
    );
    return () => {
      live = false;
    };
  }, [load]);
  if (error !== null) {
    return (
      <p className="jp-mlvc-muted" role="alert">
        {trans.__('Rows and columns could not be compared: %1', error)}
      </p>
    );
  }
  if (diff === null) {
    return (
      <p className="jp-mlvc-muted">{trans.__('Comparing rows and columns…')}</p>
    );
  }
  return <DataFilesTable diff={diff} trans={trans} />;
}

/**
 * The table of {@link DataChanges}: one row per data file that differs.
 */
export function DataFilesTable(props: {
  diff: Mlvc.IDataFilesDiff;
  trans: TranslationBundle;
}): JSX.Element {
  const { diff, trans } = props;
  if (diff.files.length === 0) {
    return <></>;
  }
  return (
    <table
      className="jp-mlvc-table jp-mlvc-DataChanges"
      aria-label={trans.__('Data files')}
    >
      <thead>
        <tr>
          <th>{trans.__('File')}</th>
          <th>{trans.__('Status')}</th>
          <th>{trans.__('Size')}</th>
          <th>{trans.__('Rows')}</th>
          <th>{trans.__('Columns')}</th>
        </tr>
      </thead>
      <tbody>
        {diff.files.map(f => (
          <tr key={f.path} className="jp-mlvc-changed">
            <td>
              <code className="jp-mlvc-clip" title={f.path}>
                {f.path}
              </code>
            </td>
            <td>{f.status}</td>
            <td>
              {formatBytes(f.size_a)} → {formatBytes(f.size_b)}
            </td>
            <td>{describeRows(f.rows, trans)}</td>
            <td>
              {f.schema
                ? describeSchema(f.schema, trans)
                : (f.note ??
                  (f.captured ? '' : trans.__('content not captured')))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The body of the data checkout dialog: the files it will replace (each kept first
 * as a safety copy), those already as the commit read them, those it cannot bring
 * back (only their hashes were recorded).
 */
export function DataCheckoutList(props: {
  plan: Mlvc.IDataCheckout;
  trans: TranslationBundle;
}): JSX.Element {
  const { plan, trans } = props;
  const copies = plan.safety_copies;
  return (
    <div className="jp-mlvc-DataCheckout">
      {plan.restored.length === 0 ? (
        <p>{trans.__('Every data file is already as this commit read it.')}</p>
      ) : (
        <>
          <p>
            {trans.__(
              'These data files will be replaced by the versions commit %1 read (%2 in all):',
              plan.commit.slice(0, 8),
              formatBytes(plan.bytes)
            )}
          </p>
          <ul aria-label={trans.__('Files to replace')}>
            {plan.restored.map(p => (
              <li key={p}>
                <code>{p}</code>
                {copies[p] ? (
                  <span className="jp-mlvc-muted">
                    {' '}
                    {trans.__('(the current file is kept as a safety copy)')}
                  </span>
                ) : (
                  <span className="jp-mlvc-muted">
                    {' '}
                    {trans.__('(missing)')}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {plan.unchanged.length > 0 && (
        <p className="jp-mlvc-muted">
          {trans.__(
            'Already as the commit read them: %1',
            plan.unchanged.join(', ')
          )}
        </p>
      )}
      {plan.not_captured.length > 0 && (
        <p className="jp-mlvc-muted">
          {trans.__(
            'Only the hashes of these were recorded, their content cannot be brought back: %1',
            plan.not_captured.join(', ')
          )}
        </p>
      )}
    </div>
  );
}
