import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Mlvc } from '../tokens';

/**
 * Props of {@link DiffView}.
 */
interface IDiffViewProps {
  /** The diff to show. */
  diff: Mlvc.IDiff;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
  /** Show cell outputs and execution counts at first. */
  showOutputs?: boolean;
  /** The data files' sizes, rows and columns (components/DataChanges.tsx). */
  data?: JSX.Element;
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
 * A commit message as a heading: its first line, at most 80 characters.
 *
 * @param message - The message.
 */
export function headline(message: unknown): string {
  const first = show(message).split('\n')[0];
  return first.length > 80 ? `${first.slice(0, 79)}…` : first;
}

/**
 * A data file's hash without its algorithm prefix (`blake3:`), cut to 10 digits.
 *
 * @param hash - The hash as recorded, e.g. `blake3:9f3c…`.
 */
export function shortHash(hash: unknown): string {
  if (typeof hash !== 'string' || hash === '') {
    return '—';
  }
  return hash.replace(/^[a-z0-9]+:/, '').slice(0, 10);
}

/**
 * A value cut with an ellipsis when it is longer than its column allows; the
 * whole value shows on hover. The diff's tables fit a 1024 px window so.
 *
 * @param props.text - The value.
 * @param props.title - What shows on hover (default: the value).
 */
export function Clip(props: { text: string; title?: string }): JSX.Element {
  return (
    <span className="jp-mlvc-clip" title={props.title ?? props.text}>
      {props.text}
    </span>
  );
}

/**
 * One side of a changed data file: its short hash (the full one on hover) and size.
 */
function DataSide(props: {
  file: Mlvc.IDiff['data'][number]['a'];
}): JSX.Element {
  const { file } = props;
  if (!file) {
    return <span>—</span>;
  }
  const size = showSize(file.size);
  return (
    <span title={show(file.hash)}>
      <code>{shortHash(file.hash)}</code>
      {size ? ` (${size})` : ''}
    </span>
  );
}

/**
 * The parts of what changed in one variable, one line each. The server sends the
 * presenter's words (`change`, the same text `mlvc diff` and `%mlvc diff` print:
 * type, then the model's, frame's or tensors' own lines, or the values old → new);
 * the semantic `lines` the presenter cut are added after them. Without `change`
 * (an older server), the parts are made here from the numbers.
 *
 * @param v - The variable's diff.
 * @param trans - The translation bundle.
 */
export function whatChanged(
  v: Mlvc.IDiff['variables'][number],
  trans: TranslationBundle
): string[] {
  if (v.status === 'unchanged') {
    return [];
  }
  if (typeof v.change === 'string') {
    const parts = v.change.split(' · ').filter(p => p !== '');
    const lines = (v.lines ?? []).map(l => l.replace(/ -> /g, ' → '));
    // the presenter tells models, frames and tensors by their lines, the first
    // few only: the rest follow (other kinds' lines repeat what it said)
    if (lines.length > 0 && parts.includes(lines[0])) {
      lines.forEach(l => {
        if (!parts.includes(l)) {
          parts.push(l);
        }
      });
    }
    return parts;
  }
  const what: string[] = [];
  if (
    v.status === 'changed' &&
    ('value' in (v.a ?? {}) || 'value' in (v.b ?? {}))
  ) {
    what.push(`${show(v.a?.value)} → ${show(v.b?.value)}`);
  }
  if (typeof v.fraction_changed === 'number') {
    what.push(
      trans.__('%1% of elements', (v.fraction_changed * 100).toFixed(1))
    );
  }
  if (typeof v.max_abs_diff === 'number') {
    what.push(trans.__('max |Δ| %1', show(v.max_abs_diff)));
  }
  if (v.segments_total) {
    what.push(
      trans.__(
        '%1 of %2 parts, %3% of bytes',
        (v.segments_changed ?? []).length,
        v.segments_total,
        ((v.fraction_bytes_changed ?? 0) * 100).toFixed(1)
      )
    );
  }
  if (Array.isArray(v.fitted_changed) && v.fitted_changed.length) {
    what.push(v.fitted_changed.join(', '));
  }
  return what;
}

/**
 * The difference between two commits: summary, variables, data, environment, notebook.
 */
export function DiffView(props: IDiffViewProps): JSX.Element {
  const { diff, trans } = props;
  const changed = <T extends { status: string }>(list: T[]) =>
    list.filter(e => e.status !== 'unchanged');
  const values = [
    ...changed(diff.params).map(e => ({ ...e, section: trans.__('Param') })),
    ...changed(diff.metrics).map(e => ({ ...e, section: trans.__('Metric') }))
  ];
  return (
    <div className="jp-mlvc-DiffView">
      <h2
        className="jp-mlvc-DiffView-title"
        title={`${diff.a.id} ${show(diff.a.message)}\n→ ${diff.b.id} ${show(diff.b.message)}`}
      >
        {diff.a.short_id ?? diff.a.id.slice(0, 7)} {headline(diff.a.message)} →{' '}
        {diff.b.short_id ?? diff.b.id.slice(0, 7)} {headline(diff.b.message)}
      </h2>

      <section aria-label={trans.__('Summary')}>
        <h3>{trans.__('Summary')}</h3>
        {values.length === 0 ? (
          <p className="jp-mlvc-muted">
            {trans.__('No param or metric changed.')}
          </p>
        ) : (
          <table className="jp-mlvc-table jp-mlvc-fit">
            <colgroup>
              <col style={{ width: '5.5em' }} />
              <col style={{ width: '25%' }} />
              <col />
              <col style={{ width: '7em' }} />
            </colgroup>
            <tbody>
              {values.map(e => (
                <tr key={`${e.section}:${e.key}`} className="jp-mlvc-changed">
                  <th scope="row">{e.section}</th>
                  <td>
                    <Clip text={e.key} />
                  </td>
                  <td className="jp-mlvc-wrap">
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
        <table className="jp-mlvc-table jp-mlvc-fit">
          <colgroup>
            <col style={{ width: '18%' }} />
            <col style={{ width: '12%' }} />
            <col style={{ width: '13%' }} />
            <col style={{ width: '5.5em' }} />
            <col style={{ width: '7.5em' }} />
            <col />
          </colgroup>
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
              const what = whatChanged(v, trans);
              return (
                <tr
                  key={v.name}
                  className={
                    v.status === 'unchanged'
                      ? 'jp-mlvc-muted'
                      : 'jp-mlvc-changed'
                  }
                >
                  <td>
                    <Clip text={v.name} />
                  </td>
                  <td>
                    <Clip
                      text={show(side.type).split('.').pop() ?? ''}
                      title={show(side.type)}
                    />
                  </td>
                  <td>
                    <Clip
                      text={[side.shape, side.dtype]
                        .filter(x => x !== undefined)
                        .map(show)
                        .join(' ')}
                    />
                  </td>
                  <td>{showSize(side.size)}</td>
                  <td>{v.status}</td>
                  <td className="jp-mlvc-wrap">
                    {what.length > 1 ? (
                      <ul className="jp-mlvc-DiffView-change">
                        {what.map((line, i) => (
                          <li key={i}>{line}</li>
                        ))}
                      </ul>
                    ) : (
                      what[0]
                    )}
                  </td>
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
          <ul className="jp-mlvc-wrap">
            {changed(diff.data).map(f => (
              <li key={f.path}>
                {f.path}: {f.status} <DataSide file={f.a} /> →{' '}
                <DataSide file={f.b} />
              </li>
            ))}
          </ul>
        )}
        {changed(diff.data).length > 0 && props.data}
      </section>

      <section aria-label={trans.__('Environment')}>
        <h3>{trans.__('Environment and hardware')}</h3>
        {diff.env.changed.length + diff.hardware.changed.length === 0 ? (
          <p className="jp-mlvc-muted">{trans.__('Nothing changed.')}</p>
        ) : (
          <ul className="jp-mlvc-wrap">
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
        <NotebookDiff
          notebook={diff.notebook}
          trans={trans}
          showOutputs={props.showOutputs}
        />
      </section>
    </div>
  );
}

/**
 * The notebook part: changed cells as line diffs, runs of unchanged cells folded,
 * outputs and execution counts shown on request.
 */
export function NotebookDiff(props: {
  notebook: Mlvc.IDiff['notebook'];
  trans: TranslationBundle;
  showOutputs?: boolean;
}): JSX.Element {
  const { notebook, trans } = props;
  const [outputs, setOutputs] = React.useState(props.showOutputs ?? false);
  const [open, setOpen] = React.useState<Set<number>>(new Set());
  if (notebook.status !== 'changed') {
    return <p className="jp-mlvc-muted">{notebook.status}</p>;
  }
  const c: Partial<NonNullable<typeof notebook.cells>> = notebook.cells ?? {};
  const pairs: Mlvc.ICellPair[] = notebook.cell_view ?? [];
  const quiet = (p: Mlvc.ICellPair) =>
    p.status === 'unchanged' || (p.status === 'outputs' && !outputs);
  const blocks: JSX.Element[] = [];
  let n = 0;
  for (let i = 0; i < pairs.length;) {
    if (quiet(pairs[i])) {
      const start = i;
      while (i < pairs.length && quiet(pairs[i])) {
        i++;
      }
      const expanded = open.has(start);
      const count = i - start;
      // Cells run again show a new execution count; say so only of new outputs.
      const outputsOnly = pairs
        .slice(start, i)
        .filter(
          p =>
            p.status === 'outputs' &&
            JSON.stringify(p.a?.outputs) !== JSON.stringify(p.b?.outputs)
        ).length;
      blocks.push(
        <button
          key={`fold${start}`}
          className="jp-mlvc-fold"
          aria-expanded={expanded}
          onClick={() => {
            const next = new Set(open);
            if (expanded) {
              next.delete(start);
            } else {
              next.add(start);
            }
            setOpen(next);
          }}
        >
          {expanded ? '▾ ' : '▸ '}
          {trans._n('%1 unchanged cell', '%1 unchanged cells', count)}
          {outputsOnly > 0 &&
            ' ' + trans.__('(%1 with new outputs)', outputsOnly)}
        </button>
      );
      if (expanded) {
        for (let k = start; k < i; k++) {
          blocks.push(
            <CellBlock
              key={`c${k}`}
              pair={pairs[k]}
              index={n + k - start}
              outputs={outputs}
              trans={trans}
            />
          );
        }
      }
      n += count;
      continue;
    }
    blocks.push(
      <CellBlock
        key={`c${i}`}
        pair={pairs[i]}
        index={n}
        outputs={outputs}
        trans={trans}
      />
    );
    n++;
    i++;
  }
  return (
    <>
      <div className="jp-mlvc-notebookBar">
        <span>
          {trans.__(
            '%1 cells added, %2 removed, %3 modified, %4 with changed outputs.',
            c.added ?? 0,
            c.removed ?? 0,
            c.modified ?? 0,
            c.outputs_changed ?? 0
          )}
        </span>
        <label>
          <input
            type="checkbox"
            checked={outputs}
            onChange={event => setOutputs(event.target.checked)}
          />{' '}
          {trans.__('Show outputs and execution counts')}
        </label>
      </div>
      {notebook.error && <p className="jp-mlvc-error">{notebook.error}</p>}
      <div className="jp-mlvc-cells">{blocks}</div>
    </>
  );
}

/**
 * One cell of the notebook diff.
 */
function CellBlock(props: {
  pair: Mlvc.ICellPair;
  index: number;
  outputs: boolean;
  trans: TranslationBundle;
}): JSX.Element {
  const { pair, index, outputs, trans } = props;
  const label: { [status: string]: string } = {
    unchanged: trans.__('unchanged'),
    added: trans.__('added'),
    removed: trans.__('removed'),
    modified: trans.__('modified'),
    outputs: trans.__('outputs changed')
  };
  const side = pair.b ?? pair.a;
  let lines: [string, string][];
  if (pair.lines) {
    lines = pair.lines;
  } else {
    const tag =
      pair.status === 'added' ? '+' : pair.status === 'removed' ? '-' : ' ';
    lines = (side?.source ?? '')
      .split('\n')
      .map(text => [tag, text] as [string, string]);
  }
  const count = (s?: Mlvc.ICellSide) =>
    s?.execution_count === null || s?.execution_count === undefined
      ? ' '
      : String(s.execution_count);
  return (
    <div
      className={`jp-mlvc-cell jp-mlvc-cell-${pair.status}`}
      aria-label={trans.__('Cell %1, %2', index + 1, label[pair.status])}
    >
      <div className="jp-mlvc-cellHeader">
        <span>
          {trans.__('Cell %1', index + 1)} · {pair.cell_type ?? ''}
        </span>
        {outputs && pair.cell_type === 'code' && (
          <span className="jp-mlvc-muted">
            [{count(pair.a)}] → [{count(pair.b)}]
          </span>
        )}
        <span className="jp-mlvc-cellStatus">{label[pair.status]}</span>
      </div>
      <pre className="jp-mlvc-source">
        {lines.map(([tag, text], i) => (
          <div
            key={i}
            className={
              tag === '+'
                ? 'jp-mlvc-line jp-mlvc-added'
                : tag === '-'
                  ? 'jp-mlvc-line jp-mlvc-removed'
                  : 'jp-mlvc-line'
            }
          >
            <span className="jp-mlvc-lineTag" aria-hidden="true">
              {tag}
            </span>
            {text}
          </div>
        ))}
      </pre>
      {outputs &&
      pair.cell_type === 'code' &&
      (pair.a?.outputs.length || pair.b?.outputs.length) ? (
        <div className="jp-mlvc-outputs">
          {pair.status !== 'added' && (
            <Outputs side={pair.a} title={trans.__('Before')} />
          )}
          {pair.status !== 'removed' && (
            <Outputs side={pair.b} title={trans.__('After')} />
          )}
        </div>
      ) : null}
    </div>
  );
}

/**
 * The outputs of one side of a cell.
 */
function Outputs(props: { side?: Mlvc.ICellSide; title: string }): JSX.Element {
  const outs = props.side?.outputs ?? [];
  return (
    <div className="jp-mlvc-outputSide">
      <div className="jp-mlvc-muted">{props.title}</div>
      {outs.length === 0 && <div className="jp-mlvc-muted">—</div>}
      {outs.map((o, i) =>
        o.kind === 'image' ? (
          <img key={i} src={`data:image/png;base64,${o.png}`} alt="" />
        ) : (
          <pre
            key={i}
            className={o.kind === 'error' ? 'jp-mlvc-error' : undefined}
          >
            {o.text}
          </pre>
        )
      )}
    </div>
  );
}
