// Runs every project's tests in one jest process, so that one summary covers the workspace.
module.exports = {
  projects: [
    '<rootDir>/packages/data',
    '<rootDir>/packages/compression',
    '<rootDir>/packages/metrics',
    '<rootDir>/packages/models',
    '<rootDir>/packages/runner',
    '<rootDir>/apps/report',
    '<rootDir>/tools',
  ],
  reporters: ['default', '<rootDir>/tools/jest-count-reporter.js'],
};
