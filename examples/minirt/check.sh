#!/bin/sh
# SPDX-License-Identifier: MIT
# check.sh SGXEMU MINIRT BATCH ETRACKS ELRANGE [MINIRT OPTIONS]: run minirt
# under `sgxemu run --stats --etrack-batch BATCH` and check that every one
# of its checks held and that the driver counted
#  - ETRACKS ETRACK leaves: minirt restricts and trims with one ioctl per
#    range, and nothing else issues ETRACK (the EPC is far larger than
#    the enclave's pages, so the reclaimer never runs: ewbs must be 0);
#  - one EAUG per page the enclave's handler committed (minirt prints
#    that count): every heap page is EAUGed by the kernel at its first
#    fault and EACCEPTed at the second, none in advance;
#  - one process.
set -u
sgxemu=$1 minirt=$2 batch=$3 etracks=$4 elrange=$5
shift 5

out=$("$sgxemu" run --stats --etrack-batch "$batch" -- \
	"$minirt" --elrange "$elrange" "$@")
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 0 ]; then
	echo "FAIL: minirt exited $status" >&2
	exit 1
fi

counter() {
	printf '%s\n' "$out" | awk -v name="$1" '$1 == name { print $2 }'
}
commits=$(printf '%s\n' "$out" | sed -n 's/^minirt: commits \([0-9]*\),.*/\1/p')
fail=0
check() {
	got=$(counter "$1")
	if [ "$got" != "$2" ]; then
		echo "FAIL: $1 is ${got:-missing}, expected $2 ($3)" >&2
		fail=1
	else
		echo "ok: $1 = $2 ($3)"
	fi
}
check etracks "$etracks" "RESTRICT_PERMISSIONS and MODIFY_TYPES at batch $batch"
check eaugs "${commits:-none}" "one per page the enclave committed"
check ewbs 0 "no reclaim"
check processes 1 "one process used the device"
exit $fail
