#!/bin/sh
# sgxemu bench --replay end to end: a small trace's table, JSON and CSV,
# and bad traces refused with their line and exit status 2.
# Usage: replay_cli.sh SGXEMU
set -u
sgxemu=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "replay_cli: $*" >&2; exit 1; }

cat > "$dir/good.trace" <<'T'
sgxemu-trace 1
create 7 0 0x10000
add 7 0 1 0x0 0x2000 0x100 0 0x2000 0
add 7 0 1 0x2000 0x2000 0x203 0 0x2000 0
init 7 0 0
eenter 7 0 1 0x0
aex 7 0 1 other
eaug 7 0 0x8000
eresume 7 0 1 0x0
eaccept 7 0 1 0x8000
aex 7 0 1 other
eaug 7 0 0x9000
eresume 7 0 1 0x0
eaccept 7 0 1 0x9000
eexit 7 0 1
eenter 7 0 2 0x1000
restrict 7 0 1 0x8000 0x2000 0x1 0 0x2000 0
eexit 7 0 2
T
"$sgxemu" bench --replay "$dir/good.trace" --etrack-batch 1,0,512 \
	--out "$dir" > "$dir/table.txt" || fail "the good trace failed"
grep -q 'edmm_cyc' "$dir/table.txt" || fail "no table"
[ "$(wc -l < "$dir/replay.csv")" -eq 4 ] || fail "want 3 CSV rows"
# Columns: 1 batch 9 flows 11 rounds 13 aex: 2 pages, one thread inside.
awk -F, 'NR > 1 { want = $1 == 1 ? 2 : 1
	if ($9 != want || $11 != want || $13 != want) { print; bad = 1 } }
	END { exit bad }' "$dir/replay.csv" || fail "counted events"
"$sgxemu" bench --replay "$dir/good.trace" --etrack-batch 1 --json \
	--out "$dir" | grep -q '"rows":\[{"etrack_batch":1,"cost":"typical"' ||
	fail "JSON"

# The plot: per policy, the calls' latency and the flows, rounds, AEXs.
"$sgxemu" bench --replay "$dir/good.trace" --etrack-batch 1,0 --out "$dir" \
	--plot "$dir/plot" > /dev/null || fail "--plot failed"
for f in replay-latency replay-events; do
	[ -s "$dir/plot/$f.svg" ] && [ -s "$dir/plot/$f.png" ] ||
		fail "no $f plot"
done
# Rows: batch 1 then 0; after the title, the cycles of the three kinds,
# then flows, rounds, AEXs (2 pages, one thread inside).
sed 's/^"[^"]*"//' "$dir/plot/replay.dat" |
	awk 'NR == 1 && ($4 != 2 || $6 != 2) { bad = 1 }
	NR == 2 && ($4 != 1 || $6 != 1) { bad = 1 } END { exit bad }' ||
	fail "plot data: $(cat "$dir/plot/replay.dat")"
"$sgxemu" bench --plot "$dir/plot" 2> /dev/null
[ $? -eq 2 ] || fail "--plot without --replay"

# refused TEXT WANT: the trace TEXT exits 2 with WANT on stderr.
refused() {
	printf '%b' "$1" > "$dir/bad.trace"
	"$sgxemu" bench --replay "$dir/bad.trace" --out "$dir" \
		> /dev/null 2> "$dir/err"
	status=$?
	[ "$status" -eq 2 ] || fail "'$1': exit $status, want 2"
	grep -qF "$2" "$dir/err" || fail "'$1': $(cat "$dir/err")"
}
head='sgxemu-trace 1\ncreate 7 0 0x10000\n'
refused "$head"'add 7 0 1 0x0 0x1' "bad.trace: line 3: truncated"
refused 'sgxemu-trace 9\n' "line 1: trace version '9'"
refused "$head"'restrict 7 0 1 0x8000 0x10000 0x1 0 0x0 0\n' \
	"line 3: range 0x8000+0x10000 is outside the enclave's 0x10000 bytes"
refused "$head"'eexit 7 1 0\n' "line 3: enclave 7/1 is used before"
refused '' "line 1: empty file"

"$sgxemu" bench --replay "$dir/missing" 2> /dev/null
[ $? -eq 2 ] || fail "a missing trace"
"$sgxemu" bench --replay "$dir/good.trace" --pages 4 2> /dev/null
[ $? -eq 2 ] || fail "--pages with --replay"
"$sgxemu" bench --replay "$dir/good.trace" --cpus 2 --out "$dir" \
	2> /dev/null > /dev/null
[ $? -eq 2 ] || fail "--cpus too few for the trace"
echo "replay_cli: ok"
