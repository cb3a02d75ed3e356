#!/usr/bin/env python3
"""Splices sgxemu's single-source kernel C into Linux's SGX driver.

Implements the splicing rules of docs/BATCHED-ETRACK.md, "The upstream
series" (issue 11):

- a fragment src/kernel/upstream/<name> replaces, in
  arch/x86/kernel/cpu/sgx/<name>, every function of the same name (with the
  comment block directly above it) and is inserted where the first of them
  was, or before the function its "* splice: before F" line names (when
  the replaced functions are in Linux's order, each goes back in its own
  place with what precedes it in the fragment: see splice());
- its first comment block, when it starts with "/* sgxemu-fragment", is for
  this tool only: its "* header: FILE after "LINE": NEW" lines insert NEW
  after the line LINE of FILE (a header of the same directory);
- a line whose first token starts with SGX_MODEL_ is a model-only hook and is
  deleted;
- lines between "/* sgxemu-series: patch N begin */" and "... end */" belong
  to patch N: they are dropped from the tree states before N.

Subcommands (paths of fragments are given as FILE:PATCH, PATCH being the
number of the patch the fragment belongs to):

  tree SGXDIR STATE FRAG...     rewrite SGXDIR in place for series state STATE
  insert ROOT STATE TEXT...     apply the insert texts (docs) of patch <= STATE
  check SGXDIR FRAG...          every fragment function is in SGXDIR, verbatim
  defs FRAG... -- FILE...       every fragment function is defined once
  show FRAG STATE               print a fragment as it is spliced at STATE
  names FRAG...                 print the fragment functions' names

Exits with status 1 and a message naming the file and line on any breach of
the contract; never writes a partial tree for a fragment that breaks it.
"""
import os
import re
import sys

HOOK = re.compile(r'^\s*SGX_MODEL_\w*')
MARKER = re.compile(r'^\s*/\* sgxemu-series: patch (\d+) (begin|end) \*/\s*$')
HEADER = re.compile(r'^\s*\* header: (\S+) after "(.*)": (.*)$')
SPLICE = re.compile(r'^\s*\* splice: before (\w+)\s*$')
NAME = re.compile(r'(\w+)\s*\(')


class SpliceError(Exception):
    pass


def fail(where, msg):
    raise SpliceError(f'{where}: {msg}')


def read_lines(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if text and not text.endswith('\n'):
        fail(path, 'no newline at the end of the file')
    return text.split('\n')[:-1] if text else []


def write_lines(path, lines):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(line + '\n' for line in lines))


def comment_start(lines, end):
    """Index of the first line of the comment block ending at lines[end]."""
    if not lines[end].rstrip().endswith('*/'):
        return None
    i = end
    while i >= 0:
        if lines[i].lstrip().startswith('/*'):
            return i
        if i < end and '*/' in lines[i]:
            return None
        i -= 1
    return None


def functions(lines, where, strict=True):
    """Top-level function definitions in kernel style, in file order.

    A definition's body opens with "{" alone in column 0 and closes with the
    first "}" in column 0 after it; its head is the column-0 line above the
    "{" with its indented continuation lines (and a column-0 return type on
    the line before, if the head starts with the name). Returns
    (name, first, head, last) with first the first line of the comment block
    directly above the head (or the head), all indices inclusive.
    """
    found = []
    i = 0
    while i < len(lines):
        if lines[i] != '{':
            i += 1
            continue
        head = i - 1
        while head >= 0 and lines[head][:1] in (' ', '\t'):
            head -= 1
        if head < 0 or not lines[head] or lines[head][0] in '#}/ *':
            if strict:
                fail(f'{where}:{i + 1}',
                     'a "{" in column 0 that opens no function')
            i += 1
            continue
        prev = lines[head - 1] if head > 0 else ''
        if (prev and prev[0] not in '#}/ \t*' and
                not prev.rstrip().endswith((';', '*/', ','))):
            head -= 1
        match = NAME.search(' '.join(lines[head:i]))
        if not match or not strict and '=' in ' '.join(lines[head:i]):
            if strict:
                fail(f'{where}:{head + 1}', 'no function name before "{"')
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end] != '}':
            end += 1
        if end == len(lines):
            fail(f'{where}:{i + 1}', 'function body never closed in column 0')
        first = head
        if head > 0:
            start = comment_start(lines, head - 1)
            if start is not None:
                first = start
        found.append((match.group(1), first, head, end))
        i = end + 1
    return found


class Fragment:
    """A fragment file, parsed: its own patch, header lines, body lines."""

    def __init__(self, spec):
        path, _, patch = spec.rpartition(':')
        if not path or not patch.isdigit():
            fail(spec, 'a fragment is given as FILE:PATCH')
        self.path = path
        self.name = os.path.basename(path)
        self.patch = int(patch)
        self.headers = []
        self.before = None
        lines = read_lines(path)
        body_start = self._header_block(lines)
        self.first_line = body_start + 1
        self.body = lines[body_start:]
        self._lint()

    def _header_block(self, lines):
        i = 0
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i == len(lines) or not lines[i].startswith('/* sgxemu-fragment'):
            return 0
        end = i
        while '*/' not in lines[end]:
            end += 1
            if end == len(lines):
                fail(f'{self.path}:{i + 1}', 'unterminated sgxemu-fragment block')
        for n in range(i, end + 1):
            where = f'{self.path}:{n + 1}'
            header = HEADER.match(lines[n])
            splice = SPLICE.match(lines[n])
            if header:
                self.headers.append((where,) + header.groups())
            elif splice:
                if self.before:
                    fail(where, 'a second "splice: before" line')
                self.before = splice.group(1)
            elif re.match(r'^\s*\* (header|splice):', lines[n]):
                fail(where, 'malformed header/splice line')
        return end + 1

    def _lint(self):
        depth = None
        for n, line in enumerate(self.body):
            where = f'{self.path}:{n + self.first_line}'
            if re.match(r'^\s*#\s*include\b', line):
                fail(where, 'fragments contain no #include')
            if re.match(r'^\s*#\s*if', line) and 'SGXEMU' in line:
                fail(where, 'no #if of the model in fragments')
            if re.match(r'^\s*\* (header|splice):', line):
                fail(where, 'header/splice lines belong in the '
                     'sgxemu-fragment block at the top')
            marker = MARKER.match(line)
            if marker:
                num, kind = int(marker.group(1)), marker.group(2)
                if kind == 'begin':
                    if depth is not None:
                        fail(where, 'series markers do not nest')
                    if num <= self.patch:
                        fail(where, f'patch {num} is not after the '
                             f"fragment's own patch {self.patch}")
                    depth = num
                elif depth != num:
                    fail(where, f'end of patch {num} without its begin')
                else:
                    depth = None
            elif 'sgxemu-series' in line:
                fail(where, 'malformed series marker')
            elif HOOK.match(line):
                if line.count('(') != line.count(')'):
                    fail(where, 'a hook must be one whole line')
            elif 'SGX_MODEL_' in line:
                fail(where, 'SGX_MODEL_ hook that is not a whole line')
        if depth is not None:
            fail(self.path, f'patch {depth} begin marker never ended')

    def lines_at(self, state):
        """The fragment's text as spliced into series state STATE."""
        out = []
        keep = True
        for line in self.body:
            marker = MARKER.match(line)
            if marker:
                keep = (marker.group(2) == 'end' or
                        int(marker.group(1)) <= state)
                continue
            if keep and not HOOK.match(line):
                out.append(line)
        while out and not out[0].strip():
            out.pop(0)
        while out and not out[-1].strip():
            out.pop()
        return out


def pieces(body, frag, replaced):
    """BODY cut after each function that replaces one of Linux's.

    Each piece ends with such a function and holds what the fragment puts
    before it (new helpers, definitions); what follows the last one joins
    the last piece. Returns [(linux_function_name, lines)] in fragment
    order.
    """
    cuts = [(name, last) for name, _, _, last in functions(body, frag.path)
            if name in replaced]
    out = []
    start = 0
    for n, (name, last) in enumerate(cuts):
        end = len(body) if n == len(cuts) - 1 else last + 1
        lines = body[start:end]
        while lines and not lines[0].strip():
            lines.pop(0)
        out.append((name, lines))
        start = end
    return out


def splice(target, frag, state):
    """TARGET's lines with FRAG spliced in at STATE.

    When the functions the fragment replaces come in the same order as in
    TARGET, each piece of the fragment (see pieces()) takes the place of
    the function it ends with, so that Linux's functions between them stay
    where they are and the patch shows no moved code. Otherwise the whole
    fragment goes where the first replaced function was.
    """
    body = frag.lines_at(state)
    funcs = functions(target, frag.name)
    own = [name for name, *_ in functions(body, frag.path)]
    if not own:
        fail(frag.path, 'no function in the fragment')
    doomed = [f for f in funcs if f[0] in own]
    if frag.before:
        anchor = [f for f in funcs if f[0] == frag.before]
        if not anchor:
            fail(frag.path, f'"splice: before {frag.before}": no such '
                 f'function in {frag.name}')
        if doomed:
            fail(frag.path, 'a fragment that replaces functions needs no '
                 '"splice: before"')
        at = {anchor[0][1]: body}
    elif doomed:
        names = [f[0] for f in doomed]
        if names == [n for n in own if n in names]:
            first = {f[0]: f[1] for f in doomed}
            at = {first[name]: lines
                  for name, lines in pieces(body, frag, set(names))}
        else:
            at = {doomed[0][1]: body}
    else:
        fail(frag.path, f'replaces no function of {frag.name} and has no '
             '"splice: before" line')
    drop = set()
    for _, first, _, last in doomed:
        drop.update(range(first, last + 1))
        # Each deleted function takes its separating blank line with it;
        # the inserted text brings one back.
        if last + 1 < len(target) and not target[last + 1].strip():
            drop.add(last + 1)
    out = []
    for n, line in enumerate(target):
        if n in at:
            out.extend(at[n])
            out.append('')
        if n not in drop:
            out.append(line)
    return out


def apply_headers(sgxdir, frags):
    """Inserts every fragment's header lines into the headers of SGXDIR."""
    by_file = {}
    for frag in frags:
        for where, name, anchor, new in frag.headers:
            by_file.setdefault(name, []).append((where, anchor, new))
    for name, inserts in by_file.items():
        if '/' in name or not name.endswith('.h'):
            fail(inserts[0][0], f'{name}: headers of the sgx directory only')
        path = os.path.join(sgxdir, name)
        lines = read_lines(path)
        tags = [None] * len(lines)
        for where, anchor, new in inserts:
            hits = [n for n, line in enumerate(lines)
                    if line == anchor and tags[n] is None]
            if len(hits) != 1:
                fail(where, f'{len(hits)} lines of {name} are exactly '
                     f'"{anchor}" (need 1)')
            at = hits[0] + 1
            # Several lines after one anchor keep their order.
            while at < len(lines) and tags[at] == anchor:
                at += 1
            lines.insert(at, new)
            tags.insert(at, anchor)
        write_lines(path, lines)


def cmd_tree(sgxdir, state, specs):
    frags = [Fragment(s) for s in specs]
    active = [f for f in frags if f.patch <= state]
    results = {}
    for frag in active:
        path = os.path.join(sgxdir, frag.name)
        lines = results.get(path) or read_lines(path)
        results[path] = splice(lines, frag, state)
    for path, lines in results.items():
        write_lines(path, lines)
    apply_headers(sgxdir, active)


def parse_insert(path):
    """An insert text: "file:", one or more "after:" lines, "---", text.

    The text goes after the first line equal to the last "after:" anchor
    that follows lines equal to the earlier anchors, in order.
    """
    lines = read_lines(path)
    meta = {'after': [], 'patch': None, 'file': None}
    for n, line in enumerate(lines):
        if line == '---':
            return meta, lines[n + 1:]
        key, sep, value = line.partition(': ')
        if not sep or key not in meta:
            fail(f'{path}:{n + 1}', 'expected "file: ", "patch: ", '
                 '"after: " or "---"')
        if key == 'after':
            meta['after'].append(value)
        else:
            meta[key] = value
    fail(path, 'no "---" line before the text')


def cmd_insert(root, state, texts):
    for text in texts:
        meta, body = parse_insert(text)
        if not meta['file'] or not meta['after'] or not meta['patch']:
            fail(text, 'needs file:, patch: and at least one after:')
        if int(meta['patch']) > state:
            continue
        path = os.path.join(root, meta['file'])
        lines = read_lines(path)
        at = 0
        for anchor in meta['after']:
            while at < len(lines) and lines[at] != anchor:
                at += 1
            if at == len(lines):
                fail(text, f'anchor "{anchor}" not found in {meta["file"]}')
            at += 1
        write_lines(path, lines[:at] + body + lines[at:])


def cmd_check(sgxdir, specs):
    """Every fragment function, as in the final state, is in SGXDIR as is."""
    bad = 0
    for frag in (Fragment(s) for s in specs):
        body = frag.lines_at(sys.maxsize)
        tree = read_lines(os.path.join(sgxdir, frag.name))
        text = '\n'.join(tree) + '\n'
        for name, first, _, last in functions(body, frag.path):
            chunk = '\n'.join(body[first:last + 1]) + '\n'
            if not chunk_at_line_start(text, chunk):
                print(f'same-source: {name}() of {frag.path} is not in '
                      f'{frag.name} byte for byte', file=sys.stderr)
                bad += 1
            else:
                print(f'same-source: {name}() ok ({frag.name})')
    return bad


def cmd_defs(specs, files):
    """Each fragment function is defined once among FILES: the fragment."""
    names = {}
    for frag in (Fragment(s) for s in specs):
        for name, *_ in functions(frag.lines_at(sys.maxsize), frag.path):
            names[name] = []
    for path in files:
        if not path.endswith(('.c', '.h')):
            continue
        try:
            lines = read_lines(path)
        except (SpliceError, UnicodeDecodeError):
            continue
        for name, _, head, _ in functions(lines, path, strict=False):
            if name in names:
                names[name].append(f'{path}:{head + 1}')
    bad = 0
    for name, where in sorted(names.items()):
        if len(where) != 1:
            print(f'one-definition: {name}() is defined {len(where)} times: '
                  f'{" ".join(where) or "nowhere"}', file=sys.stderr)
            bad += 1
    print(f'one-definition: {len(names) - bad} of {len(names)} functions '
          'defined exactly once')
    return bad


def chunk_at_line_start(text, chunk):
    return text.startswith(chunk) or ('\n' + chunk) in text


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == 'tree' and len(args) >= 3:
            cmd_tree(args[0], int(args[1]), args[2:])
        elif cmd == 'insert' and len(args) >= 3:
            cmd_insert(args[0], int(args[1]), args[2:])
        elif cmd == 'check' and len(args) >= 2:
            return 1 if cmd_check(args[0], args[1:]) else 0
        elif cmd == 'defs' and '--' in args:
            cut = args.index('--')
            return 1 if cmd_defs(args[:cut], args[cut + 1:]) else 0
        elif cmd == 'show' and len(args) == 2:
            print('\n'.join(Fragment(args[0]).lines_at(int(args[1]))))
        elif cmd == 'names' and args:
            for spec in args:
                frag = Fragment(spec)
                for name, *_ in functions(frag.lines_at(sys.maxsize),
                                          frag.path):
                    print(name)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (SpliceError, OSError) as e:
        print(f'splice: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
