// The vulnerability store's OSV fixtures, shared with other packages' tests (the server's data-update tests serve
// them from a local mirror) through the test kit.
export { ecosystemEntries, FIXTURES, fixtureRecord, OSV_FIXTURES } from '../vulndb/fixtures.js';
