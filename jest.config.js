/**
 * Jest: unit tests of the frontend model (src/__tests__), compiled by ts-jest to CommonJS.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testRegex: 'src/__tests__/.*\\.spec\\.tsx?$',
  transform: {
    '^.+\\.tsx?$': [
      'ts-jest',
      {
        tsconfig: {
          module: 'commonjs',
          esModuleInterop: true,
          strict: true,
          target: 'ES2018',
          jsx: 'react',
          skipLibCheck: true,
          types: ['jest']
        },
        diagnostics: { warnOnly: false }
      }
    ]
  }
};
