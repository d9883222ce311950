/**
 * The data views: what changed in the data two commits read, and what a data
 * checkout will replace.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import {
  DataCheckoutList,
  DataFilesTable,
  describeRows,
  describeSchema,
  formatBytes
} from '../components/DataChanges';
import { Mlvc } from '../tokens';

function fill(text: string, args: unknown[]): string {
  return text.replace(/%(\d+)/g, (_, n) => String(args[Number(n) - 1]));
}
const trans = {
  __: (text: string, ...args: unknown[]) => fill(text, args)
} as unknown as TranslationBundle;

const diff: Mlvc.IDataFilesDiff = {
  a: 'a'.repeat(40),
  b: 'b'.repeat(40),
  key: 'id',
  files: [
    {
      path: 'data/train.csv',
      status: 'changed',
      size_a: 1024 * 1024,
      size_b: 1024 * 1024 + 512 * 1024,
      captured: true,
      schema: {
        added: ['label'],
        removed: [],
        changed: { x: ['int64', 'double'] },
        columns_a: ['id', 'x'],
        columns_b: ['id', 'x', 'label']
      },
      rows: {
        a: 20000,
        b: 20200,
        added: 200,
        removed: 0,
        changed: 3,
        key: 'id'
      }
    },
    {
      path: 'data/raw.bin',
      status: 'added',
      size_a: null,
      size_b: 10,
      captured: false
    }
  ]
};

describe('data diff', () => {
  it('says sizes, rows added and changed by key, and column changes', () => {
    const html = renderToStaticMarkup(
      <DataFilesTable diff={diff} trans={trans} />
    );
    expect(html).toContain('data/train.csv');
    expect(html).toContain('1.0 MiB → 1.5 MiB');
    expect(html).toContain('20,000 → 20,200, +200 added, 3 changed (by id)');
    expect(html).toContain('columns added: label; x: int64 → double');
    expect(html).toContain('— → 10 B');
    expect(html).toContain('content not captured');
  });

  it('describes rows and schemas in words', () => {
    expect(describeRows({ a: 5, b: 3, added: 0, removed: 2 }, trans)).toBe(
      '5 → 3, −2 removed'
    );
    expect(describeRows(undefined, trans)).toBe('');
    expect(describeSchema({ added: [], removed: [], changed: {} }, trans)).toBe(
      'same columns'
    );
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatBytes(null)).toBe('—');
  });

  it('shows nothing when no data file differs', () => {
    const html = renderToStaticMarkup(
      <DataFilesTable diff={{ ...diff, files: [] }} trans={trans} />
    );
    expect(html).toBe('');
  });
});

describe('data checkout dialog', () => {
  it('lists the files it will replace, and those it keeps or cannot bring back', () => {
    const plan: Mlvc.IDataCheckout = {
      commit: 'c'.repeat(40),
      restored: ['data/train.csv', 'data/new.csv'],
      unchanged: ['data/notes.txt'],
      not_captured: ['data/huge.bin'],
      safety_copies: {
        'data/train.csv': '/p/.mlvc/mlvc/data-safety/x/data/train.csv'
      },
      bytes: 2048,
      dry_run: true,
      sizes: { 'data/train.csv': 1024, 'data/new.csv': 1024 },
      current_sizes: { 'data/train.csv': 3000 },
      safety: null
    };
    const html = renderToStaticMarkup(
      <DataCheckoutList plan={plan} trans={trans} />
    );
    expect(html).toContain('commit cccccccc read (2.0 KiB in all)');
    expect(html).toMatch(
      /data\/train.csv<\/code><span[^>]*> \(the current file is kept/
    );
    expect(html).toMatch(/data\/new.csv<\/code><span[^>]*> \(missing\)/);
    expect(html).toContain('Already as the commit read them: data/notes.txt');
    expect(html).toContain('content cannot be brought back: data/huge.bin');
  });

  it('says when every file is already in place', () => {
    const html = renderToStaticMarkup(
      <DataCheckoutList
        plan={{
          commit: 'c'.repeat(40),
          restored: [],
          unchanged: ['a.csv'],
          not_captured: [],
          safety_copies: {},
          bytes: 0,
          dry_run: true,
          sizes: {},
          current_sizes: {},
          safety: null
        }}
        trans={trans}
      />
    );
    expect(html).toContain(
      'Every data file is already as this commit read it.'
    );
    expect(html).not.toContain('Files to replace');
  });
});
