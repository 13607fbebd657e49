#!/usr/bin/env node
'use strict';
// Builds the web page into dist/web: compiles web/src (TypeScript → ES modules, web/tsconfig.json)
// and copies the HTML and CSS. The server serves dist/web, and TensorFlow.js from node_modules.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'web');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'web', 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  console.error('build-web: the page does not compile (errors above)');
  process.exit(1);
}
for (const file of ['index.html', 'style.css']) fs.copyFileSync(path.join(root, 'web', file), path.join(out, file));
console.error(`build-web: wrote ${path.relative(root, out)}`);
