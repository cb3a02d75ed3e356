#!/bin/sh
# SPDX-License-Identifier: MIT
# replay_check.sh SGXEMU BATCH PROGRAM [ARGS]: run PROGRAM under
# `sgxemu run --stats --record --etrack-batch BATCH`, replay its trace
# with `sgxemu bench --replay --etrack-batch BATCH`, and check that the
# replay counts the ETRACK leaves, IPI rounds and EAUGs the live run
# counted and reproduced every recorded call (no divergence). PROGRAM
# must exit 0: recording must not change what it sees. With IPI_SLACK=N
# (0), up to N IPI rounds more live are allowed: TLB flushes of the
# program's own munmap or mprotect, which the trace does not record.
set -u
sgxemu=$1 batch=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

live=$("$sgxemu" run --stats --epc-size 16M --etrack-batch "$batch" \
	--record "$dir/run.trace" -- "$@") || {
	echo "FAIL: $1 failed under --record" >&2; exit 1; }
json=$("$sgxemu" bench --replay "$dir/run.trace" --etrack-batch "$batch" \
	--json --out "$dir") || { echo "FAIL: the replay failed" >&2; exit 1; }
printf '%s\n' "$json"

counter() { printf '%s\n' "$live" | awk -v n="$1" '$1 == n { print $2 }'; }
field() { printf '%s\n' "$json" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
fail=0
same() {
	if [ "$(counter "$1")" != "$(field "$2")" ] || [ -z "$(field "$2")" ]
	then
		echo "FAIL: live $1 $(counter "$1"), replay $2 $(field "$2")" >&2
		fail=1
	else
		echo "ok: $1 = $(counter "$1") live and replayed"
	fi
}
same etracks etracks
same eaugs eaugs
rounds=$(($(counter ipi_rounds) - $(field ipi_rounds)))
if [ "$rounds" -lt 0 ] || [ "$rounds" -gt "${IPI_SLACK:-0}" ]; then
	echo "FAIL: live ipi_rounds $(counter ipi_rounds), replay" \
		"$(field ipi_rounds), slack ${IPI_SLACK:-0}" >&2
	fail=1
else
	echo "ok: ipi_rounds = $(field ipi_rounds) replayed, $rounds more live"
fi
[ "$(field divergences)" = 0 ] || {
	echo "FAIL: $(field divergences) recorded calls not reproduced" >&2
	fail=1; }
exit $fail
