// js-yaml load + dump: the ResourceList from stdin parsed (`load`) and written back (`dump`) to
// stdout, nothing else. Peer of bench/bench.py.
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');

const data = yaml.load(fs.readFileSync(0, 'utf8'));
fs.writeSync(1, yaml.dump(data));
