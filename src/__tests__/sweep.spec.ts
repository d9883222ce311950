/**
 * "Start Sweep…": the parameters cell read, and the values typed parsed.
 */
import { parametersOf, parseValues } from '../sweepParams';

describe('Start Sweep', () => {
  it('reads the assignments of the cell tagged parameters', () => {
    const cells = [
      { source: 'import numpy', tags: [] },
      {
        source:
          'lr = 0.1  # learning rate\nlayers: int = 2\n# a comment\nname = "x"',
        tags: ['parameters']
      }
    ];
    expect(parametersOf(cells)).toEqual([
      { name: 'lr', value: '0.1' },
      { name: 'layers', value: '2' },
      { name: 'name', value: '"x"' }
    ]);
    expect(parametersOf([{ source: 'a = 1', tags: [] }])).toEqual([]);
  });

  it('parses the values typed', () => {
    expect(parseValues('0.1, 0.01,1e-3')).toEqual([0.1, 0.01, 0.001]);
    expect(parseValues('"a,b", adam, \'sgd\'')).toEqual(['a,b', 'adam', 'sgd']);
    expect(parseValues('[64, 32], True, None')).toEqual([[64, 32], true, null]);
    expect(parseValues(' , ')).toEqual([]);
  });
});
