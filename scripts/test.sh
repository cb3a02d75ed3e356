#!/usr/bin/env bash
# Builds and runs the whole test suite twice, in a normal build and in a build
# with AddressSanitizer + UndefinedBehaviorSanitizer, with the Linux SGX
# selftests under `sgxemu run` and the upstream series' check after the
# first, then the native platform's tests under ThreadSanitizer and a short
# fuzz run of the uapi. Ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1
passed=0
failed=0
run_suite() {
	local dir=$1
	shift
	[ -d "$dir" ] || meson setup "$dir" "$@" >/dev/null
	# Quiet when the build succeeds; the whole log when it does not.
	if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		cat "$dir.build.log"
		echo "tests: 0 passed, 1 failed (the build of $dir failed)"
		exit 1
	fi
	local rc=0
	meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
	# Criterion's per-binary synthesis lines carry the exact counts.
	local p f
	p=$(grep -ho 'Passing: [0-9]*' "$dir/meson-logs/testlog.txt" |
		awk '{s+=$2} END {print s+0}')
	f=$(grep -hoE '(Failing|Crashing): [0-9]*' "$dir/meson-logs/testlog.txt" |
		awk '{s+=$2} END {print s+0}')
	# Tests that are not Criterion binaries (the demo, scripts, the runner's
	# programs) count one each.
	local other
	other=$(python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = (t.get("stdout") or "") + (t.get("stderr") or "")
    n += t["result"] == "OK" and "Synthesis:" not in out
print(n)' "$dir/meson-logs/testlog.json")
	passed=$((passed + p + other))
	failed=$((failed + f))
	[ "$rc" -eq 0 ] || failed=$((failed + (f == 0)))
}
run_suite build
# The Linux 6.1 SGX selftests, built unmodified, under `sgxemu run` with
# --etrack-batch 1 and 0: 16 passed, 0 skipped, 0 failed each (the plain
# build: the LD_PRELOAD runtime cannot run under ASan in an unsanitized
# program).
if scripts/selftests.sh build; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
# The upstream series (scripts/kernel-patch.sh): generated from the
# single-source fragments, each patch applied in order to a freshly unpacked
# linux-source-6.12 and built with W=1 and sparse, checkpatch.pl --strict
# clean, and the same-source check (about 2 min 15 s of CPU time).
if scripts/kernel-patch.sh --check build; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbuildtype=debug
# The native platform under ThreadSanitizer: ksgxd, two callers, IPIs and
# enclave threads at once (tests/run/tsan_native.c, a plain program:
# Criterion cannot start under TSan). The runner's programs cannot run
# under it either: the runtime is preloaded into plain programs. Only that
# program is built there.
[ -d build-tsan ] || meson setup build-tsan -Db_sanitize=thread \
	-Db_lundef=false -Dbuildtype=debug >/dev/null
if ninja -C build-tsan tsan_native >build-tsan.build.log 2>&1 &&
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		build-tsan/tsan_native; then
	passed=$((passed + 1))
else
	cat build-tsan.build.log
	failed=$((failed + 1))
fi
# A short, bounded fuzz run over the whole uapi (clang + libFuzzer + ASan).
if scripts/fuzz.sh 5000; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
