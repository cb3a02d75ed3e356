#!/bin/sh
# SPDX-License-Identifier: MIT
# check.sh SGXEMU EDMM_HOST BATCH PAGES: run the EDMM example under
# `sgxemu run --stats --etrack-batch BATCH` with a heap of PAGES pages, and
# check that it succeeded and that the counters are exactly what the
# policy implies.
#
# The counter `etracks` counts ETRACK leaves executed in the model, failed
# ones included. In this run only two kinds of code issue ETRACK:
#  - the ETRACK flow of RESTRICT_PERMISSIONS and of MODIFY_TYPES, one flow
#    per batch of BATCH pages (0: the whole range), each flow one ETRACK
#    when it succeeds. The example makes one call of each over PAGES
#    pages, so 2 * ceil(PAGES / BATCH) ETRACKs, or 2 with batch 0. An
#    ETRACK fails only when a thread that was inside the enclave at the
#    previous one has not left since; the host calls the ioctls with no
#    thread inside, so none fails here;
#  - the reclaimer, before an EWB of a page whose epoch is not yet tracked.
#    The EPC here (16 MiB, 4096 pages) is far larger than the enclave with
#    the heaps the tests use (under 100 pages, plus some 15 image, thread and
#    driver pages), so nothing is reclaimed: `ewbs` must be 0, which the
#    check asserts rather than assumes. (With a heap near the EPC's size
#    the example still works, but the reclaimer's ETRACKs join the count.)
# EADD, EAUG, EMODPE, EACCEPT, EREMOVE (REMOVE_PAGES and the enclave's
# release) issue no ETRACK. Each heap page is EAUGed exactly once, on the
# enclave's first EACCEPT of it: `eaugs` must equal PAGES.
set -u
sgxemu=$1 host=$2 batch=$3 pages=$4

out=$("$sgxemu" run --stats --epc-size 16M --etrack-batch "$batch" -- \
	"$host" --pages "$pages")
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 0 ]; then
	echo "FAIL: the example exited $status" >&2
	exit 1
fi

counter() {
	printf '%s\n' "$out" | awk -v name="$1" '$1 == name { print $2 }'
}

if [ "$batch" -eq 0 ]; then
	flows=1
else
	flows=$(( (pages + batch - 1) / batch ))
fi
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
check etracks $((2 * flows)) \
	"$flows per ioctl, RESTRICT_PERMISSIONS and MODIFY_TYPES"
check eaugs "$pages" "one per heap page"
check ewbs 0 "no reclaim: the counts above are the ioctls' alone"
check processes 1 "one process used the device"
exit $fail
