#!/usr/bin/env node
'use strict';
// Builds the web page into dist/web: compiles web/src (TypeScript → ES modules, web/tsconfig.json)
// and copies the HTML and CSS. The server serves dist/web, and TensorFlow.js from node_modules.
// The page is built in a temporary folder and swapped in, so a running server never sees half a page.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'web');
const tmp = `${out}.tmp-${process.pid}`;
fs.rmSync(tmp, { recursive: true, force: true });
fs.mkdirSync(tmp, { recursive: true });
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'web', 'tsconfig.json'), '--outDir', path.join(tmp, 'js')], { stdio: 'inherit' });
} catch {
  fs.rmSync(tmp, { recursive: true, force: true });
  console.error('build-web: the page does not compile (errors above)');
  process.exit(1);
}
for (const file of ['index.html', 'style.css']) fs.copyFileSync(path.join(root, 'web', file), path.join(tmp, file));
const old = `${out}.old-${process.pid}`;
if (fs.existsSync(out)) fs.renameSync(out, old);
fs.renameSync(tmp, out);
fs.rmSync(old, { recursive: true, force: true });
console.error(`build-web: wrote ${path.relative(root, out)}`);
