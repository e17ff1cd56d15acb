// Shared jest settings for every project of the workspace.
// Workspace packages resolve to their TypeScript sources, so tests never need a build first.
//
// vega 6 and vega-lite 6 are ECMAScript modules that the report loads with `import()`. Jest
// runs CommonJS without ESM support, so `import()` is compiled to `require` and both packages
// resolve to their UMD builds, which are CommonJS-compatible.
const path = require('node:path');

const vegaBuild = path.join(path.dirname(require.resolve('vega')), 'vega.min.js');
const vegaLiteBuild = path.join(path.dirname(require.resolve('vega-lite')), 'vega-lite.min.js');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { swcrc: false, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: false } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  moduleNameMapper: {
    '^@malloc/(data|models|compression|metrics|runner)$': path.join(__dirname, 'packages', '$1', 'src', 'index.ts'),
    '^@malloc/report$': path.join(__dirname, 'apps', 'report', 'src', 'index.ts'),
    '^vega$': vegaBuild,
    '^vega-lite$': vegaLiteBuild,
  },
};
