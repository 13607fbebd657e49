#!/usr/bin/env node
'use strict';
// The `nst` command; the implementation is compiled TypeScript (npm run build:ts).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write("nst: error: the project is not built; run 'npm run build' first\n");
  process.exit(2);
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
