#!/usr/bin/env python3
"""Regenerates the "Index by file" part of docs/MODEL.md from the MODEL:,
UNCERTAIN: and KERNEL: tags in src/ and include/: one entry per tag, the
tag's sentence as written in the code. Run it after adding or changing a
tag; tools/check-model-doc.sh (a test) fails while the two disagree."""
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
TAG = re.compile(r'(MODEL|UNCERTAIN|KERNEL):\s*(.*)')
MARK = '## Index by file\n'


def sentence(lines, i, text):
    """The tag's text, continued over comment lines until a full stop."""
    text = re.sub(r'\s*\*/\s*$', '', text)
    j = i + 1
    while not re.search(r'[.:]$', text) and j < len(lines):
        nxt = lines[j].strip()
        if (not nxt.startswith('*') or nxt.startswith('*/')
                or TAG.search(nxt)):
            break
        nxt = nxt.lstrip('*').strip()
        if not nxt or re.match(r'^[CE]\d+ ', nxt):
            break
        text += ' ' + re.sub(r'\s*\*/\s*$', '', nxt)
        j += 1
    return text


def index():
    out = subprocess.run(
        ['grep', '-rlE', '(MODEL|UNCERTAIN|KERNEL):', 'src', 'include'],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    parts = []
    for name in sorted(out.split()):
        lines = (ROOT / name).read_text().split('\n')
        parts.append(f'### {name}\n')
        for i, line in enumerate(lines):
            m = TAG.search(line)
            if m:
                parts.append(f'- **{m.group(1)}**: '
                             f'{sentence(lines, i, m.group(2))}')
        parts.append('')
    return '\n'.join(parts)


doc = ROOT / 'docs' / 'MODEL.md'
head = doc.read_text().split(MARK)[0]
doc.write_text(head + MARK + '\n' + index())
