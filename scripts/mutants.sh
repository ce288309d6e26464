#!/usr/bin/env bash
# Runs the graded VR tests (parts A–D) against each seeded bug of the
# mutation catalogue (vr/mutate_names.go, VR-PROTOCOL.md §9) and reports
# which test caught it. A mutation no graded test catches is a gap; the
# simulator (go test -tags vrmutate ./sim) covers the rest.
#
#   scripts/mutants.sh [mutation...]      default: every mutation
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -tags vrmutate -c -o "$tmp/tests.test" ./tests

if [[ $# -gt 0 ]]; then
  mutants=("$@")
else
  mapfile -t mutants < <(sed -n '/^var mutationNames = /,/^}/p' vr/mutate_names.go | grep -o '"[a-z-]*"' | tr -d '"')
fi

missed=0
for m in "${mutants[@]}"; do
  start=$SECONDS
  if out=$(cd tests && VRMUTATE="$m" "$tmp/tests.test" -test.run '[ABCD]$' -test.failfast -test.count=1 -test.timeout 10m 2>&1); then
    printf '%-24s NOT CAUGHT by any graded test (%ds)\n' "$m" $((SECONDS - start))
    missed=$((missed + 1))
  else
    caught=$(grep -m1 -o -- '--- FAIL: [A-Za-z]*' <<<"$out" | sed 's/--- FAIL: //' || true)
    printf '%-24s caught by %s (%ds)\n' "$m" "${caught:-a crash}" $((SECONDS - start))
  fi
done
exit $((missed > 0))
