#!/usr/bin/env bash
# The splicer's self-test (scripts/kernel-patch/splice.py): splices the
# fragments of frag/ into the fake driver files of tree/ and compares each
# series state with expect/; then checks that every contract breach is
# refused with its message. Each case can fail: a wrong blank line, a hook or
# marker kept or a header line misplaced shows as a diff.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 (the package), not a shim that may come first on PATH.
splice=(/usr/bin/python3 "$here/../../scripts/kernel-patch/splice.py")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
# foo.c: replaced functions out of Linux's order (the whole fragment goes
# where the first was); bar.c: "splice: before"; baz.c: in Linux's order
# (each piece in its own place).
frags=("$here/frag/foo.c:2" "$here/frag/bar.c:2" "$here/frag/baz.c:2")

fresh() {
	rm -rf "$work/t"
	mkdir -p "$work/t"
	cp "$here"/tree/* "$work/t/"
}

# Each state of the series, as the tree after its patch.
for state in 1 2 3; do
	fresh
	"${splice[@]}" tree "$work/t" "$state" "${frags[@]}" || failed=1
	for f in foo.c foo.h bar.c baz.c; do
		want=$here/expect/$state/$f
		[ "$state" -eq 1 ] && want=$here/tree/$f
		diff -u "$want" "$work/t/$f" ||
			{ echo "FAIL: state $state, $f"; failed=1; }
	done
done

# The same-source check passes on the final state and fails on state 2
# (patch 3's lines missing) and on a one-byte change.
fresh
"${splice[@]}" tree "$work/t" 3 "${frags[@]}" >/dev/null
"${splice[@]}" check "$work/t" "${frags[@]}" >/dev/null ||
	{ echo "FAIL: check on the final state"; failed=1; }
sed -i 's/return -4;/return -5;/' "$work/t/foo.c"
"${splice[@]}" check "$work/t" "${frags[@]}" >/dev/null 2>&1 &&
	{ echo "FAIL: check missed a changed byte"; failed=1; }
fresh
"${splice[@]}" tree "$work/t" 2 "${frags[@]}" >/dev/null
"${splice[@]}" check "$work/t" "${frags[@]}" 2>"$work/err" >/dev/null &&
	{ echo "FAIL: check missed patch 3's lines"; failed=1; }
grep -q 'widget_step() of .* is not in foo.c' "$work/err" ||
	{ echo "FAIL: check blamed the wrong function"; failed=1; }

# Insert texts: after a sequence of anchors, only from their patch on.
fresh
"${splice[@]}" tree "$work/t" 3 "${frags[@]}"
"${splice[@]}" insert "$work/t" 3 "$here/insert.txt"
diff -u "$here/expect/3/foo.h" "$work/t/foo.h" ||
	{ echo "FAIL: insert text applied before its patch"; failed=1; }
"${splice[@]}" insert "$work/t" 4 "$here/insert.txt"
diff -u "$here/expect/4-foo.h" "$work/t/foo.h" ||
	{ echo "FAIL: insert text"; failed=1; }

# Breaches of the contract: each fragment must be refused, with its reason.
refuse() {
	local why=$1 name=$2
	cat >"$work/$name"
	fresh
	if "${splice[@]}" tree "$work/t" 3 "$work/$name:2" 2>"$work/err"; then
		echo "FAIL: accepted: $why"
		failed=1
	elif ! grep -q -- "$why" "$work/err"; then
		echo "FAIL: refused for another reason than '$why':"
		cat "$work/err"
		failed=1
	fi
}
refuse 'no #include' foo.c <<'X'
#include "foo.h"

static int widget_get(struct widget *w)
{
	return 0;
}
X
refuse 'do not nest' foo.c <<'X'
static int widget_get(struct widget *w)
{
	/* sgxemu-series: patch 3 begin */
	/* sgxemu-series: patch 4 begin */
	return 0;
	/* sgxemu-series: patch 4 end */
	/* sgxemu-series: patch 3 end */
}
X
refuse 'never ended' foo.c <<'X'
static int widget_get(struct widget *w)
{
	/* sgxemu-series: patch 3 begin */
	return 0;
}
X
refuse 'without its begin' foo.c <<'X'
static int widget_get(struct widget *w)
{
	return 0;
	/* sgxemu-series: patch 3 end */
}
X
refuse 'malformed series marker' foo.c <<'X'
static int widget_get(struct widget *w)
{
	/* sgxemu-series: patch 3 start */
	return 0;
}
X
refuse 'one whole line' foo.c <<'X'
static int widget_get(struct widget *w)
{
	SGX_MODEL_WINDOW(w,
			 0);
	return 0;
}
X
refuse 'not a whole line' foo.c <<'X'
static int widget_get(struct widget *w)
{
	return SGX_MODEL_PICK(w, 0);
}
X
refuse 'no #if of the model' foo.c <<'X'
static int widget_get(struct widget *w)
{
#ifdef SGXEMU_PLANTS
	return 1;
#endif
	return 0;
}
X
refuse 'replaces no function' foo.c <<'X'
static int widget_new(struct widget *w)
{
	return 0;
}
X
refuse 'no such function' foo.c <<'X'
/* sgxemu-fragment
 * splice: before widget_nothing
 */
static int widget_new(struct widget *w)
{
	return 0;
}
X
refuse '0 lines of foo.h are exactly' foo.c <<'X'
/* sgxemu-fragment
 * header: foo.h after "	int nothing;": 	int more;
 */
static int widget_get(struct widget *w)
{
	return 0;
}
X
refuse 'belong in the sgxemu-fragment block' foo.c <<'X'
/*
 * header: foo.h after "	int refs;": 	int more;
 */
static int widget_get(struct widget *w)
{
	return 0;
}
X

if [ "$failed" -eq 0 ]; then
	echo "splicer self-test: all cases passed"
fi
exit "$failed"
