#!/usr/bin/env bash
# Writes the upstream series: sgxemu's single-source driver functions
# (src/kernel/upstream/*.c, the same files the model compiles) spliced into
# Debian's linux-source-6.12, as a `git format-patch` series with a cover
# letter, in BUILD_DIR/kernel-patch/. No Linux code is kept in git: the
# source is unpacked into build-kernel/ (ignored, like every build*/
# directory) and the series is a build output.
#
# Usage: scripts/kernel-patch.sh [--check] [BUILD_DIR]
#   BUILD_DIR  where kernel-patch/ is written (default: build; relative
#              to the top of the repository)
#   --check    then apply each patch in order to a freshly unpacked 6.12
#              tree and, after each, build arch/x86/kernel/cpu/sgx/ with
#              W=1 and sparse (C=1) and require no output at all, no new
#              kernel-doc warning, and checkpatch.pl --strict "0 errors,
#              0 warnings, 0 checks"; the unmodified tree must pass the same
#              build first. Then the same-source check of the contract
#              (docs/BATCHED-ETRACK.md "The upstream series").
# Environment:
#   KERNEL_PATCH_FRAGMENTS  "FILE:PATCH ..." instead of the fragments below,
#                           to try a fragment before it is committed
#
# The splicing rules are scripts/kernel-patch/splice.py's; the commit
# messages, the cover letter and patch 4's documentation texts are the
# other files of scripts/kernel-patch/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

check=0
build=build
for arg in "$@"; do
	case $arg in
	--check) check=1 ;;
	-*) echo "usage: $0 [--check] [BUILD_DIR]" >&2; exit 2 ;;
	*) build=$arg ;;
	esac
done

tarball=/usr/src/linux-source-6.12.tar.xz
top=linux-source-6.12
work=$root/build-kernel
case $build in
/*) out=$build/kernel-patch ;;
*) out=$root/$build/kernel-patch ;;
esac
meta=$root/scripts/kernel-patch
# Debian's python3 (the package), not a shim that may come first on PATH.
splice=(/usr/bin/python3 "$meta/splice.py")
sgx=arch/x86/kernel/cpu/sgx
# Each fragment with the number of the patch it belongs to.
read -r -a fragments <<<"${KERNEL_PATCH_FRAGMENTS:-src/kernel/upstream/encl.c:1 src/kernel/upstream/ioctl.c:2}"
# The files the series touches (patch 4: the two documentation files).
touched=("$sgx/encl.c" "$sgx/encl.h" "$sgx/ioctl.c"
	Documentation/arch/x86/sgx.rst arch/x86/include/uapi/asm/sgx.h)
subjects=(1-secs 2-etrack-batch 3-soft-lockup 4-docs)
# A placeholder identity and a fixed date: the same input gives the same
# series, byte for byte. No real person signs this series.
ident=(-c user.name=sgxemu -c user.email=sgxemu@example.org -c core.abbrev=12)
export GIT_AUTHOR_DATE="2026-01-01T00:00:00+0000"
export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

install_packages() {
	# linux-source-6.12: the tree; git, python3: the series and the
	# splicer; xz-utils: the tarball; make, gcc, flex, bison, bc, perl,
	# libelf-dev (objtool), libssl-dev (sign-file): `make prepare` and the
	# sgx build; sparse: C=1; patch: applying the series.
	local pkgs=(linux-source-6.12 git python3 xz-utils make gcc flex bison
		bc perl libelf-dev libssl-dev sparse patch)
	"$root/scripts/install-deps.sh" "${pkgs[@]}"
}

# The files the series touches, as Linux has them, in $work/pristine:
# from the check's fresh tree if there is one, else from the tarball.
extract_touched() {
	rm -rf "$work/pristine"
	mkdir -p "$work/pristine/$top"
	if [ "$check" -eq 1 ]; then
		(cd "$work/check/$top" &&
			cp --parents "${touched[@]}" "$work/pristine/$top/")
	else
		tar -xJf "$tarball" -C "$work/pristine" "${touched[@]/#/$top/}"
	fi
}

git_series() {
	git -C "$work/series" "${ident[@]}" "$@"
}

# Series state N: the pristine files with the fragments of patches <= N
# spliced in and patch 4's texts if N >= 4.
write_state() {
	local n=$1 f
	for f in "${touched[@]}"; do
		cp "$work/pristine/$top/$f" "$work/series/$f"
	done
	"${splice[@]}" tree "$work/series/$sgx" "$n" "${fragments[@]}"
	"${splice[@]}" insert "$work/series" "$n" "$meta"/docs/*.txt
}

make_series() {
	local n f
	for f in "${fragments[@]}"; do
		[ -f "${f%:*}" ] || { echo "kernel-patch: no ${f%:*}" >&2; exit 1; }
	done
	rm -rf "$work/series" "$out"
	mkdir -p "$work/series"
	(cd "$work/pristine/$top" && cp --parents "${touched[@]}" "$work/series/")
	git_series init -q -b upstream
	git_series add -A
	git_series commit -q -m "Debian linux-source-6.12, the files the series touches"
	git_series tag base
	for n in 1 2 3 4; do
		write_state "$n"
		git_series add -A
		git_series commit -q -s -F "$meta/${subjects[n - 1]}.txt" || {
			echo "kernel-patch: patch $n changes nothing" >&2
			exit 1
		}
	done
	git_series config branch.upstream.description "$(cat "$meta/cover.txt")"
	git_series format-patch -q --cover-letter --cover-from-description=subject \
		--no-signature -o "$out" base..upstream
	echo "kernel-patch: wrote $(find "$out" -name '*.patch' | wc -l) files in" \
		"$out ($((SECONDS - start)) s)"
}

# A fresh tree with the smallest config that builds the driver.
prepare_tree() {
	local tree=$work/check/$top
	rm -rf "$work/check"
	mkdir -p "$work/check"
	# Everything but the C sources of subsystems the sgx build never
	# compiles nor includes (1.2 of its 1.7 GB): their Kconfig files and
	# Makefiles stay, for the configuration.
	tar -xJf "$tarball" -C "$work/check" --wildcards \
		--exclude="$top/drivers/*.[ch]" --exclude="$top/sound/*.[ch]" \
		--exclude="$top/net/*.[ch]" --exclude="$top/fs/*.[ch]"
	echo "kernel-patch: unpacked $tarball ($((SECONDS - start)) s)"
	make -s -C "$tree" x86_64_defconfig
	# SGX depends on X2APIC, which x86_64_defconfig leaves off.
	(cd "$tree" && scripts/config -e X86_X2APIC -e X86_SGX)
	make -s -C "$tree" olddefconfig
	grep -qx CONFIG_X86_SGX=y "$tree/.config" || {
		echo "kernel-patch: CONFIG_X86_SGX not set" >&2
		exit 1
	}
	make -s -C "$tree" -j2 prepare >"$work/check/prepare.log" 2>&1 || {
		cat "$work/check/prepare.log"
		exit 1
	}
	echo "kernel-patch: configured and prepared ($((SECONDS - start)) s)"
}

# Builds every file of the sgx directory with W=1 and sparse; any output
# (a warning of gcc or of sparse) fails. kernel-doc may keep Linux's own
# warnings but add none.
build_sgx() {
	local label=$1 tree=$work/check/$top log=$work/check/build-$1.log
	rm -f "$tree/$sgx"/*.o "$tree/$sgx"/.*.cmd "$tree/$sgx"/built-in.a
	if ! make -s -C "$tree" -j2 W=1 C=1 "$sgx/" >"$log" 2>&1 ||
		[ -s "$log" ]; then
		cat "$log"
		echo "kernel-patch: $label: the sgx build is not clean" >&2
		return 1
	fi
	(cd "$tree" && scripts/kernel-doc -none -Wall "$sgx"/*.[ch] \
		arch/x86/include/uapi/asm/sgx.h 2>&1 |
		sed 's/:[0-9]*: /: /' | sort -u) >"$work/check/kdoc-$label.log"
	if [ "$label" != linux ] && ! comm -13 "$work/check/kdoc-linux.log" \
		"$work/check/kdoc-$label.log" | diff /dev/null -; then
		echo "kernel-patch: $label: new kernel-doc warnings" >&2
		return 1
	fi
	echo "kernel-patch: $label: sgx/ builds with W=1 and C=1, no warning" \
		"($((SECONDS - start)) s)"
}

checkpatch() {
	local p=$1 log
	log=$(cd "$work/check/$top" && scripts/checkpatch.pl --strict "$p" || true)
	if ! grep -q '^total: 0 errors, 0 warnings, 0 checks' <<<"$log"; then
		echo "$log"
		echo "kernel-patch: checkpatch --strict: $(basename "$p") is not clean" >&2
		return 1
	fi
	echo "kernel-patch: checkpatch --strict: $(basename "$p"): 0 errors, 0 warnings, 0 checks"
}

# The contract's same-source check: the final tree holds every fragment
# function byte for byte; the model compiles the fragments; and the
# repository defines each of those functions once (in its fragment).
same_source() {
	local f path hits status=0
	"${splice[@]}" check "$work/check/$top/$sgx" "${fragments[@]}" || status=1
	for f in "${fragments[@]}"; do
		path=${f%:*}
		hits=$(cd "$root" && git ls-files -z src/kernel | xargs -0 \
			grep -lx "#include \"kernel/upstream/${path##*/}\"" || true)
		if [ -n "$hits" ]; then
			echo "same-source:" $hits "includes $path"
		else
			echo "same-source: no model source includes $path" >&2
			status=1
		fi
	done
	# The splicer's own test fixtures define functions of the same names.
	# shellcheck disable=SC2046
	"${splice[@]}" defs "${fragments[@]}" -- $(git -C "$root" ls-files \
		'*.c' '*.h' ':!tests/kernel-patch') || status=1
	return $status
}

run_check() {
	local p n=0 status=0
	build_sgx linux
	for p in "$out"/000[1-9]-*.patch; do
		n=$((n + 1))
		patch -d "$work/check/$top" -p1 -F0 -s --no-backup-if-mismatch \
			<"$p" || { echo "kernel-patch: $p does not apply" >&2; exit 1; }
		build_sgx "patch$n" || status=1
		checkpatch "$p" || status=1
	done
	same_source || status=1
	return $status
}

start=$SECONDS
install_packages
[ "$check" -eq 0 ] || prepare_tree
extract_touched
make_series
[ "$check" -eq 1 ] || exit 0
if run_check; then
	echo "kernel-patch: check passed in $((SECONDS - start)) s"
else
	echo "kernel-patch: check FAILED" >&2
	exit 1
fi
