#!/usr/bin/env python
"""The docs check: the pages of the docs site, checked here, where Quarto (which nbdev_docs needs) cannot be installed.

From the repository root (a fresh clone will do). It writes _proc/ (ignored by git) and a temporary folder; like
nbdev_proc_nbs and nbdev_export, it also rewrites nbs/nbdev.yml (from settings.ini) and kaiming_nb/_modidx.py.

    python .ci/check_docs.py                    # the check that .ci/run and CI run
    python .ci/check_docs.py --out /tmp/pages   # the same, keeping the rendered pages
    python .ci/check_docs.py --screenshot       # slow: the check, then a screenshot of one page in headless Chromium
    python .ci/check_docs.py --screenshot --page 04_loss --png /tmp/loss.png

1. nbs/sidebar.yml lists every notebook of nbs/, index first and the chapters in order, each with a title, and nothing
   that does not exist; nbs/_quarto.yml reads it.
2. nbdev_proc_nbs processes nbs/ into a fresh _proc/, as nbdev_docs does before it calls Quarto: hidden and exported
   cells removed, show_doc cells added and run, the frontmatter made. It must succeed and make every page.
3. Every processed notebook is rendered to HTML by nbconvert's HTMLExporter, without executing anything, after doing
   what Quarto does with cell options (the frontmatter becomes the title block; `#| echo: false` hides the code,
   `#| output: false` the outputs, `#| include: false` the cell; option lines are not shown). Then:
   - no error output (output_type 'error', or a traceback on stderr) in the processed notebook or its source, and no
     machine path in a saved text output (a temporary folder, /root, /home/NAME, /work, a shared/data folder): the
     pages show what a reader's machine would, with the home folder as ~;
   - the page holds the title, every heading, the text of every markdown cell, the code of every shown code cell,
     and every text output (streams, results, HTML, markdown such as show_doc's);
   - every saved image output is on the page as an <img> that carries its bytes: as many images in output areas as
     image outputs, the same data; a code cell that draws (show_images, plt., .plot(, imshow) has a saved image;
   - every function and class a module exports (its __all__) has its show_doc in the notebook the module is made
     from: a `show_doc(name)` cell whose output holds `### name`, the signature and a docstring, all on the page.
4. pandoc (which Quarto renders markdown with) converts each page's markdown cells: no TeX left as literal text (a `$`
   or a `\command` outside math, as `$x $` gives: pandoc's math may not end with a space) and no `**` or `__` left
   unrendered. Without pandoc (Debian: apt-get install -y pandoc) this check fails, saying so.
It prints one line per page and exits 1 with a line per problem, each naming the notebook.

--screenshot needs Chromium (Debian: apt-get install -y chromium); without it, it says so and skips that part.
It shoots one page (default 02_init; --page) from the heading above its first plot on, 1280x1600, into
<temp dir>/kaiming_nb_docs/<page>.png (--png), and checks the PNG is not blank: at least 3% of it not white, 8 colours.
"""
import argparse, ast, base64, copy, html.parser, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

import nbformat, yaml

ROOT = Path(__file__).resolve().parent.parent
PLOT = re.compile(r'\bshow_images\(|\bplt\.(?!get_fignums\(|close\()|\.plot\(|\bimshow\(')  # what draws a figure
TRACEBACK = re.compile(r'Traceback \(most recent call last\)|^\w+(Error|Exception)\b.*:', re.M)
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
CELL = re.compile(r'# %% (\S+?\.ipynb)')  # nbdev's mark of the notebook a cell comes from
MACHINE_PATH = re.compile(r'/tmp/|/var/folders/|/root\b|/home/\w|/work/|shared/data')
BLOCK = {'p', 'div', 'pre', 'li', 'ul', 'ol', 'table', 'tr', 'td', 'th', 'br', 'blockquote', 'hr',
         *(f'h{i}' for i in range(1, 7))}
IMAGES = ('image/png', 'image/jpeg')
PRIORITY = ('text/html', 'text/markdown', 'image/svg+xml', 'text/latex', *IMAGES, 'text/plain')  # nbconvert's order

def norm(s): return ' '.join(ANSI.sub('', s).split())
def snip(s, n=60):
    s = norm(s)
    return repr(s if len(s) <= n else s[:n] + '...')

class Page(html.parser.HTMLParser):
    "The visible text of a page (no script, style or heading anchors), its headings, and its images in output areas."
    def __init__(self, src):
        super().__init__(convert_charrefs=True)
        self.text, self.headings, self.out_imgs = [], [], []
        self.ids, self.first_plot_at = [], None  # heading ids in order; the id of the heading above the first plot
        self.skip, self.divs, self.heading = 0, [], None
        self.feed(src)
        self.close()
        self.text = norm(''.join(self.text))
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get('class') or '').split()
        if tag in BLOCK: self.text.append(' ')  # blocks are apart, whatever the markup's whitespace
        if tag in ('script', 'style') or (tag == 'a' and 'anchor-link' in cls): self.skip += 1
        elif tag == 'div': self.divs.append('jp-OutputArea-output' in cls)
        elif re.fullmatch('h[1-6]', tag):
            self.heading = []
            if a.get('id'): self.ids.append(a['id'])
        elif tag == 'img':
            if any(self.divs):
                self.out_imgs.append(a.get('src') or '')
                if self.first_plot_at is None and self.ids: self.first_plot_at = self.ids[-1]
    def handle_endtag(self, tag):
        if tag in BLOCK: self.text.append(' ')
        if tag in ('script', 'style') or (tag == 'a' and self.skip): self.skip = max(0, self.skip - 1)
        elif tag == 'div' and self.divs: self.divs.pop()
        elif re.fullmatch('h[1-6]', tag) and self.heading is not None:
            self.headings.append(norm(''.join(self.heading)))
            self.heading = None
    def handle_data(self, d):
        if self.skip: return
        self.text.append(d)
        if self.heading is not None: self.heading.append(d)

def md_text(md):
    "The text a markdown string shows once nbconvert renders it."
    from nbconvert.filters import markdown2html_mistune
    return Page(markdown2html_mistune(md)).text

def options(src):
    "Quarto cell options (`#| key: value` lines at the top) and the source without them."
    lines, opts = src.splitlines(), {}
    while lines and lines[0].startswith('#|'):
        k, _, v = lines.pop(0)[2:].partition(':')
        opts[k.strip()] = v.strip()
    return opts, '\n'.join(lines)

def frontmatter(src):
    lines = src.strip().splitlines()
    if len(lines) >= 2 and lines[0] == '---' and lines[-1] == '---': return yaml.safe_load('\n'.join(lines[1:-1])) or {}

def quarto_view(nb):
    "The notebook as Quarto shows it, for nbconvert: frontmatter to a title block, cell options applied."
    nb, cells, fm = copy.deepcopy(nb), [], {}
    for c in nb.cells:
        if c.cell_type == 'raw' and frontmatter(c.source) is not None and not fm:
            fm = frontmatter(c.source)
            c = nbformat.v4.new_markdown_cell(f"# {fm.get('title', '')}\n\n{fm.get('description', '')}")
        elif c.cell_type == 'code':
            opts, c.source = options(c.source)
            if opts.get('include') == 'false': continue
            if opts.get('echo') == 'false': c.metadata['transient'] = {'remove_source': True}
            if opts.get('output') == 'false': c.outputs, c.metadata['no_output'] = [], True
        cells.append(c)
    nb.cells = cells
    return nb, fm

def shown(c): return not c.metadata.get('transient', {}).get('remove_source')

def errors(nb):
    "(cell index, what) for each error output in `nb`."
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []):
            if o.output_type == 'error': yield i, f"error output {o.get('ename')}: {snip(o.get('evalue', ''))}"
            elif o.output_type == 'stream' and o.name == 'stderr' and (m := TRACEBACK.search(o.text)):
                yield i, f'traceback on stderr: {snip(o.text[m.start():])}'
            text = o.get('text', '') + ''.join(v for k, v in o.get('data', {}).items() if k.startswith('text/'))
            if m := MACHINE_PATH.search(text):
                yield i, f'machine path in a saved output: {snip(text[max(0, m.start() - 20):])}'

def exported(lib):
    """{notebook path (relative to the repo): [(module, name, has a docstring), ...]}: each module's __all__, by
    exporting notebook."""
    res = {}
    for py in sorted(lib.glob('*.py')):
        if py.name.startswith('_'): continue
        src = py.read_text()
        m = re.search(r'File to edit: (\S+?\.ipynb)', src)
        if not m: continue
        tree, names, defs = ast.parse(src), [], {}
        cells = [(i, c.group(1)) for i, line in enumerate(src.splitlines(), 1) if (c := CELL.match(line))]
        for n in tree.body:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                # the notebook of the cell it is in: a module's cells can come from several notebooks
                cell_nb = max(((i, f) for i, f in cells if i < n.lineno), default=(0, m.group(1)))[1]
                defs[n.name] = (bool(ast.get_docstring(n)), cell_nb)
            elif isinstance(n, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in n.targets):
                names = ast.literal_eval(n.value)
        for o in names:
            if o not in defs: continue
            nb = (py.parent / defs[o][1]).resolve().relative_to(ROOT)
            res.setdefault(str(nb), []).append((py.name, o, defs[o][0]))
    return res

def check_show_doc(nb, page, mod, name, doc):
    "The problem with `name`'s show_doc in `nb`, or None."
    # show_doc would show one inherited from Python: 'Call self as a function.'
    if not doc: return f'{mod}: {name} has no docstring'
    for c in nb.cells:
        if c.cell_type != 'code' or not re.search(rf'\bshow_doc\(\s*{re.escape(name)}\s*[,)]', c.source): continue
        md = ''.join(o.get('data', {}).get('text/markdown', '') for o in c.outputs)
        if not re.search(rf'^#+ {re.escape(name)}\s*$', md, re.M): continue
        sig = re.search(r'```\w*\n(.*?)```', md, re.S)
        if not sig or f'{name}(' not in sig.group(1).replace(' ', ''):
            return f'{mod}: the show_doc of {name} has no signature'
        if not norm(re.sub(r'\[source\]\(.*?\)\{.*?\}|^#+ .*$|---', '', md[sig.end():], flags=re.M)):
            return f'{mod}: {name} has no docstring'
        if norm(sig.group(1)) not in page.text: return f'{mod}: the signature of {name} is not on the page'
        return
    return f'{mod}: exported {name} has no show_doc (signature and docstring) in the processed notebook'

def check_sidebar(nbs, notebooks):
    probs, side = [], yaml.safe_load((nbs / 'sidebar.yml').read_text())
    def walk(items):
        for it in items:
            if isinstance(it, str): yield None, it
            elif 'contents' in it: yield from walk(it['contents'])
            else: yield it.get('text'), it.get('href')
    entries = list(walk(side['website']['sidebar']['contents']))
    hrefs = [h for _, h in entries]
    probs += [f'nbs/sidebar.yml: {h} has no title (text:)' for t, h in entries if not t]
    probs += [f'nbs/sidebar.yml: {h} does not exist in nbs/' for h in hrefs if not (nbs / h).exists()]
    probs += [f'nbs/sidebar.yml: {n} is not listed' for n in notebooks if n not in hrefs]
    chapters = [h for h in hrefs if h != 'index.ipynb']
    if hrefs[:1] != ['index.ipynb'] or chapters != sorted(chapters):
        probs.append(f'nbs/sidebar.yml: not index then the chapters in order: {hrefs}')
    if 'sidebar.yml' not in yaml.safe_load((nbs / '_quarto.yml').read_text()).get('metadata-files', []):
        probs.append('nbs/_quarto.yml: metadata-files does not include sidebar.yml')
    return probs

def check_page(rel, src_nb, proc_nb, exports, out):
    "Render one processed notebook into `out`; return its summary line, its problems, the Page and the HTML file."
    from nbconvert import HTMLExporter
    probs = [f'{rel}: cell {i} of the source: {e}' for i, e in errors(src_nb)]
    probs += [f'{rel}: cell {i} of the processed notebook: {e}' for i, e in errors(proc_nb)]
    view, fm = quarto_view(proc_nb)
    if not fm.get('title'):
        probs.append(f'{rel}: no title (the first markdown cell should be `# Title` then `> summary`)')
    body, _ = HTMLExporter().from_notebook_node(view, resources={'metadata': {'name': fm.get('title', rel)}})
    dest = out / fm.get('output-file', Path(rel).with_suffix('.html').name)
    dest.write_text(body)
    page = Page(body)
    def need(text, what, i):
        t = norm(text)
        if t and t not in page.text: probs.append(f'{rel}: cell {i}: {what} not on the page: {snip(t)}')
    imgs, n_code = [], 0
    for i, c in enumerate(view.cells):
        if c.cell_type == 'markdown':
            need(md_text(c.source), 'markdown text', i)
            code = False
            for line in c.source.splitlines():  # every heading's text, among the page's headings
                if line.lstrip().startswith(('```', '~~~')): code = not code
                elif not code and re.match(r'#{1,6} ', line) and md_text(line) not in page.headings:
                    probs.append(f'{rel}: cell {i}: heading not on the page: {snip(line)}')
        if c.cell_type != 'code': continue
        if shown(c):
            n_code += 1
            need(c.source, 'code', i)
        cell_imgs = 0
        for o in c.outputs:
            if o.output_type == 'stream': need(o.text, f'{o.name} output', i)
            if o.output_type not in ('execute_result', 'display_data'): continue
            mime = next((m for m in PRIORITY if m in o.data), None)
            if mime in IMAGES:
                data = re.sub(r'\s', '', o.data[mime])
                raw = base64.b64decode(data)
                if not raw.startswith((b'\x89PNG\r\n\x1a\n', b'\xff\xd8')):
                    probs.append(f'{rel}: cell {i}: image output is not a valid {mime}')
                imgs.append(data)
                cell_imgs += 1
            elif mime == 'text/markdown': need(md_text(o.data[mime]), 'markdown output', i)
            elif mime == 'text/html': need(Page(o.data[mime]).text, 'HTML output', i)
            elif mime: need(o.data[mime], f'{mime} output', i)
        if shown(c) and not c.metadata.get('no_output') and PLOT.search(c.source) and not cell_imgs:
            probs.append(f'{rel}: cell {i} draws ({PLOT.search(c.source).group(0)}) but has no saved image '
                         f'(was it run?): {snip(c.source)}')
    html_imgs = [re.sub(r'\s', '', s.split(',', 1)[1]) for s in page.out_imgs if s.startswith('data:image/')]
    if len(html_imgs) != len(page.out_imgs):
        probs.append(f'{rel}: {len(page.out_imgs) - len(html_imgs)} output images without data on the page')
    if sorted(html_imgs) != sorted(imgs):
        probs.append(f'{rel}: {len(imgs)} image outputs in the notebook but {len(html_imgs)} on the page'
                     + ('' if len(imgs) != len(html_imgs) else ' (with other data)'))
    sds = [check_show_doc(proc_nb, page, *e) for e in exports]
    probs += [f'{rel}: {p}' for p in sds if p]
    line = (f'{rel:24} {len(proc_nb.cells):3} cells ({n_code} code shown), {len(imgs)} images, '
            f'{len(exports)} show_docs, {len(body):9,} bytes -> {dest.name}')
    return line, probs, page, dest

class PandocText(html.parser.HTMLParser):
    "The text of pandoc's HTML outside code and math, and the cell mark (a `<p>CELL n</p>`) each piece follows."
    def __init__(self, src):
        super().__init__()
        self.skip, self.cell, self.pieces = 0, 0, []
        self.feed(src)
    def handle_starttag(self, tag, attrs):
        if tag in ('code', 'pre') or 'math' in (dict(attrs).get('class') or '').split() or self.skip: self.skip += 1
    def handle_endtag(self, tag):
        if self.skip: self.skip -= 1
    def handle_data(self, d):
        if m := re.fullmatch(r'\s*KNBCELL(\d+)\s*', d): self.cell = int(m.group(1))
        elif not self.skip: self.pieces.append((self.cell, d))

LITERAL = re.compile(r'\$|\\[A-Za-z]+|\*\*|__')   # what rendered markdown never shows: TeX, bold markers

def check_math(rel, proc_nb):
    "Problems of `rel`'s markdown as pandoc renders it: TeX or emphasis markers left as literal text."
    cells = [(i, c.source) for i, c in enumerate(proc_nb.cells) if c.cell_type == 'markdown']
    md = '\n\n'.join(f'KNBCELL{i}\n\n{src}' for i, src in cells)
    try: r = subprocess.run(['pandoc', '-f', 'markdown-raw_tex-raw_html', '-t', 'html', '--mathjax'], input=md,
                            capture_output=True, text=True, timeout=120)
    except FileNotFoundError: return [f'{rel}: pandoc is not installed (apt-get install -y pandoc): math not checked']
    if r.returncode: return [f'{rel}: pandoc failed: {r.stderr.strip()}']
    return [f'{rel}: cell {i}: markup shown as text by pandoc ({m.group(0)!r}): {snip(d[max(0, m.start() - 30):])}'
            for i, d in PandocText(r.stdout).pieces if (m := LITERAL.search(d))]

def screenshot(page_html, at, png, size=(1280, 1600)):
    """Screenshot `page_html` from the cell with heading id `at` on, in headless Chromium, into `png`; return the
    problems. Headless Chromium's screenshots of a URL with a #fragment come out blank, so a copy of the page that
    starts there is shot."""
    exe = next((shutil.which(b) for b in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(b)), None)
    if not exe:
        print('screenshot SKIPPED: no chromium on PATH (Debian: apt-get install -y chromium)')
        return []
    import matplotlib.image, numpy as np
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    src, shot = page_html.read_text(), page_html.with_name('screenshot-' + page_html.name)
    i = src.find(f'id="{at}"') if at else -1
    cell, main = src.rfind('<div class="jp-Cell ', 0, i), src.find('<main>') + len('<main>')
    shot.write_text(src[:main] + src[cell:] if at and 0 < main <= cell else src)
    with tempfile.TemporaryDirectory() as prof:
        cmd = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
               f'--user-data-dir={prof}', f'--screenshot={png}', f'--window-size={size[0]},{size[1]}',
               shot.resolve().as_uri()]
        t = time.time()
        try: r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired: return [f'screenshot: chromium did not finish in 120 s: {" ".join(cmd)}']
    if not png.exists(): return [f'screenshot: chromium wrote no PNG (exit {r.returncode}): {r.stderr[-500:]}']
    img = matplotlib.image.imread(png)[..., :3]
    ink = (img < 0.9).any(-1).mean()  # the share of pixels that are not (nearly) white
    # distinct colours, 8 levels a channel
    colours = len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3) // 32, axis=0))
    print(f'screenshot: {png} {img.shape[1]}x{img.shape[0]}, {ink:.1%} not white, {colours} colours, '
          f'{time.time() - t:.1f} s ({page_html.name}' + (f' from #{at})' if at else ')'))
    probs = []
    if img.shape[:2] != size[::-1]: probs.append(f'screenshot: {img.shape[1]}x{img.shape[0]}, not {size[0]}x{size[1]}')
    if ink < 0.03: probs.append(f'screenshot: the page is blank ({ink:.1%} of it is not white)')
    if colours < 8: probs.append(f'screenshot: only {colours} distinct colours: no text, code and plots')
    return probs

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', help='keep the rendered pages in this folder (default: a temporary one, removed)')
    ap.add_argument('--screenshot', action='store_true', help='slow: also screenshot one page in headless Chromium')
    ap.add_argument('--page', default='02_init', help='the notebook to screenshot (default 02_init)')
    ap.add_argument('--png', help='where to write the screenshot (default: <temp dir>/kaiming_nb_docs/<page>.png)')
    args = ap.parse_args()
    os.chdir(ROOT)
    from nbdev.config import get_config
    import nbdev.quarto
    cfg, t0 = get_config(), time.time()
    nbs = cfg.nbs_path.relative_to(ROOT)
    notebooks = sorted(str(p.relative_to(nbs)) for p in nbs.rglob('*.ipynb')
                       if not any(s.startswith(('_', '.')) for s in p.relative_to(nbs).parts))
    probs = check_sidebar(nbs, notebooks)

    # Without Quarto, nbdev_proc_nbs first tries to install it with sudo, then runs `pip install -e .[dev]`. Processing
    # needs neither (only nbdev_docs runs Quarto, in deploy.yaml), so that step is skipped; the rest is nbdev_proc_nbs.
    # A fresh _proc/, as on a clone; not `force=True`, which nbdev also passes to nbdev_sidebar, overwriting
    # sidebar.yml.
    nbdev.quarto._ensure_quarto = lambda: None
    proc = ROOT / '_proc'
    shutil.rmtree(proc, ignore_errors=True)
    try: nbdev.quarto.nbdev_proc_nbs.__wrapped__()
    except Exception as e:
        print(f'docs check FAILED: nbdev_proc_nbs failed: {type(e).__name__}: {e}')
        sys.exit(1)
    t1 = time.time()
    print(f'nbdev_proc_nbs: {len(notebooks)} notebooks into {proc.relative_to(ROOT)}/ in {t1 - t0:.1f} s')

    exports, n_sd = exported(cfg.lib_path), 0
    for nb in exports:
        if not Path(nb).exists():
            probs += [f'{m}: made from {nb}, which does not exist' for m in sorted({e[0] for e in exports[nb]})]
    tmp = tempfile.TemporaryDirectory()
    out = Path(args.out) if args.out else Path(tmp.name)
    out.mkdir(parents=True, exist_ok=True)
    pages = {}
    for rel in notebooks:
        pnb, snb = proc / rel, nbs / rel
        if not pnb.exists():
            probs.append(f'{nbs / rel}: nbdev_proc_nbs made no {pnb.relative_to(ROOT)}')
            continue
        try:
            ex = exports.get(str(snb), [])
            line, p, page, dest = check_page(str(snb), nbformat.read(snb, as_version=4),
                                             nbformat.read(pnb, as_version=4), ex, out)
        except Exception as e:
            probs.append(f'{snb}: could not be rendered: {type(e).__name__}: {e}')
            continue
        pages[rel] = page, dest
        n_sd += len(ex)
        p += check_math(str(snb), nbformat.read(pnb, as_version=4))
        print(line + ('' if not p else f'  [{len(p)} problems]'))
        probs += p
    t2 = time.time()
    print(f'rendered and checked {len(pages)} pages ({n_sd} show_docs) in {t2 - t1:.1f} s'
          + (f', kept in {out}' if args.out else ''))

    if args.screenshot:
        page = args.page if args.page.endswith('.ipynb') else args.page + '.ipynb'
        if page not in pages: probs.append(f'screenshot: no rendered page {page} (pages: {", ".join(pages)})')
        else:
            png = (Path(args.png) if args.png
                   else Path(tempfile.gettempdir()) / 'kaiming_nb_docs' / f'{Path(page).stem}.png')
            probs += screenshot(pages[page][1], pages[page][0].first_plot_at, png.resolve())
    tmp.cleanup()
    if probs:
        print(f'docs check FAILED, {len(probs)} problems:')
        print('\n'.join(f'  {p}' for p in probs))
        sys.exit(1)
    print(f'docs check passed: {len(pages)} pages in {time.time() - t0:.1f} s')

if __name__ == '__main__': main()
