import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Mlvc } from '../tokens';

/**
 * Props of {@link DiffView}.
 */
export interface IDiffViewProps {
  /** The diff to show. */
  diff: Mlvc.IDiff;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
}

/**
 * Show a value briefly.
 *
 * @param value - Any JSON value.
 * @returns Short text.
 */
export function show(value: unknown): string {
  if (value === undefined || value === null) {
    return '—';
  }
  if (typeof value === 'number') {
    return Number(value.toPrecision(6)).toString();
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

function showSize(bytes: unknown): string {
  if (typeof bytes !== 'number') {
    return '';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/**
 * The difference between two commits: summary, variables, data, environment, notebook.
 */
export function DiffView(props: IDiffViewProps): JSX.Element {
  const { diff, trans } = props;
  const changed = (list: Mlvc.IDiffEntry[]) =>
    list.filter(e => e.status !== 'unchanged');
  const values = [
    ...changed(diff.params).map(e => ({ ...e, section: trans.__('Param') })),
    ...changed(diff.metrics).map(e => ({ ...e, section: trans.__('Metric') }))
  ];
  return (
    <div className="jp-mlvc-DiffView">
      <h2 className="jp-mlvc-DiffView-title">
        {diff.a.short_id ?? diff.a.id.slice(0, 7)} {show(diff.a.message)} →{' '}
        {diff.b.short_id ?? diff.b.id.slice(0, 7)} {show(diff.b.message)}
      </h2>

      <section aria-label={trans.__('Summary')}>
        <h3>{trans.__('Summary')}</h3>
        {values.length === 0 ? (
          <p className="jp-mlvc-muted">
            {trans.__('No param or metric changed.')}
          </p>
        ) : (
          <table className="jp-mlvc-table">
            <tbody>
              {values.map(e => (
                <tr key={`${e.section}:${e.key}`} className="jp-mlvc-changed">
                  <th scope="row">{e.section}</th>
                  <td>{e.key}</td>
                  <td>
                    {show(e.a)} → {show(e.b)}
                  </td>
                  <td>
                    {typeof e.delta === 'number'
                      ? `(${e.delta > 0 ? '+' : ''}${show(e.delta)})`
                      : e.status}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-label={trans.__('Variables')}>
        <h3>{trans.__('Variables')}</h3>
        <table className="jp-mlvc-table">
          <thead>
            <tr>
              <th>{trans.__('Name')}</th>
              <th>{trans.__('Type')}</th>
              <th>{trans.__('Shape / dtype')}</th>
              <th>{trans.__('Size')}</th>
              <th>{trans.__('Status')}</th>
              <th>{trans.__('What changed')}</th>
            </tr>
          </thead>
          <tbody>
            {diff.variables.map(v => {
              const side = v.b ?? v.a ?? {};
              const what: string[] = [];
              if (
                v.status === 'changed' &&
                ('value' in (v.a ?? {}) || 'value' in (v.b ?? {}))
              ) {
                what.push(`${show(v.a?.value)} → ${show(v.b?.value)}`);
              }
              if (typeof v.fraction_changed === 'number') {
                what.push(
                  trans.__(
                    '%1% of elements',
                    (v.fraction_changed * 100).toFixed(1)
                  )
                );
              }
              if (typeof v.max_abs_diff === 'number') {
                what.push(trans.__('max |Δ| %1', show(v.max_abs_diff)));
              }
              if (v.segments_total) {
                what.push(
                  trans.__(
                    '%1 of %2 parts (tensors), %3% of bytes',
                    (v.segments_changed ?? []).length,
                    v.segments_total,
                    ((v.fraction_bytes_changed ?? 0) * 100).toFixed(1)
                  )
                );
              }
              if (Array.isArray(v.fitted_changed) && v.fitted_changed.length) {
                what.push(v.fitted_changed.join(', '));
              }
              return (
                <tr
                  key={v.name}
                  className={
                    v.status === 'unchanged'
                      ? 'jp-mlvc-muted'
                      : 'jp-mlvc-changed'
                  }
                >
                  <td>{v.name}</td>
                  <td>{show(side.type)}</td>
                  <td>
                    {[side.shape, side.dtype]
                      .filter(x => x !== undefined)
                      .map(show)
                      .join(' ')}
                  </td>
                  <td>{showSize(side.size)}</td>
                  <td>{v.status}</td>
                  <td>{what.join(', ')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>

      <section aria-label={trans.__('Data')}>
        <h3>{trans.__('Data')}</h3>
        {changed(diff.data).length === 0 ? (
          <p className="jp-mlvc-muted">{trans.__('No data file changed.')}</p>
        ) : (
          <ul>
            {changed(diff.data).map(f => (
              <li key={f.path}>
                {f.path}: {f.status} {show(f.a?.hash).slice(0, 8)} →{' '}
                {show(f.b?.hash).slice(0, 8)}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-label={trans.__('Environment')}>
        <h3>{trans.__('Environment and hardware')}</h3>
        {diff.env.changed.length + diff.hardware.changed.length === 0 ? (
          <p className="jp-mlvc-muted">{trans.__('Nothing changed.')}</p>
        ) : (
          <ul>
            {[...diff.env.changed, ...diff.hardware.changed].map(e => (
              <li key={e.key}>
                {e.key}: {show(e.a)} → {show(e.b)}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-label={trans.__('Notebook')}>
        <h3>{trans.__('Notebook')}</h3>
        <NotebookDiff notebook={diff.notebook} trans={trans} />
      </section>
    </div>
  );
}

/**
 * The notebook part: cell counts, then each changed cell's source lines.
 */
function NotebookDiff(props: {
  notebook: Mlvc.IDiff['notebook'];
  trans: TranslationBundle;
}): JSX.Element {
  const { notebook, trans } = props;
  if (notebook.status !== 'changed') {
    return <p className="jp-mlvc-muted">{notebook.status}</p>;
  }
  const c = notebook.cells ?? {};
  const cellOps =
    (notebook.diff ?? []).find((e: any) => e.key === 'cells')?.diff ?? [];
  const blocks: JSX.Element[] = [];
  let outputsOnly = 0;
  for (const op of cellOps) {
    if (op.op === 'addrange') {
      for (const cell of op.valuelist ?? []) {
        blocks.push(
          <pre key={`add${blocks.length}`} className="jp-mlvc-added">
            {trans.__('Cell added:')}
            {'\n'}
            {sourceOf(cell)}
          </pre>
        );
      }
    } else if (op.op === 'removerange') {
      blocks.push(
        <p key={`rm${blocks.length}`} className="jp-mlvc-removed">
          {trans.__('%1 cells removed at %2', op.length, op.key)}
        </p>
      );
    } else if (op.op === 'patch') {
      const source = (op.diff ?? []).find((d: any) => d.key === 'source');
      if (!source) {
        outputsOnly++;
        continue;
      }
      blocks.push(
        <pre key={`p${blocks.length}`} className="jp-mlvc-cellDiff">
          {trans.__('Cell %1:', Number(op.key) + 1)}
          {'\n'}
          {patchLines(source).map((line, i) => (
            <span key={i} className={line.cls}>
              {line.text}
              {'\n'}
            </span>
          ))}
        </pre>
      );
    }
  }
  return (
    <>
      <p>
        {trans.__(
          '%1 cells added, %2 removed, %3 modified, %4 with changed outputs.',
          c.added ?? 0,
          c.removed ?? 0,
          c.modified ?? 0,
          c.outputs_changed ?? 0
        )}
      </p>
      {notebook.error && <p className="jp-mlvc-error">{notebook.error}</p>}
      {blocks}
      {outputsOnly > 0 && (
        <p className="jp-mlvc-muted">
          {trans.__('%1 cells with only outputs changed (folded)', outputsOnly)}
        </p>
      )}
      <p className="jp-mlvc-muted">
        {trans.__('Other cells unchanged (folded).')}
      </p>
    </>
  );
}

function sourceOf(cell: any): string {
  const src = cell?.source;
  return Array.isArray(src) ? src.join('') : String(src ?? '');
}

/**
 * The lines an nbdime source patch adds (+), removes (-) and edits (~).
 * Its top-level keys are line numbers; a patch of one line holds character edits.
 */
function patchLines(entry: any): { text: string; cls: string }[] {
  const out: { text: string; cls: string }[] = [];
  if (entry.op === 'replace') {
    return [{ text: '± ' + show(entry.value), cls: 'jp-mlvc-added' }];
  }
  for (const op of entry.diff ?? []) {
    const line = Number(op.key) + 1;
    if (op.op === 'addrange') {
      for (const text of op.valuelist ?? []) {
        out.push({
          text: '+ ' + String(text).replace(/\n$/, ''),
          cls: 'jp-mlvc-added'
        });
      }
    } else if (op.op === 'removerange') {
      out.push({
        text: `- ${op.length} line(s) removed at line ${line}`,
        cls: 'jp-mlvc-removed'
      });
    } else if (op.op === 'patch') {
      const edits = (op.diff ?? []).map((c: any) => {
        if (c.op === 'addrange') {
          const added = Array.isArray(c.valuelist)
            ? c.valuelist.join('')
            : String(c.valuelist);
          return `+"${added}" at ${c.key}`;
        }
        if (c.op === 'removerange') {
          return `-${c.length} char(s) at ${c.key}`;
        }
        return `${c.op} at ${c.key}`;
      });
      out.push({
        text: `~ line ${line} edited: ${edits.join(', ')}`,
        cls: 'jp-mlvc-edited'
      });
    }
  }
  return out;
}
