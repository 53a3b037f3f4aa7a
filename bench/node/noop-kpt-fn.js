// A no-op KRM function on the TypeScript kpt functions SDK (npm `kpt-functions`): the SDK reads
// the ResourceList from stdin, runs the function (which changes nothing) and writes the
// ResourceList to stdout, as kpt runs an exec function. Peer of bench/bench.py.
'use strict';
const { run } = require('kpt-functions');

async function noop(configs) {} // eslint-disable-line no-unused-vars
noop.usage = 'A no-op: returns the ResourceList unchanged.';

run(noop);
