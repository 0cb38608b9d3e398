#!/usr/bin/env bash
# Builds dist/action from the last commit only (git archive HEAD), not from the working tree: several people work
# in one checkout, and the committed bundle must match the committed sources (.ci/action-check). node_modules is
# hard-linked into the scratch copy (its workspace links are relative, so they point into the copy) and the bundle's
# relative module paths are the same as in a clean checkout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive HEAD | tar -x -C "$work"
cp -al "$repo/node_modules" "$work/node_modules"
node "$work/cli/scripts/action-bundle.mjs"
rm -rf "$repo/dist/action"
mkdir -p "$repo/dist"
cp -r "$work/dist/action" "$repo/dist/action"
echo "dist/action built from $(git -C "$repo" rev-parse --short HEAD)"
