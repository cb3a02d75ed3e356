#!/bin/sh
# sgxemu bench end to end: a small sweep's CSV, JSON and plots, its counted
# events per policy, and its usage errors. Usage: bench_cli.sh SGXEMU
set -eu
sgxemu=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "bench_cli: $*" >&2; exit 1; }

"$sgxemu" bench --pages 1,16 --cpus 1,4 --etrack-batch 1,0,7 --quiet \
	--out "$out" > "$out/table.txt"
[ "$(wc -l < "$out/bench.csv")" -eq 13 ] || fail "want 12 rows and a header"
head -1 "$out/bench.csv" | grep -q '^pages,cpus,enclave_threads,etrack_batch,' ||
	fail "CSV header"
# Columns: 1 pages 2 cpus 3 threads 4 batch 13 flows 14 rounds 16 aex.
awk -F, 'NR > 1 {
	flows = $4 == 1 ? $1 : ($4 == 0 ? 1 : int(($1 + $4 - 1) / $4))
	if ($13 != flows || $14 != flows || $16 != flows * $3) {
		print "row " NR ": " $0; bad = 1
	}
} END { exit bad }' "$out/bench.csv" || fail "counted events"
grep -q 'latency_cyc' "$out/table.txt" || fail "no table"
for f in latency speedup disruption; do
	[ -s "$out/$f.svg" ] && [ -s "$out/$f.png" ] || fail "no $f plot"
done

"$sgxemu" bench --pages 4 --cpus 2 --json --no-plots --quiet --out "$out" \
	> "$out/b.json"
grep -q '"rows":\[{"pages":4,"cpus":2,"enclave_threads":1,"etrack_batch":1,' \
	"$out/b.json" || fail "JSON"

for bad in "--pages 0" "--cpus 65" "--costs median" "--op grow" \
	"--threads 4 --cpus 2" "--pages 1,x" "--loop-checks maybe"; do
	# shellcheck disable=SC2086
	if "$sgxemu" bench $bad --quiet --no-plots --out "$out" \
		> /dev/null 2>&1; then
		fail "accepted $bad"
	elif [ $? -ne 2 ]; then
		fail "$bad: want exit status 2"
	fi
done
"$sgxemu" bench --help | grep -q -- '--etrack-batch LIST' || fail "--help"
# Linux 6.12 exactly: batch 1 without the loop checks, one flow per page.
"$sgxemu" bench --pages 4 --cpus 2 --etrack-batch 1 --loop-checks off \
	--json --no-plots --quiet --out "$out" > "$out/l.json"
grep -q '"etrack_flows":4,' "$out/l.json" || fail "--loop-checks off"
echo "bench_cli: ok"
