#!/usr/bin/env node
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('attendant: not built yet; run `npm run setup` (or `npm run build`) in the project folder\n');
  process.exit(3);
}
require(entry).main(process.argv.slice(2));
