#!/usr/bin/env bash
# Build flow's release binaries: linux and darwin on amd64 and arm64, windows on amd64, each with
# its version and commit stamped in, and SHA256SUMS beside them.
#
#   scripts/release.sh [VERSION]     # default: git describe; binaries go to dist/
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-$(git describe --tags --always --dirty)}
commit=$(git rev-parse HEAD)
out=dist
rm -rf "$out"
mkdir -p "$out"

for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64; do
  os=${target%/*} arch=${target#*/}
  name="flow-$version-$os-$arch"
  [ "$os" = windows ] && name="$name.exe"
  echo "building $name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X main.stampedVersion=$version -X main.stampedCommit=$commit" \
    -o "$out/$name" ./cmd/flow
done

(cd "$out" && sha256sum flow-* > SHA256SUMS)
cat "$out/SHA256SUMS"
