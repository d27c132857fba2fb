#!/usr/bin/env node
// npm run docs:settings: writes the settings table of docs/reference.md from src/config/setting-list.ts (built).
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { settingsTable } = require('../dist/src/config/setting-list');

const file = join(__dirname, '..', 'docs', 'reference.md');
const doc = readFileSync(file, 'utf8');
const marked = /<!-- settings:begin -->\n[\s\S]*?<!-- settings:end -->/;
if (!marked.test(doc)) throw new Error('docs/reference.md has no <!-- settings:begin --> … <!-- settings:end --> markers');
writeFileSync(file, doc.replace(marked, `<!-- settings:begin -->\n${settingsTable()}\n<!-- settings:end -->`));
