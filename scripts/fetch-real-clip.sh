#!/usr/bin/env bash
# Gets the real clips of the video benchmark (bench "video" → realClips) from Debian's opencv-doc
# package (OpenCV's sample data): tree.avi, a handheld camera circling a tree (320×240, 15
# frames/s, 30 s), and Megamind.avi, an animated film excerpt (720×528, 24 frames/s, 11 s, with
# audio). Downloads the .deb (~96 MB) with apt-get, keeps only the clips in .nst-cache/clips/ and
# deletes the rest. Not part of setup: only the benchmark needs them.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.nst-cache/clips
clips=(tree.avi Megamind.avi)
have=0
for c in "${clips[@]}"; do [ -f "$dest/$c" ] && have=$((have + 1)); done
[ "$have" -eq ${#clips[@]} ] && { echo "fetch-real-clip: the clips are already in $dest" >&2; exit 0; }
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt-get downloads as _apt
(cd "$tmp" && apt-get download -q opencv-doc)
data=./usr/share/doc/opencv-doc/examples/data
dpkg-deb --fsys-tarfile "$tmp"/opencv-doc_*.deb | tar -x -C "$tmp" "${clips[@]/#/$data/}"
for c in "${clips[@]}"; do
  mv "$tmp/$data/$c" "$dest/$c.part" && mv "$dest/$c.part" "$dest/$c"
done
echo "fetch-real-clip: wrote ${clips[*]} to $dest" >&2
