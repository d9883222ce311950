/**
 * A notebook's kernel is told when the notebook is renamed: one silent execute
 * request with the old and new paths, only to Python kernels, and none after the
 * notebook closed.
 */
import type { INotebookTracker } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

import { movedCode, tellKernelsWhenMoved } from '../rename';

class FakeKernel {
  constructor(language: string) {
    this.info = Promise.resolve({ language_info: { name: language } });
  }
  info: Promise<{ language_info: { name: string } }>;
  requestExecute = jest.fn(() => ({ done: Promise.resolve() }));
}

class FakePanel {
  constructor(path: string, kernel: FakeKernel | null) {
    this.context = { path, pathChanged: new Signal(this) };
    this.sessionContext = { session: kernel ? { kernel } : null };
  }
  context: { path: string; pathChanged: Signal<FakePanel, string> };
  sessionContext: { session: { kernel: FakeKernel } | null };
  disposed = new Signal<this, void>(this);
  move(path: string): void {
    this.context.path = path;
    this.context.pathChanged.emit(path);
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
