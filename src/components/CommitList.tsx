import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Mlvc } from '../tokens';

/**
 * Props of {@link CommitList}.
 */
export interface ICommitListProps {
  /** Commit summaries, newest first. */
  commits: ReadonlyArray<Mlvc.ICommitSummary>;
  /** The time relative ages are computed against; now when omitted. */
  now?: Date;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
}

/**
 * The commit history of one notebook, newest first.
 */
export function CommitList(props: ICommitListProps): JSX.Element {
  const now = props.now ?? new Date();
  return (
    <ul className="jp-mlvc-CommitList" aria-label={props.trans.__('Commits')}>
      {props.commits.map(commit => (
        <CommitRow
          key={commit.id}
          commit={commit}
          now={now}
          trans={props.trans}
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
  /** The time the relative age is computed against. */
  now: Date;
  /** The translation bundle of the extension. */
  trans: TranslationBundle;
}

/**
 * One commit: message and age, then author, id, branch and headline metrics.
 */
export function CommitRow(props: ICommitRowProps): JSX.Element {
  const { commit, now, trans } = props;
  const time = new Date(commit.time);
  const metrics = formatMetrics(commit.metrics);
  return (
    <li className="jp-mlvc-CommitRow" data-commit-id={commit.id}>
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
      </div>
      <div className="jp-mlvc-CommitRow-details">
        <span className="jp-mlvc-CommitRow-author">{commit.author}</span>
        <span className="jp-mlvc-CommitRow-id" title={commit.id}>
          {commit.short_id}
        </span>
        <span className="jp-mlvc-CommitRow-branch">{commit.branch}</span>
        {metrics && (
          <span className="jp-mlvc-CommitRow-metrics">{metrics}</span>
        )}
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
 * Show up to three metrics as `name value`, numbers to four significant digits.
 *
 * @param metrics - The commit's metrics.
 * @returns The metrics joined by " · ", or an empty string when there are none.
 */
export function formatMetrics(metrics: {
  [key: string]: Mlvc.JSONValue;
}): string {
  return Object.entries(metrics)
    .slice(0, 3)
    .map(([name, value]) => {
      const shown =
        typeof value === 'number'
          ? Number(value.toPrecision(4)).toString()
          : JSON.stringify(value);
      return `${name} ${shown}`;
    })
    .join(' · ');
}
