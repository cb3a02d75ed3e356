#!/usr/bin/env bash
# Installs what sgxemu needs on Debian 12, from Debian's archive only.
#   meson, ninja-build, gcc, pkg-config: the build
#   libssl-dev: libcrypto for SHA-256, RSA-3072, AES-GCM and AES-CMAC
#   libcriterion-dev: the unit-test framework
#   gnuplot-nox: plots of benchmark results
#   clang, libclang-rt-14-dev: libFuzzer, for the uapi fuzz target
#   libcapstone-dev: the disassembler the runner finds CPUID instructions with
#   libtsan2: ThreadSanitizer's runtime, for the native platform's tests
#     (gcc's libgcc-12-dev pulls it in already; named for what needs it)
#
# With arguments, installs those packages instead: the scripts that need
# more (selftests.sh, kernel-patch.sh) install their own through it.
set -euo pipefail
pkgs=(meson ninja-build gcc pkg-config libssl-dev libcriterion-dev gnuplot-nox
	clang libclang-rt-14-dev libcapstone-dev libtsan2)
[ $# -gt 0 ] && pkgs=("$@")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
