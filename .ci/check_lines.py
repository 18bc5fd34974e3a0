"""Fail on a line of the library over 120 characters: the exported code is the lesson, and is read.
Counts characters, not bytes. The `__all__` list is left out: nbdev writes it, wrapped its own way.
Run from the repository root: python .ci/check_lines.py"""
import sys
from pathlib import Path

LIMIT = 120

def long_lines(fn):
    "(line number, length) of each line of `fn` over `LIMIT` characters, outside nbdev's `__all__`."
    in_all = False
    for i, line in enumerate(fn.read_text(encoding='utf-8').splitlines(), 1):
        in_all = line.startswith('__all__ = [') or (in_all and line.startswith(' '))
        if len(line) > LIMIT and not in_all: yield i, len(line)

found = [(fn, i, n) for fn in sorted(Path('kaiming_nb').glob('*.py')) if fn.name != '_modidx.py' for i, n in long_lines(fn)]
for fn, i, n in found: print(f"{fn}:{i}: {n} characters (limit {LIMIT})")
if found: sys.exit(f"{len(found)} lines of the library are over {LIMIT} characters: shorten them in the notebooks")
print(f"check_lines: no line of the library is over {LIMIT} characters")
