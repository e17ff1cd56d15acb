// hyparquet is published as ECMAScript modules only, and jest runs CommonJS. Its sources are
// therefore transformed like the package's own instead of being skipped with node_modules.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: require('./package.json').nx.name,
  transformIgnorePatterns: ['/node_modules/(?!hyparquet/)'],
};
