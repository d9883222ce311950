/**
 * The model follows the notebook in focus, and fetches its status again after a
 * save or a cell run (debounced), only for that notebook.
 */
import type { INotebookTracker } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import { followNotebooks } from '../follow';
import type { ExperimentsModel } from '../model';

class FakePanel {
  constructor(path: string) {
    this.context = { path, fileChanged: new Signal(this) };
    this.sessionContext = { statusChanged: new Signal(this) };
  }
  isDisposed = false;
  context: { path: string; fileChanged: Signal<FakePanel, unknown> };
  sessionContext: { statusChanged: Signal<FakePanel, string> };
}

class FakeTracker {
  currentWidget: FakePanel | null = null;
  currentChanged = new Signal<this, FakePanel | null>(this);
  widgetUpdated = new Signal<this, FakePanel>(this);
  focus(panel: FakePanel | null): void {
    this.currentWidget = panel;
    this.currentChanged.emit(panel);
  }
}

function setup() {
  const tracker = new FakeTracker();
  const model = {
    setNotebook: jest.fn().mockResolvedValue(undefined),
    refreshStatus: jest.fn().mockResolvedValue(undefined)
  };
  const following = followNotebooks(
    tracker as unknown as INotebookTracker,
    model as unknown as ExperimentsModel
  );
  return { tracker, model, following };
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('followNotebooks', () => {
  it('follows the notebook in focus, and a rename', () => {
    const { tracker, model } = setup();
    expect(model.setNotebook).toHaveBeenLastCalledWith(null);
    const a = new FakePanel('a.ipynb');
    tracker.focus(a);
    expect(model.setNotebook).toHaveBeenLastCalledWith('a.ipynb');
    a.context.path = 'b.ipynb';
    tracker.widgetUpdated.emit(a);
    expect(model.setNotebook).toHaveBeenLastCalledWith('b.ipynb');
  });

  it('fetches the status once after a burst of saves', () => {
    const { tracker, model } = setup();
    const a = new FakePanel('a.ipynb');
    tracker.focus(a);
    a.context.fileChanged.emit({});
    a.context.fileChanged.emit({});
    expect(model.refreshStatus).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1000);
    expect(model.refreshStatus).toHaveBeenCalledTimes(1);
  });

  it('fetches the status when the kernel goes idle after running code', () => {
    const { tracker, model } = setup();
    const a = new FakePanel('a.ipynb');
    tracker.focus(a);
    a.sessionContext.statusChanged.emit('idle');
    jest.advanceTimersByTime(1000);
    expect(model.refreshStatus).not.toHaveBeenCalled();
    a.sessionContext.statusChanged.emit('busy');
    a.sessionContext.statusChanged.emit('idle');
    jest.advanceTimersByTime(1000);
    expect(model.refreshStatus).toHaveBeenCalledTimes(1);
  });

  it('stops watching a notebook out of focus, and everything when disposed', () => {
    const { tracker, model, following } = setup();
    const a = new FakePanel('a.ipynb');
    const b = new FakePanel('b.ipynb');
    tracker.focus(a);
    tracker.focus(b);
    a.context.fileChanged.emit({});
    jest.advanceTimersByTime(1000);
    expect(model.refreshStatus).not.toHaveBeenCalled();
    b.context.fileChanged.emit({});
    following.dispose();
    jest.advanceTimersByTime(1000);
    expect(model.refreshStatus).not.toHaveBeenCalled();
    tracker.focus(a);
    expect(model.setNotebook).not.toHaveBeenLastCalledWith('a.ipynb');
  });
});
