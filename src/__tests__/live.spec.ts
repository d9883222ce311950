/**
 * Live sync: the model catches up on a store-changed event for its notebook
 * (debounced), checks slowly to keep the server watching, and polls with
 * conditional GETs only where there is no event stream.
 */
import type { Event } from '@jupyterlab/services';
import { Stream } from '@lumino/signaling';

import {
  concerns,
  FALLBACK_MS,
  KEEPALIVE_MS,
  liveSync,
  STORE_CHANGED_SCHEMA
} from '../live';

function setup(withEvents: boolean, path: string | null = 'dir/nb.ipynb') {
  const owner = {};
  const stream = new Stream<unknown, Event.Emission>(owner);
  const events = withEvents ? ({ stream } as unknown as Event.IManager) : null;
  const model = {
    state: { notebookPath: path },
    catchUp: jest.fn().mockResolvedValue(undefined)
  };
  const live = liveSync(model as any, events);
  return { stream, model, live };
}

const changed = (paths: string[]): Event.Emission => ({
  schema_id: STORE_CHANGED_SCHEMA,
  store: '',
  paths,
  reason: 'watcher'
});

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('liveSync', () => {
  it('catches up once for a burst of events about its notebook', () => {
    const { stream, model, live } = setup(true);
    stream.emit(changed(['dir/nb.ipynb', 'other.ipynb']));
    stream.emit(changed(['dir/nb.ipynb']));
    expect(model.catchUp).not.toHaveBeenCalled();
    jest.advanceTimersByTime(100);
    expect(model.catchUp).toHaveBeenCalledTimes(1);
    live.dispose();
  });

  it('ignores other notebooks, other events and malformed ones', () => {
    const { stream, model, live } = setup(true);
    stream.emit(changed(['other.ipynb']));
    stream.emit({
      schema_id: 'https://example.org/x',
      paths: ['dir/nb.ipynb']
    });
    stream.emit({ schema_id: STORE_CHANGED_SCHEMA, paths: 'dir/nb.ipynb' });
    jest.advanceTimersByTime(100);
    expect(model.catchUp).not.toHaveBeenCalled();
    expect(concerns(changed(['a.ipynb']), null)).toBe(false);
    live.dispose();
  });

  it('checks every KEEPALIVE_MS with events, every FALLBACK_MS without', () => {
    const withEvents = setup(true);
    jest.advanceTimersByTime(KEEPALIVE_MS - 1);
    expect(withEvents.model.catchUp).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(withEvents.model.catchUp).toHaveBeenCalledTimes(1);
    withEvents.live.dispose();

    const without = setup(false);
    jest.advanceTimersByTime(FALLBACK_MS * 3);
    expect(without.model.catchUp).toHaveBeenCalledTimes(3);
    without.live.dispose();
  });

  it('stops when disposed', () => {
    const { stream, model, live } = setup(true);
    live.dispose();
    stream.emit(changed(['dir/nb.ipynb']));
    jest.advanceTimersByTime(KEEPALIVE_MS * 2);
    expect(model.catchUp).not.toHaveBeenCalled();
  });
});
