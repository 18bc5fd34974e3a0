"""Fail when a notebook cell that .ci/outcomes/ restates has changed since its copy was last checked against it.

Each `Check` of .ci/outcomes/*.py names the cells it restates (`cell='05_training.ipynb#c0014,c0016'`), so that
.ci/spread.py can measure the spread of what they assert. .ci/outcomes/cells.json keeps a digest of each such cell's
source as it was when its copy was made to match. A cell that changes without its copy fails here, naming both.

    python .ci/mirrors.py            # check (CI)
    python .ci/mirrors.py --update   # after updating the copies: record the cells as they are now
"""
import hashlib, json, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NBS = HERE.parent/'nbs'
LOCK = HERE/'outcomes'/'cells.json'
sys.path[:0] = [str(HERE), str(HERE/'outcomes')]


def mirrored():
    "{'notebook.ipynb#id': the outcomes file that restates it}, from every `Check` of .ci/outcomes/."
    import importlib
    refs = {}
    for fn in sorted((HERE/'outcomes').glob('*.py')):
        for check in importlib.import_module(fn.stem).CHECKS:
            nb, ids = check.cell.split('#')
            for i in ids.split(','):
                refs[f'{nb}#{i.strip()}'] = f'.ci/outcomes/{fn.name}'
    return refs


def digest(ref):
    "A digest of the source of the cell `ref` names, or None if there is no such cell."
    nb, cell_id = ref.split('#')
    path = NBS/nb
    if not path.exists():
        return None
    cells = {c.get('id'): ''.join(c['source']) for c in json.loads(path.read_text())['cells']}
    if cell_id not in cells:
        return None
    return hashlib.sha256(cells[cell_id].strip().encode()).hexdigest()[:16]


def main(update=False):
    refs = mirrored()
    now = {ref: digest(ref) for ref in refs}
    missing = [f'{ref} (restated in {refs[ref]}): no such cell' for ref, d in now.items() if d is None]
    if missing:
        sys.exit('mirrors: ' + '\n'.join(missing))
    if update:
        LOCK.write_text(json.dumps(dict(sorted(now.items())), indent=1) + '\n')
        return print(f'mirrors: recorded {len(now)} cells in {LOCK.relative_to(HERE.parent)}')
    locked = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    changed = [f'nbs/{ref} changed: update its copy in {refs[ref]}, then run python .ci/mirrors.py --update'
               for ref, d in now.items() if locked.get(ref) != d]
    changed += [f'{ref} is no longer restated: run python .ci/mirrors.py --update' for ref in locked if ref not in now]
    if changed:
        sys.exit('mirrors: ' + '\n'.join(changed))
    print(f'mirrors: the {len(now)} notebook cells restated in .ci/outcomes/ are as their copies were made to match')


if __name__ == '__main__':
    main(update='--update' in sys.argv[1:])
