#!/usr/bin/env bash
# Builds the Linux kernel's own SGX selftests (tools/testing/selftests/sgx of
# Debian's linux-source-6.1), UNMODIFIED, with their own Makefile, and runs
# them under `sgxemu run` once with --etrack-batch 1 (Linux's flow) and once
# with --etrack-batch 0 (one ETRACK per range). Passes only if each run
# reports all 16 tests passed, none skipped, none failed.
#
# Usage: scripts/selftests.sh [--build-only] [BUILD_DIR]
#   BUILD_DIR      the meson build holding sgxemu (default: build)
#   --build-only   install, extract and build the selftests; do not run
# Environment:
#   SGXEMU_RUN_ARGS  extra options for `sgxemu run` (e.g. "--epc-size 8M")
#   SELFTEST_TIMEOUT seconds allowed for one whole run (default 1500, above
#                    the harness's own worst case: 15 x 30 s + 900 s)
#
# No kernel source is kept in git: the tests are extracted from the package's
# tarball into build-selftests/ (ignored, like every build*/ directory).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build_only=0
build=build
for arg in "$@"; do
	case $arg in
	--build-only) build_only=1 ;;
	-*) echo "usage: $0 [--build-only] [BUILD_DIR]" >&2; exit 2 ;;
	*) build=$arg ;;
	esac
done

tarball=/usr/src/linux-source-6.1.tar.xz
top=linux-source-6.1
work=$root/build-selftests
tree=$work/$top
out=$work/out
sgx=tools/testing/selftests/sgx

# What the sgx selftests' Makefile reads, and nothing more: the tests, the
# kselftest harness and lib.mk, the x86 compiler probe, the tools headers,
# and the three kernel headers defines.h includes.
paths=(
	"$top/$sgx"
	"$top/tools/testing/selftests/lib.mk"
	"$top/tools/testing/selftests/kselftest.h"
	"$top/tools/testing/selftests/kselftest_harness.h"
	"$top/tools/testing/selftests/x86/check_cc.sh"
	"$top/tools/testing/selftests/x86/trivial_64bit_program.c"
	"$top/tools/include"
	"$top/arch/x86/include/asm/sgx.h"
	"$top/arch/x86/include/asm/enclu.h"
	"$top/arch/x86/include/uapi/asm/sgx.h"
)

install_packages() {
	# linux-source-6.1: the tests; make, gcc, libssl-dev (-lcrypto): their
	# build; xz-utils: the tarball.
	# procps, util-linux: pkill and setsid, to end what a timeout leaves.
	local pkgs=(linux-source-6.1 make gcc libssl-dev xz-utils procps
		util-linux)
	"$root/scripts/install-deps.sh" "${pkgs[@]}"
}

extract() {
	local stamp=$work/.extracted
	[ -f "$stamp" ] && [ "$stamp" -nt "$tarball" ] && return 0
	rm -rf "$tree" "$out"
	mkdir -p "$work"
	echo "selftests: extracting $sgx from $tarball" >&2
	tar -xJf "$tarball" -C "$work" "${paths[@]}"
	touch "$stamp"
}

build_selftests() {
	mkdir -p "$out"
	if ! make -C "$tree/$sgx" OUTPUT="$out" >"$work/make.log" 2>&1; then
		cat "$work/make.log"
		echo "selftests: the build failed" >&2
		exit 1
	fi
	local f
	for f in test_sgx test_encl.elf; do
		[ -f "$out/$f" ] || { echo "selftests: no $f built" >&2; exit 1; }
	done
}

# Reads the kselftest TAP output on stdin; prints each test and its outcome
# and a summary line. A skipped test's TAP line carries the reason instead
# of the name, so names come from the harness's "RUN" lines.
parse_tap() {
	awk '
	/^#  RUN / { name = $3; next }
	/^(not )?ok [0-9]+ / {
		if ($0 ~ /# SKIP/) { res = "SKIP"; skip++ }
		else if ($1 == "not") { res = "FAIL"; fail++ }
		else { res = "PASS"; pass++ }
		printf "  %-4s %s\n", res, name
	}
	END { printf "%d %d %d\n", pass, fail, skip }'
}

run_batch() {
	local batch=$1 log=$work/tap-batch$1.log rc=0
	echo "== sgxemu run --etrack-batch $batch ${SGXEMU_RUN_ARGS:+$SGXEMU_RUN_ARGS }-- ./test_sgx"
	# Its own session, so that whatever is left after a timeout (the
	# harness puts each test child in its own process group) is ended by
	# session id. test_sgx loads test_encl.elf from its working directory.
	# shellcheck disable=SC2016,SC2086
	(cd "$out" && setsid --wait sh -c 'echo $$ >"$0"; exec "$@"' \
		"$work/session" timeout "${SELFTEST_TIMEOUT:-1500}" \
		"$root/$build/sgxemu" run --etrack-batch "$batch" \
		${SGXEMU_RUN_ARGS:-} -- ./test_sgx) >"$log" 2>&1 || rc=$?
	pkill -KILL -s "$(cat "$work/session")" 2>/dev/null || true
	local lines summary
	lines=$(parse_tap <"$log")
	summary=$(tail -n 1 <<<"$lines")
	head -n -1 <<<"$lines"
	read -r pass fail skip <<<"$summary"
	echo "batch $batch: $pass passed, $fail failed, $skip skipped," \
		"$((16 - pass - fail - skip)) not run (exit $rc; log $log)"
	[ "$pass" -eq 16 ] && [ "$fail" -eq 0 ] && [ "$skip" -eq 0 ] &&
		[ "$rc" -eq 0 ]
}

install_packages
extract
build_selftests
echo "selftests: built $out/test_sgx and $out/test_encl.elf"
[ "$build_only" -eq 1 ] && exit 0

[ -x "$root/$build/sgxemu" ] || {
	echo "selftests: no $build/sgxemu; build it first" >&2
	exit 1
}
status=0
for batch in 1 0; do
	run_batch "$batch" || status=1
done
exit $status
