#!/usr/bin/env bash
# Regenerates internal/kernels' assembly from the avo generator in
# internal/kernels/_asm into a temporary copy and fails if the committed
# sgemm_amd64.s or sgemm_stubs_amd64.go differ from what it produces
# (fix: go generate ./internal/kernels/ and commit the result).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/kernels"
cp -R internal/kernels/_asm "$tmp/kernels/_asm"
# Same relative paths as the //go:generate line, so the headers match.
go -C "$tmp/kernels/_asm" run . -out ../sgemm_amd64.s -stubs ../sgemm_stubs_amd64.go -pkg kernels

status=0
for f in sgemm_amd64.s sgemm_stubs_amd64.go; do
  if ! diff -u "internal/kernels/$f" "$tmp/kernels/$f"; then
    echo "check-asm: internal/kernels/$f is not what internal/kernels/_asm generates" >&2
    status=1
  fi
done
[ "$status" = 0 ] && echo "check-asm: generated assembly is current"
exit "$status"
