#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Fuzz the driver model's user-space interface (tests/fuzz/fuzz_uapi.c)
# with libFuzzer under ASan and UBSan.
#
# Usage: scripts/fuzz.sh [RUNS]   (default 20000 executions)
#
# Configures build-fuzz with clang if it does not exist, builds fuzz_uapi,
# writes a small seed corpus (build-fuzz/fuzz-corpus, which libFuzzer then
# grows), runs, and prints libFuzzer's summary. Exits non-zero when
# libFuzzer finds a crash, a sanitizer report or an oracle violation; the
# reproducer is left in build-fuzz/ as crash-<sha1>.
set -euo pipefail

runs=${1:-20000}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
corpus="$build/fuzz-corpus"

if [ ! -d "$build" ]; then
	CC=clang meson setup "$build" "$root" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$build" fuzz_uapi

# Seeds, in the format of fuzz_uapi.c: an opcode byte, then its operands.
# Opcodes: 0 CREATE, 1 ADD_PAGES, 2 INIT, 4 RESTRICT, 5 MODIFY_TYPES,
# 6 REMOVE_PAGES, 8 mmap, 9 mprotect, 11 user fault, 12 EENTER,
# 13 ERESUME, 14 EEXIT, 15 read, 16 write, 17 EACCEPT, 20 ksgxd,
# 22 close/open, 23 etrack_batch.
seed() {
	local name=$1 IFS=
	shift
	[ -e "$corpus/$name" ] || printf "$*" > "$corpus/$name"
}
mkdir -p "$corpus"
# EENTER TCS1, write and read 64 bytes of the data page, EEXIT.
seed enter-write-read '\x0c\x00\x00' '\x10\x05\x00\x08' '\x0f\x05\x00\x08' \
	'\x0e\x00\x00\x00'
# RESTRICT page 6 to R, then the enclave EACCEPTs R|REG|PR.
seed restrict-accept '\x04\x00\x06\x01\x01\x00\x00' '\x0c\x00\x00' \
	'\x11\x06\x00\x00\x05\x00\x00\x00' '\x0e\x00\x00\x00'
# EAUG page 8 through EACCEPT, write it, TRIM, EACCEPT, REMOVE_PAGES.
seed eaug-trim-remove '\x0c\x00\x00' '\x11\x08\x00\x00\x04\x00\x00\x00' \
	'\x10\x08\x00\x08' '\x0e\x00\x00\x00' '\x05\x00\x08\x01\x00\x00' \
	'\x0c\x00\x00' '\x11\x08\x00\x00\x06\x00\x00\x00' '\x0e\x00\x00\x00' \
	'\x06\x00\x08\x01\x01\x00'
# Build file 1 like file 0 through the ioctls, mmap it, enter and leave.
seed build-second '\x00\x01\x04\xff\xff\x00\x00' \
	'\x01\x01\x03\x00\x00\x00\x00\x02\x00\x00' \
	'\x01\x01\x00\x00\x01\x00\x02\x02\x00\x00' \
	'\x01\x01\x01\x00\x01\x00\x04\x01\x00\x00' \
	'\x01\x01\x00\x00\x01\x00\x05\x02\x00\x00' '\x02\x01\xff\xff\x00\x00' \
	'\x08\x01\xc0\x04\x03\x00' '\x0c\xc0\xc0\x00' '\x0e\x00\x00\x00'
# A write the PTE forbids after mprotect(PROT_READ), then ERESUME.
seed pte-permissions '\x0c\x00\x00' '\x10\x05\x00\x08' '\x0e\x00\x00\x00' \
	'\x09\x05\x00\x01\x01\x01' '\x0c\x00\x00' '\x10\x05\x00\x08' \
	'\x09\x05\x00\x01\x01\x03' '\x0d\x00\x00' '\x10\x05\x00\x08' \
	'\x0e\x00\x00\x00'
# User faults, a reclaim batch, close and reopen a file.
seed faults-close '\x0b\x05\x00\x06\x00' '\x0b\x0a\x00\x04\x80' '\x14' \
	'\x16\x01' '\x16\x01'

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$build"
exec ./fuzz_uapi -runs="$runs" -print_final_stats=1 "$corpus"
