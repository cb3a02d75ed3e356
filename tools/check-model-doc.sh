#!/usr/bin/env bash
# Keeps docs/MODEL.md true to the code: every source file that carries
# MODEL:, UNCERTAIN: or KERNEL: tags must have a section "### path" in
# docs/MODEL.md with exactly as many "- " entries as the file has tags.
# Prints each mismatch; exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/MODEL.md
status=0
while read -r file; do
	tags=$(grep -cE '(MODEL|UNCERTAIN|KERNEL):' "$file")
	entries=$(awk -v f="### $file" '
		$0 == f { on = 1; next }
		/^##/ { on = 0 }
		on && /^- / { n++ }
		END { print n + 0 }' "$doc")
	if [ "$tags" != "$entries" ]; then
		echo "$file: $tags tags in the code, $entries entries in $doc"
		status=1
	fi
done < <(grep -rlE '(MODEL|UNCERTAIN|KERNEL):' src include | sort)
exit $status
