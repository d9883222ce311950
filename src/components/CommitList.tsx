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
 * Where one commit sits in the commit graph: its lane, the lanes that end in it
 * from above (children), pass by it, and leave it downward (parents).
 */
interface IGraphRow {
  /** The commit's lane. */
  col: number;
  /** Lanes coming down into the commit (its children). */
  up: number[];
  /** Lanes passing the row. */
  through: number[];
  /** Lanes leaving the commit towards its parents. */
  down: number[];
}

/**
 * Lay out a commit graph, newest first, the way `git log --graph` does: a commit
 * takes the lane of a child waiting for it (or a free one); its first parent
 * continues that lane, other parents get lanes of their own, and a parent some
 * lane already waits for is joined there.
 *
 * @param commits - Commits, newest first, with their parents.
 * @returns One row per commit, and the number of lanes used.
 */
export function graphLayout(
  commits: ReadonlyArray<Pick<Mlvc.ICommitSummary, 'id' | 'parents'>>
): { rows: IGraphRow[]; width: number } {
  const lanes: (string | null)[] = [];
  let width = 1;
  const free = (): number => {
    const at = lanes.indexOf(null);
    return at < 0 ? lanes.push(null) - 1 : at;
  };
  const rows = commits.map(commit => {
    const up = lanesWhere(lanes, id => id === commit.id);
    const col = up.length ? up[0] : free();
    for (const i of up) {
      lanes[i] = null;
    }
    lanes[col] = null;
    const through = lanesWhere(lanes, id => id !== null);
    const down: number[] = [];
    (commit.parents ?? []).forEach((parent, k) => {
      const waiting = lanes.indexOf(parent);
      if (waiting >= 0) {
        down.push(waiting);
      } else {
        const at = k === 0 ? col : free();
        lanes[at] = parent;
        down.push(at);
      }
    });
    width = Math.max(width, lanes.length, col + 1);
    while (lanes.length && lanes[lanes.length - 1] === null) {
      lanes.pop();
    }
    return { col, up, through, down };
  });
  return { rows, width };
}

function lanesWhere(
  lanes: (string | null)[],
  test: (id: string | null) => boolean
): number[] {
  const out: number[] = [];
  lanes.forEach((id, i) => {
    if (test(id)) {
      out.push(i);
    }
  });
  return out;
}

/** Horizontal distance between lanes, px. */
const LANE_STEP = 12;
/** Height of the commit dot's centre from the top of the row, px. */
const DOT_Y = 15;

/**
 * The graph cell of one row: lines of the lanes and the commit's dot.
 */
function GraphCell(props: {
  row: IGraphRow;
  width: number;
  title: string;
}): JSX.Element {
  const { row } = props;
  const x = (lane: number) => LANE_STEP / 2 + lane * LANE_STEP;
  const color = (lane: number) => LANE_COLORS[lane % LANE_COLORS.length];
  const bend = DOT_Y + LANE_STEP;
  return (
    <span
      className="jp-mlvc-CommitRow-graph"
      style={{ width: props.width * LANE_STEP }}
      title={props.title}
      aria-hidden="true"
    >
      <svg width={props.width * LANE_STEP} height="100%">
        {row.through.map(i => (
          <line
            key={`t${i}`}
            x1={x(i)}
            y1={0}
            x2={x(i)}
            y2="100%"
            stroke={color(i)}
          />
        ))}
        {row.up.map(i => (
          <line
            key={`u${i}`}
            x1={x(i)}
            y1={0}
            x2={x(row.col)}
            y2={DOT_Y}
            stroke={color(i)}
          />
        ))}
        {row.down.map(i => (
          <g key={`d${i}`} stroke={color(i)}>
            <line
              x1={x(row.col)}
              y1={DOT_Y}
              x2={x(i)}
              y2={i === row.col ? DOT_Y : bend}
            />
            <line
              x1={x(i)}
              y1={i === row.col ? DOT_Y : bend}
              x2={x(i)}
              y2="100%"
            />
          </g>
        ))}
        <circle
          cx={x(row.col)}
          cy={DOT_Y}
          r={4}
          fill={color(row.col)}
          className="jp-mlvc-CommitRow-dot"
        />
      </svg>
    </span>
  );
}

/**
 * Props of {@link CommitList}.
 */
interface ICommitListProps {
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
  /** How many metrics each row shows (3 when omitted). */
  headlineMetrics?: number;
  /** For each protected commit, the ids of its safety commits. */
  folded?: ReadonlyMap<string, string[]>;
  /** The commits whose safety commits are shown. */
  expanded?: ReadonlySet<string>;
  /** Show or fold a commit's safety commits. */
  onToggleFold?: (id: string) => void;
  /** The commit the notebook is at (marked "HEAD"). */
  head?: string | null;
}

/**
 * The commit history of one notebook, newest first, as a graph with branch lanes
 * (dots only when a filter hides some commits).
 */
export function CommitList(props: ICommitListProps): JSX.Element {
  const now = props.now ?? new Date();
  const byId = new Map<string, Mlvc.ICommitSummary>();
  for (const c of props.all ?? props.commits) {
    byId.set(c.id, c);
  }
  const selected = props.selected ?? [];
  const filtered =
    props.all !== undefined && props.all.length !== props.commits.length;
  const graph = React.useMemo(
    () =>
      graphLayout(
        filtered
          ? props.commits.map(c => ({ id: c.id, parents: [] }))
          : props.commits
      ),
    [props.commits, filtered]
  );
  const ref = React.useRef<HTMLUListElement>(null);
  const [first, last] = useVisibleRows(ref, props.commits.length);
  const n = props.commits.length;
  const end = Math.min(n, last);
  return (
    <ul
      ref={ref}
      className="jp-mlvc-CommitList"
      aria-label={props.trans.__('Commits')}
      style={{
        paddingTop: first * ROW_HEIGHT,
        paddingBottom: Math.max(0, n - end) * ROW_HEIGHT
      }}
    >
      {props.commits.slice(first, end).map((commit, k) => (
        <CommitRow
          key={commit.id}
          position={first + k + 1}
          count={n}
          graph={graph.rows[first + k]}
          graphWidth={graph.width}
          headlineMetrics={props.headlineMetrics}
          commit={commit}
          parent={byId.get(commit.parents?.[0] ?? '')}
          selected={selected.includes(commit.id)}
          now={now}
          trans={props.trans}
          onSelect={props.onSelect}
          onMenu={props.onMenu}
          folded={props.folded?.get(commit.id)?.length ?? 0}
          expanded={props.expanded?.has(commit.id) ?? false}
          isHead={props.head === commit.id}
          onToggleFold={props.onToggleFold}
        />
      ))}
    </ul>
  );
}

/** The height of a row, px (fixed by the stylesheet, so rows can be windowed). */
const ROW_HEIGHT = 50;
/** Rows rendered before the list knows its scroll box (and when rendered to HTML). */
const INITIAL_ROWS = 60;
/** Rows rendered beyond each edge of the visible part. */
const OVERSCAN = 10;

/**
 * The nearest ancestor that scrolls vertically.
 */
function scrollBox(node: HTMLElement): HTMLElement | null {
  for (let el = node.parentElement; el; el = el.parentElement) {
    const overflow = getComputedStyle(el).overflowY;
    if (overflow === 'auto' || overflow === 'scroll') {
      return el;
    }
  }
  return null;
}

/**
 * The rows `[first, last)` of a list of fixed-height rows that are in view in
 * its scroll box (plus some overscan), updated once per frame while it scrolls
 * or resizes: a history of thousands of commits renders a few dozen rows.
 */
function useVisibleRows(
  ref: React.RefObject<HTMLElement>,
  count: number
): [number, number] {
  const [range, setRange] = React.useState<[number, number]>([0, INITIAL_ROWS]);
  const schedule = React.useRef<() => void>(() => undefined);
  React.useEffect(() => {
    const list = ref.current;
    const box = list ? scrollBox(list) : null;
    if (!list || !box) {
      return;
    }
    let frame = 0;
    const update = () => {
      frame = 0;
      const top =
        list.getBoundingClientRect().top - box.getBoundingClientRect().top;
      const first = Math.max(0, Math.floor(-top / ROW_HEIGHT) - OVERSCAN);
      const last = Math.max(
        first + 1,
        Math.ceil((box.clientHeight - top) / ROW_HEIGHT) + OVERSCAN
      );
      setRange(r => (r[0] === first && r[1] === last ? r : [first, last]));
    };
    schedule.current = () => {
      if (!frame) {
        frame = requestAnimationFrame(update);
      }
    };
    const onScroll = () => schedule.current();
    box.addEventListener('scroll', onScroll, { passive: true });
    const resize = new ResizeObserver(onScroll);
    resize.observe(box);
    update();
    return () => {
      box.removeEventListener('scroll', onScroll);
      resize.disconnect();
      cancelAnimationFrame(frame);
      schedule.current = () => undefined;
    };
  }, [ref]);
  // A filter or a new page changes the list's length: look again.
  React.useEffect(() => schedule.current(), [count]);
  return range;
}

/**
 * Props of {@link CommitRow}.
 */
interface ICommitRowProps {
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
  /** Its place in the commit graph; a plain dot when omitted. */
  graph?: IGraphRow;
  /** The number of lanes of the graph. */
  graphWidth?: number;
  /** How many metrics to show (3 when omitted). */
  headlineMetrics?: number;
  /** Its position in the whole list, from 1 (for assistive technology). */
  /** Whether the notebook is at this commit. */
  isHead?: boolean;
  /** How many safety commits are folded under this one. */
  folded?: number;
  /** Whether they are shown. */
  expanded?: boolean;
  /** Show or fold them. */
  onToggleFold?: (id: string) => void;
  position?: number;
  /** The length of the whole list. */
  count?: number;
}

/**
 * One commit: message and age, then author, id, branch and headline metrics.
 */
const CommitRow = React.memo(CommitRowView, sameRow);

/**
 * Whether a row would render the same: the same props, and an age that reads the
 * same (the clock moves on every render of the list).
 */
function sameRow(a: ICommitRowProps, b: ICommitRowProps): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (key === 'now') {
      if (
        Math.floor(a.now.getTime() / 60000) !==
        Math.floor(b.now.getTime() / 60000)
      ) {
        return false;
      }
    } else if (
      a[key as keyof ICommitRowProps] !== b[key as keyof ICommitRowProps]
    ) {
      return false;
    }
  }
  return true;
}

function CommitRowView(props: ICommitRowProps): JSX.Element {
  const { commit, now, trans, onSelect, onMenu } = props;
  const time = new Date(commit.time);
  const metrics = formatMetrics(
    commit.metrics,
    props.parent?.metrics,
    props.headlineMetrics
  );
  const chips = [
    ...(commit.branches ?? []).map(name => ({ name, kind: 'branch' })),
    ...(commit.tags ?? []).map(name => ({ name, kind: 'tag' }))
  ];
  const className =
    'jp-mlvc-CommitRow' +
    (props.selected ? ' jp-mlvc-mod-selected' : '') +
    (commit.kind === 'safety' ? ' jp-mlvc-mod-safety' : '') +
    (props.isHead ? ' jp-mlvc-mod-head' : '');
  const folded = props.folded ?? 0;
  return (
    <li
      className={className}
      data-commit-id={commit.id}
      aria-posinset={props.position}
      aria-setsize={props.count}
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
      <GraphCell
        row={props.graph ?? { col: 0, up: [], through: [], down: [] }}
        width={props.graphWidth ?? 1}
        title={commit.branch ?? ''}
      />
      <div className="jp-mlvc-CommitRow-body">
        <div className="jp-mlvc-CommitRow-header">
          {props.isHead && (
            <span
              className="jp-mlvc-CommitRow-head"
              role="img"
              aria-label={trans.__('Checked out (HEAD)')}
              title={trans.__('The notebook is at this commit (HEAD)')}
            >
              ●
            </span>
          )}
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
          {commit.branch !== null &&
            !(commit.branches ?? []).includes(commit.branch) && (
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
          {commit.kind === 'safety' && (
            <span
              className="jp-mlvc-chip jp-mlvc-chip-safety"
              title={trans.__(
                'A safety commit: the state saved before a checkout or restore'
              )}
            >
              {trans.__('safety')}
            </span>
          )}
          {folded > 0 && props.onToggleFold && (
            <button
              className="jp-mlvc-CommitRow-fold"
              aria-expanded={props.expanded ? 'true' : 'false'}
              title={trans.__(
                'Safety commits made on top of this commit before a checkout'
              )}
              onClick={event => {
                event.stopPropagation();
                props.onToggleFold?.(commit.id);
              }}
            >
              {(props.expanded ? '▾ ' : '▸ ') +
                (folded === 1
                  ? trans.__('1 safety commit')
                  : trans.__('%1 safety commits', folded))}
            </button>
          )}
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
 * Show the first `count` metrics as `name value`, numbers to four significant digits,
 * with the change against the parent's value (▲/▼).
 *
 * @param metrics - The commit's metrics.
 * @param parent - The parent's metrics, when known.
 * @param count - How many to show.
 * @returns The metrics joined by " · ", or an empty string when there are none.
 */
function formatMetrics(
  metrics: {
    [key: string]: Mlvc.JSONValue;
  },
  parent?: { [key: string]: Mlvc.JSONValue },
  count = 3
): string {
  return Object.entries(metrics)
    .slice(0, count)
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
