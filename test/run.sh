#!/usr/bin/env bash
# `npm test`: set-up, then lint, the CRD freshness check, type-checks and every test suite.
# Ends with one line `N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source test/pnpm.sh || { echo "0 passed, 1 failed"; exit 1; }
bash test/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

failed_steps=0
step() { echo "::: $*"; "$@" || { echo "!!! failed: $*"; failed_steps=$((failed_steps + 1)); }; }
step pnpm run lint
step pnpm --filter @nls/api run check:crds
# The packages' tests are not part of the build (dist/ ships without them): type-check them here.
step pnpm -r --if-present run typecheck
step pnpm exec tsc -p test/tsconfig.json

passed=0 failed=0 skipped=0
mkdir -p .tmp
for dir in packages/api packages/daemon packages/agent packages/extender packages/kubectl-nls test; do
  [ -f "$dir/package.json" ] || continue
  [ -n "$(find "$dir" -name '*.test.ts' -not -path '*/node_modules/*' | head -1)" ] || continue
  echo "::: tests in $dir"
  log=".tmp/tap-$(basename "$dir").log"
  (cd "$dir" && pnpm exec ava --tap) 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^# skip \([0-9]*\)$/\1/p' "$log" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
  if [ "$status" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then failed=$((failed + 1)); echo "!!! ava in $dir exited $status"; fi
done
failed=$((failed + failed_steps))
if [ "${NLS_REQUIRE_REAL_TOOLS:-}" = "1" ] && [ "$skipped" -gt 0 ]; then
  echo "!!! NLS_REQUIRE_REAL_TOOLS=1 but ${skipped} tests skipped"
  failed=$((failed + 1))
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
