#!/usr/bin/env bash
# Gets the real camera clip of the video benchmark (bench "video" → realClip): tree.avi, a
# handheld camera circling a tree (320×240, 15 frames/s, 30 s), from Debian's opencv-doc package
# (its OpenCV sample data). Downloads the .deb (~96 MB) with apt-get, keeps only the clip in
# .nst-cache/clips/ and deletes the rest. Not part of setup: only the benchmark needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.nst-cache/clips
[ -f "$dest/tree.avi" ] && { echo "fetch-real-clip: $dest/tree.avi is already there" >&2; exit 0; }
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q opencv-doc)
dpkg-deb --fsys-tarfile "$tmp"/opencv-doc_*.deb | tar -x -C "$tmp" ./usr/share/doc/opencv-doc/examples/data/tree.avi
mv "$tmp/usr/share/doc/opencv-doc/examples/data/tree.avi" "$dest/tree.avi.part"
mv "$dest/tree.avi.part" "$dest/tree.avi"
echo "fetch-real-clip: wrote $dest/tree.avi" >&2
