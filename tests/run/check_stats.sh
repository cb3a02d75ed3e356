#!/usr/bin/env bash
# Runs a program under `sgxemu run --stats` and checks counters it prints.
# Usage: check_stats.sh SGXEMU BATCH PROGRAM NAME=VALUE|NAME>=VALUE...
# SGXEMU_RUN_ARGS, if set, adds options of `sgxemu run` (word-split).
# Fails if the program fails or any counter is off.
set -euo pipefail
sgxemu=$1 batch=$2 program=$3
shift 3
# shellcheck disable=SC2086 # the options are words
out=$("$sgxemu" run --stats --etrack-batch "$batch" ${SGXEMU_RUN_ARGS:-} \
	-- "$program")
echo "$out"
status=0
for want in "$@"; do
	name=${want%%[>=]*}
	value=${want##*[>=]}
	got=$(echo "$out" | awk -v n="$name" '$1 == n { print $2 }')
	if [ -z "$got" ]; then
		echo "no counter $name"
		status=1
	elif [[ $want == *">="* ]]; then
		[ "$got" -ge "$value" ] || { echo "$name: $got < $value"; status=1; }
	else
		[ "$got" -eq "$value" ] || { echo "$name: $got != $value"; status=1; }
	fi
done
exit $status
