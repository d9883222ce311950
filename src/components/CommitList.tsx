import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Mlvc } from '../tokens';

/**
 * Colors of branch lanes (JupyterLab variables, so themes apply).
 */
const LANE_COLORS = [
  'var(--jp-brand-color1)',
  'var(--jp-accent-color1)',
  'var(--jp-warn-color1)',
  'var(--jp-success-color1)',
  'var(--jp-error-color1)',
  'var(--jp-brand-color3)'
];

/**
 * The lane color of a branch: stable for a name.
 *
 * @param branch - The branch name.
 * @returns A CSS color.
 */
export function laneColor(branch: string | null | undefined): string {
  if (!branch || branch === 'main' || branch === 'master') {
    return LANE_COLORS[0];
  }
  let h = 0;
  for (const ch of branch) {
    h = (h * 131 + ch.charCodeAt(0)) >>> 0;
  }
  return LANE_COLORS[1 + (h % (LANE_COLORS.length - 1))];
}

/**
 * Props of {@link CommitList}.
 */
export interface ICommitListProps {
  /** Commit summaries, newest first. */
  commits: ReadonlyArray<Mlvc.ICommitSummary>;
  /** All loaded commits, to find parents' metrics; `commits` when omitted. */
  all?: ReadonlyArray<Mlvc.ICommitSummary>;
  /** Selected commit ids. */
  selected?: ReadonlyArray<string>;
  /** The time relative ages are computed against; now when omitted. */
  now?: Date;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
  /** Called when a row is clicked; `additive` for Ctrl/Cmd-click. */
  onSelect?: (id: string, additive: boolean) => void;
  /** Called to open a row's actions menu at a point. */
  onMenu?: (commit: Mlvc.ICommitSummary, x: number, y: number) => void;
}

/**
 * The commit history of one notebook, newest first.
 */
export function CommitList(props: ICommitListProps): JSX.Element {
  const now = props.now ?? new Date();
  const byId = new Map<string, Mlvc.ICommitSummary>();
  for (const c of props.all ?? props.commits) {
    byId.set(c.id, c);
  }
  const selected = props.selected ?? [];
  return (
    <ul className="jp-mlvc-CommitList" aria-label={props.trans.__('Commits')}>
      {props.commits.map(commit => (
        <CommitRow
          key={commit.id}
          commit={commit}
          parent={byId.get(commit.parents?.[0] ?? '')}
          selected={selected.includes(commit.id)}
          now={now}
          trans={props.trans}
          onSelect={props.onSelect}
          onMenu={props.onMenu}
        />
      ))}
    </ul>
  );
}

/**
 * Props of {@link CommitRow}.
 */
export interface ICommitRowProps {
  /** The commit to show. */
  commit: Mlvc.ICommitSummary;
  /** Its first parent, when loaded. */
  parent?: Mlvc.ICommitSummary;
  /** Whether the row is selected. */
  selected?: boolean;
  /** The time the relative age is computed against. */
  now: Date;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
  /** Called when the row is clicked. */
  onSelect?: (id: string, additive: boolean) => void;
  /** Called to open the row's actions menu. */
  onMenu?: (commit: Mlvc.ICommitSummary, x: number, y: number) => void;
}

/**
 * One commit: message and age, then author, id, branch and headline metrics.
 */
export function CommitRow(props: ICommitRowProps): JSX.Element {
  const { commit, now, trans, onSelect, onMenu } = props;
  const time = new Date(commit.time);
  const metrics = formatMetrics(commit.metrics, props.parent?.metrics);
  const chips = [
    ...(commit.branches ?? []).map(name => ({ name, kind: 'branch' })),
    ...(commit.tags ?? []).map(name => ({ name, kind: 'tag' }))
  ];
  const className =
    'jp-mlvc-CommitRow' + (props.selected ? ' jp-mlvc-mod-selected' : '');
  return (
    <li
      className={className}
      data-commit-id={commit.id}
      tabIndex={0}
      aria-current={props.selected ? 'true' : undefined}
      onClick={event => onSelect?.(commit.id, event.ctrlKey || event.metaKey)}
      onKeyDown={event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          onSelect?.(commit.id, event.ctrlKey || event.metaKey);
        }
      }}
      onContextMenu={event => {
        if (onMenu) {
          event.preventDefault();
          event.stopPropagation();
          onMenu(commit, event.clientX, event.clientY);
        }
      }}
    >
      <span
        className="jp-mlvc-CommitRow-lane"
        style={{ color: laneColor(commit.branch) }}
        title={commit.branch ?? ''}
        aria-hidden="true"
      />
      <div className="jp-mlvc-CommitRow-body">
        <div className="jp-mlvc-CommitRow-header">
          <span className="jp-mlvc-CommitRow-message" title={commit.message}>
            {commit.message || trans.__('(no message)')}
          </span>
          <time
            className="jp-mlvc-CommitRow-time"
            dateTime={commit.time}
            title={isNaN(time.getTime()) ? commit.time : time.toLocaleString()}
          >
            {formatAge(time, now, trans)}
          </time>
          {onMenu && (
            <button
              className="jp-mlvc-CommitRow-more"
              aria-label={trans.__('More actions')}
              title={trans.__('More actions')}
              onClick={event => {
                event.stopPropagation();
                const box = event.currentTarget.getBoundingClientRect();
                onMenu(commit, box.left, box.bottom);
              }}
            >
              ⋯
            </button>
          )}
        </div>
        <div className="jp-mlvc-CommitRow-details">
          <span className="jp-mlvc-CommitRow-author">{commit.author}</span>
          <span className="jp-mlvc-CommitRow-id" title={commit.id}>
            {commit.short_id}
          </span>
          {!(commit.branches ?? []).includes(commit.branch) && (
            <span className="jp-mlvc-CommitRow-branch">{commit.branch}</span>
          )}
          {chips.map(chip => (
            <span
              key={`${chip.kind}:${chip.name}`}
              className={`jp-mlvc-chip jp-mlvc-chip-${chip.kind}`}
              title={
                chip.kind === 'tag'
                  ? trans.__('Tag %1', chip.name)
                  : trans.__('Branch %1', chip.name)
              }
            >
              {chip.name}
            </span>
          ))}
          {metrics && (
            <span className="jp-mlvc-CommitRow-metrics">{metrics}</span>
          )}
        </div>
      </div>
    </li>
  );
}

/**
 * Say how long ago `time` was, in the largest unit that fits ("3 min ago").
 *
 * @param time - The past moment.
 * @param now - The present moment.
 * @param trans - The translation bundle of the extension.
 * @returns A short relative age, or an empty string for an invalid date.
 */
export function formatAge(
  time: Date,
  now: Date,
  trans: TranslationBundle
): string {
  const ms = now.getTime() - time.getTime();
  if (isNaN(ms)) {
    return '';
  }
  const seconds = Math.max(0, Math.round(ms / 1000));
  // Each unit formats its own count, so translations can reorder the words.
  const units: [number, (count: number) => string][] = [
    [60 * 60 * 24 * 365, n => trans.__('%1 y ago', n)],
    [60 * 60 * 24 * 30, n => trans.__('%1 mo ago', n)],
    [60 * 60 * 24 * 7, n => trans.__('%1 w ago', n)],
    [60 * 60 * 24, n => trans.__('%1 d ago', n)],
    [60 * 60, n => trans.__('%1 h ago', n)],
    [60, n => trans.__('%1 min ago', n)]
  ];
  for (const [size, format] of units) {
    if (seconds >= size) {
      return format(Math.floor(seconds / size));
    }
  }
  return trans.__('just now');
}

/**
 * Show up to three metrics as `name value`, numbers to four significant digits,
 * with the change against the parent's value (▲/▼).
 *
 * @param metrics - The commit's metrics.
 * @param parent - The parent's metrics, when known.
 * @returns The metrics joined by " · ", or an empty string when there are none.
 */
export function formatMetrics(
  metrics: {
    [key: string]: Mlvc.JSONValue;
  },
  parent?: { [key: string]: Mlvc.JSONValue }
): string {
  return Object.entries(metrics)
    .slice(0, 3)
    .map(([name, value]) => {
      const shown =
        typeof value === 'number'
          ? Number(value.toPrecision(4)).toString()
          : JSON.stringify(value);
      const before = parent?.[name];
      let delta = '';
      if (
        typeof value === 'number' &&
        typeof before === 'number' &&
        value !== before
      ) {
        const d = Number((value - before).toPrecision(3));
        delta = ` ${d > 0 ? '▲' : '▼'}${Math.abs(d)}`;
      }
      return `${name} ${shown}${delta}`;
    })
    .join(' · ');
}
