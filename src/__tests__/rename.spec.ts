/**
 * A notebook's kernel is told when the notebook is renamed: one silent execute
 * request with the old and new paths, only to Python kernels, and none after the
 * notebook closed.
 */
import type { INotebookTracker } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import type { NotebookPanel } from '@jupyterlab/notebook';

import { movedCode, sessionSettled, tellKernelsWhenMoved } from '../rename';

class FakeKernel {
  constructor(language: string) {
    this.info = Promise.resolve({ language_info: { name: language } });
  }
  info: Promise<{ language_info: { name: string } }>;
  requestExecute = jest.fn(() => ({ done: Promise.resolve() }));
}

class FakeSession {
  constructor(
    public path: string,
    public kernel: FakeKernel
  ) {}
  isDisposed = false;
  setPath = jest.fn(async (path: string) => {
    this.path = path;
  });
}

class FakePanel {
  constructor(path: string, kernel: FakeKernel | null) {
    this.context = { path, pathChanged: new Signal(this) };
    this.sessionContext = {
      session: kernel ? new FakeSession(path, kernel) : null,
      sessionChanged: new Signal(this),
      ready: Promise.resolve()
    };
  }
  context: { path: string; pathChanged: Signal<FakePanel, string> };
  sessionContext: {
    session: FakeSession | null;
    sessionChanged: Signal<FakePanel, void>;
    ready: Promise<void>;
  };
  disposed = new Signal<this, void>(this);
  /** A rename, as JupyterLab's document context does it. */
  move(path: string): void {
    this.context.path = path;
    // JupyterLab moves the session only when it exists
    this.sessionContext.session?.setPath(path);
    this.context.pathChanged.emit(path);
  }
  /** A session that starts (for the path the session context had). */
  start(path: string, kernel: FakeKernel): FakeSession {
    const session = new FakeSession(path, kernel);
    this.sessionContext.session = session;
    this.sessionContext.sessionChanged.emit();
    return session;
  }
}

class FakeTracker {
  panels: FakePanel[] = [];
  widgetAdded = new Signal<this, FakePanel>(this);
  forEach(fn: (p: FakePanel) => void): void {
    this.panels.forEach(fn);
  }
  add(panel: FakePanel): void {
    this.panels.push(panel);
    this.widgetAdded.emit(panel);
  }
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('movedCode', () => {
  it('calls the kernel side with both paths as Python strings', () => {
    // the same text tests/kernel/test_locate.py sends to a real kernel
    expect(movedCode('Untitled.ipynb', 'a "b".ipynb')).toBe(
      'try:\n' +
        "    __import__('mlvc_server.kernel.session', fromlist=['notebook_moved'])" +
        '.notebook_moved("Untitled.ipynb", "a \\"b\\".ipynb")\n' +
        'except ImportError:\n' +
        '    pass\n'
    );
  });
});

describe('tellKernelsWhenMoved', () => {
  it('tells the Python kernel of an open or new notebook, silently', async () => {
    const tracker = new FakeTracker();
    const kernel = new FakeKernel('python');
    const open = new FakePanel('Untitled.ipynb', kernel);
    tracker.panels.push(open);
    const telling = tellKernelsWhenMoved(
      tracker as unknown as INotebookTracker
    );
    open.move('train.ipynb');
    await flush();
    expect(kernel.requestExecute).toHaveBeenCalledTimes(1);
    expect(kernel.requestExecute).toHaveBeenCalledWith(
      expect.objectContaining({
        code: movedCode('Untitled.ipynb', 'train.ipynb'),
        silent: true,
        store_history: false
      }),
      true
    );
    open.move('sub/train.ipynb');
    await flush();
    expect(kernel.requestExecute).toHaveBeenLastCalledWith(
      expect.objectContaining({
        code: movedCode('train.ipynb', 'sub/train.ipynb')
      }),
      true
    );

    const other = new FakeKernel('python');
    const added = new FakePanel('b.ipynb', other);
    tracker.add(added);
    added.move('c.ipynb');
    await flush();
    expect(other.requestExecute).toHaveBeenCalledTimes(1);

    telling.dispose();
    added.move('d.ipynb');
    await flush();
    expect(other.requestExecute).toHaveBeenCalledTimes(1);
  });

  it('leaves other kernels, no kernel and closed notebooks alone', async () => {
    const tracker = new FakeTracker();
    tellKernelsWhenMoved(tracker as unknown as INotebookTracker);
    const r = new FakeKernel('R');
    const rPanel = new FakePanel('a.ipynb', r);
    tracker.add(rPanel);
    rPanel.move('b.ipynb');
    const none = new FakePanel('c.ipynb', null);
    tracker.add(none);
    none.move('d.ipynb'); // nothing to tell, and no error
    const py = new FakeKernel('python');
    const closed = new FakePanel('e.ipynb', py);
    tracker.add(closed);
    closed.disposed.emit();
    closed.move('f.ipynb');
    await flush();
    expect(r.requestExecute).not.toHaveBeenCalled();
    expect(py.requestExecute).not.toHaveBeenCalled();
  });
});

describe('the session of a notebook renamed while its kernel starts', () => {
  it('is moved to the notebook, and its kernel told', async () => {
    const tracker = new FakeTracker();
    tellKernelsWhenMoved(tracker as unknown as INotebookTracker);
    const panel = new FakePanel('t/Untitled.ipynb', null);
    tracker.add(panel);
    // Galata's createNew: the rename comes before the session
    panel.move('t/evaluate.ipynb');
    const kernel = new FakeKernel('python');
    const session = panel.start('t/Untitled.ipynb', kernel);
    await flush();
    expect(session.setPath).toHaveBeenCalledWith('t/evaluate.ipynb');
    expect(session.path).toBe('t/evaluate.ipynb');
    expect(kernel.requestExecute).toHaveBeenCalledTimes(1);
    expect(kernel.requestExecute).toHaveBeenCalledWith(
      expect.objectContaining({
        code: movedCode('t/Untitled.ipynb', 't/evaluate.ipynb')
      }),
      true
    );
    // a session already on the notebook's path is left alone
    const other = panel.start('t/evaluate.ipynb', new FakeKernel('python'));
    await flush();
    expect(other.setPath).not.toHaveBeenCalled();
  });

  it('is settled before an action asks the server for the kernel', async () => {
    const panel = new FakePanel('a.ipynb', new FakeKernel('python'));
    const session = panel.sessionContext.session!;
    session.path = 'Untitled.ipynb';
    await sessionSettled(panel as unknown as NotebookPanel);
    expect(session.path).toBe('a.ipynb');
    expect(session.kernel.requestExecute).toHaveBeenCalledTimes(1);

    // a session context that never gets ready does not block the action
    const stuck = new FakePanel('b.ipynb', null);
    stuck.sessionContext.ready = new Promise(() => undefined);
    const started = Date.now();
    await sessionSettled(stuck as unknown as NotebookPanel, 20);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
