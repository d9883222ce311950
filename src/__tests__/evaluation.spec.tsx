/**
 * The report of an evaluation of two versions, rendered to HTML (no DOM needed).
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { EvaluationReport, formatNumber, metricLines } from '../evaluation';
import { Mlvc } from '../tokens';

const trans = {
  __: (s: string, ...args: unknown[]) =>
    args.reduce<string>((out, a, i) => out.replace(`%${i + 1}`, String(a)), s)
} as unknown as TranslationBundle;

const report: Mlvc.IEvaluationReport = {
  id: 'e'.repeat(40),
  type: 'evaluate',
  a: { rev: 'first', commit: 'a'.repeat(40), variable: 'clf' },
  b: { rev: 'HEAD', commit: 'b'.repeat(40), variable: 'clf' },
  data: { path: 'data/test.parquet', rows: 3000 },
  metrics: {
    accuracy: {
      metric: 'accuracy',
      a: 0.7704,
      b: 0.8062,
      diff: 0.0358,
      ci: [0.025, 0.0454],
      ci_method: 'paired bootstrap',
      test: 'exact McNemar',
      p_value: 9.8e-12,
      better: 'b'
    },
    rmse: {
      metric: 'rmse',
      a: 1.2,
      b: 1.3,
      diff: 0.1,
      ci: [-0.05, 0.2],
      ci_method: 'paired bootstrap',
      test: 'paired t-test',
      p_value: 0.2,
      better: null,
      lower_is_better: true
    },
    roc_auc: { metric: 'roc_auc', error: 'roc_auc needs both classes' }
  },
  verdict: { text: 'B is better at the 95% level', better: 'b' }
};

describe('the evaluation report', () => {
  it('formats numbers to 4 significant digits, signed on request', () => {
    expect(formatNumber(0.035812)).toBe('0.03581');
    expect(formatNumber(0.035812, true)).toBe('+0.03581');
    expect(formatNumber(-2, true)).toBe('-2');
    expect(formatNumber(undefined)).toBe('-');
  });

  it('has one line per metric, errors included', () => {
    expect(metricLines(report)).toEqual([
      'accuracy 0.7704 → 0.8062, B − A +0.0358 [+0.025, +0.0454], p=9.8e-12',
      'rmse 1.2 → 1.3, B − A +0.1 [-0.05, +0.2], p=0.2',
      'roc_auc: roc_auc needs both classes'
    ]);
  });

  it('shows the verdict, a row and an interval bar per metric, and the methods', () => {
    const html = renderToStaticMarkup(
      <EvaluationReport report={report} trans={trans} />
    );
    expect(html).toContain('B is better at the 95% level');
    expect(html).toContain('aria-label="Evaluation metrics"');
    expect(html.match(/<tr>/g)).toHaveLength(4);
    expect(html).toContain('aria-label="interval of B − A for accuracy"');
    expect(html).toContain('jp-mlvc-eval-better');
    expect(html).toContain('roc_auc needs both classes');
    expect(html).toContain('accuracy: paired bootstrap; exact McNemar');
    expect(html).toContain('stored as evaluation eeeeeeee');
  });
});
