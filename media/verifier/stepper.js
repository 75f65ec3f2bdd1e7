// @ts-check
// The verifier stepper's webview. Plain JS, no libraries. Everything it shows comes from the extension
// by postMessage and is rendered with textContent: verifier logs are untrusted text.
(function () {
  'use strict';
  // acquireVsCodeApi is provided by VS Code to webviews
  const vscode = /** @type {any} */ (globalThis).acquireVsCodeApi();
  const ROW_H = 20;
  const WINDOW = 200; // rows fetched per request
  const CACHE_MAX = 20000;

  /** @type {{rowCount:number, verdict:string, error:any, branchRows:number[], title:string, filter:string, stats:any, truncated:boolean, instructions:number, lines:number}} */
  let info = {
    rowCount: 0,
    verdict: 'unknown',
    error: null,
    branchRows: [],
    title: '',
    filter: 'all',
    stats: {},
    truncated: false,
    instructions: 0,
    lines: 0,
  };
  /** @type {Map<number, {row:number,line:number,kind:string,insn:number,frame:number,text:string}>} */
  const cache = new Map();
  const pending = new Set();
  let selected = -1;
  /** @type {number[]} */
  let hits = [];
  let hitIdx = -1;

  /** element helper: tag, class, text (always textContent) */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // ---- layout (fixed markup; no data in HTML) ----
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  const header = el('header', 'bar');
  const title = el('span', 'title');
  const verdict = el('span', 'verdict');
  const stats = el('span', 'stats');
  const filter = /** @type {HTMLSelectElement} */ (el('select', 'filter'));
  for (const [v, label] of [
    ['all', 'All lines'],
    ['no-debug', 'Hide debug lines'],
    ['insns', 'Instructions only'],
  ]) {
    const o = /** @type {HTMLOptionElement} */ (el('option', '', label));
    o.value = v;
    filter.appendChild(o);
  }
  filter.title = 'Which log lines to list';
  const search = /** @type {HTMLInputElement} */ (el('input', 'search'));
  search.type = 'search';
  search.placeholder = 'Search (/)';
  const regex = /** @type {HTMLInputElement} */ (el('input', ''));
  regex.type = 'checkbox';
  regex.title = 'Regular expression';
  const regexLabel = el('label', 'regex', '.*');
  regexLabel.prepend(regex);
  const hitInfo = el('span', 'hits');
  const btn = (label, tip, fn) => {
    const b = el('button', '', label);
    b.title = tip;
    b.addEventListener('click', fn);
    return b;
  };
  const nav = el('span', 'nav');
  nav.append(
    btn('↑ insn', 'Previous instruction (p)', () => stepInsn(-1)),
    btn('↓ insn', 'Next instruction (n)', () => stepInsn(1)),
    btn('⚠ error', 'Jump to the error (e)', () => jumpError()),
    btn('◀ branch', 'Previous branch state (B)', () => stepBranch(-1)),
    btn('branch ▶', 'Next branch state (b)', () => stepBranch(1)),
    btn(
      'source ↗',
      'Show the source line (Enter)',
      () => selected >= 0 && vscode.postMessage({ type: 'openSource', row: selected }),
    ),
  );
  header.append(title, verdict, stats, filter, search, regexLabel, hitInfo, nav);

  const errorBox = el('section', 'error hidden');
  const main = el('div', 'main');
  const list = el('div', 'list');
  list.tabIndex = 0;
  const spacer = el('div', 'spacer');
  const rowsLayer = el('div', 'rows');
  spacer.appendChild(rowsLayer);
  list.appendChild(spacer);
  const side = el('aside', 'side');
  const where = el('div', 'where');
  const srcText = el('pre', 'srctext');
  const regsTitle = el('h3', '', 'Registers and stack');
  const regsHelp = el('div', 'help', 'Changed values are highlighted. Click a name to follow its value back.');
  const regs = el('table', 'regs');
  const chainTitle = el('h3', 'hidden');
  const chain = el('ol', 'chain');
  side.append(where, srcText, regsTitle, regsHelp, regs, chainTitle, chain);
  main.append(list, side);
  const footer = el(
    'footer',
    'help',
    'Keys: ↑/↓ or k/j line · n/p instruction · e error · b/B branch · Enter source · / search · F3 next hit · Home/End',
  );
  app.append(header, errorBox, main, footer);

  // ---- rendering ----
  function render() {
    spacer.style.height = `${info.rowCount * ROW_H}px`;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW_H) - 20);
    const last = Math.min(info.rowCount, Math.ceil((list.scrollTop + list.clientHeight) / ROW_H) + 20);
    rowsLayer.style.transform = `translateY(${first * ROW_H}px)`;
    rowsLayer.replaceChildren();
    let missing = -1;
    for (let r = first; r < last; r++) {
      const d = cache.get(r);
      const div = el('div', 'row');
      div.dataset.row = String(r);
      if (!d) {
        if (missing < 0) missing = r;
        div.classList.add('loading');
        div.textContent = '…';
      } else {
        div.classList.add(`k-${d.kind}`);
        if (d.frame) div.classList.add('callee');
        const text = d.text;
        if (d.kind === 'insn') {
          const semi = text.indexOf('; ', text.indexOf(') '));
          div.appendChild(el('span', 'code', semi > 0 ? text.slice(0, semi) : text));
          if (semi > 0) div.appendChild(el('span', 'delta', text.slice(semi)));
        } else div.textContent = text;
      }
      if (r === selected) div.classList.add('selected');
      if (info.error && r === info.error.row) div.classList.add('failing');
      rowsLayer.appendChild(div);
    }
    if (missing >= 0) request(missing);
  }

  function request(row) {
    const start = Math.max(0, row - (row % WINDOW));
    if (pending.has(start)) return;
    pending.add(start);
    vscode.postMessage({ type: 'rows', start, count: WINDOW });
  }

  function select(row, reveal) {
    if (info.rowCount === 0) return;
    row = Math.max(0, Math.min(info.rowCount - 1, row));
    selected = row;
    const top = row * ROW_H;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW_H > list.scrollTop + list.clientHeight) list.scrollTop = top - list.clientHeight + ROW_H;
    render();
    vscode.postMessage({ type: 'select', row, reveal: reveal !== false });
    // the selected row comes back after a reload (row numbers are those of the unfiltered list)
    const saved = vscode.getState();
    if (saved) vscode.setState(Object.assign({}, saved, { row: filter.value === 'all' ? row : undefined }));
  }

  function findRow(from, dir, pred) {
    for (let r = from + dir; r >= 0 && r < info.rowCount; r += dir) {
      const d = cache.get(r);
      if (!d) return -1;
      if (pred(d)) return r;
    }
    return -1;
  }

  function stepInsn(dir) {
    const r = findRow(selected < 0 ? (dir > 0 ? -1 : info.rowCount) : selected, dir, (d) => d.kind === 'insn');
    if (r >= 0) select(r);
    else if (selected >= 0) {
      // rows not loaded yet: move one row and let the fetch catch up
      select(selected + dir);
    }
  }

  function stepBranch(dir) {
    const b = info.branchRows;
    if (!b.length) return;
    let next;
    if (dir > 0) next = b.find((r) => r > selected);
    else next = [...b].reverse().find((r) => r < selected);
    if (next !== undefined) select(next);
  }

  function jumpError() {
    if (info.error && info.error.row >= 0) select(info.error.row);
  }

  function showInit(m) {
    info = m;
    cache.clear();
    pending.clear();
    selected = -1;
    hits = [];
    hitIdx = -1;
    hitInfo.textContent = '';
    title.textContent = m.title;
    filter.value = m.filter;
    verdict.textContent = m.verdict + (m.truncated ? ' (truncated log)' : '');
    verdict.className = `verdict v-${m.verdict}`;
    const s = m.stats || {};
    const parts = [];
    if (s.processedInsns !== null && s.processedInsns !== undefined) parts.push(`${s.processedInsns} insns processed`);
    if (s.peakStates !== null && s.peakStates !== undefined) parts.push(`${s.peakStates} peak states`);
    if (s.verificationTimeUsec !== null && s.verificationTimeUsec !== undefined)
      parts.push(`${s.verificationTimeUsec} µs`);
    parts.push(`${m.instructions} instruction lines / ${m.lines} lines`);
    stats.textContent = parts.join(' · ');
    errorBox.replaceChildren();
    if (m.error) {
      errorBox.className = 'error';
      errorBox.append(el('div', 'msg', m.error.message));
      if (m.error.where) errorBox.append(el('div', 'at', `at ${m.error.where}`));
      if (m.error.title) errorBox.append(el('div', 'what', m.error.title));
      if (m.error.explanation) errorBox.append(el('div', 'why', m.error.explanation));
      if (m.error.fix) errorBox.append(el('div', 'fix', `Fix: ${m.error.fix}`));
    } else errorBox.className = 'error hidden';
    render();
    if (m.error && m.error.row >= 0) {
      request(m.error.row);
      setTimeout(() => select(m.error.row, false), 0);
    }
  }

  function showState(m) {
    if (m.row !== selected) return;
    where.textContent = m.source
      ? `${m.source} · insn ${m.insn} · frame ${m.frame}`
      : `insn ${m.insn >= 0 ? m.insn : '-'} · no source line`;
    srcText.textContent = m.sourceText || '';
    regs.replaceChildren();
    let lastFrame = -1;
    for (const r of m.regs) {
      if (r.frame !== lastFrame) {
        const tr = el('tr', 'frame');
        const th = el('th', '', `frame ${r.frame}${r.frame === m.frame ? ' (current)' : ''}`);
        th.colSpan = 3;
        tr.appendChild(th);
        regs.appendChild(tr);
        lastFrame = r.frame;
      }
      const tr = el('tr', r.changed ? 'changed' : '');
      const name = el('td', 'name');
      const a = el('a', '', r.name + (r.precise ? ' ·P' : ''));
      a.href = '#';
      a.title = `Follow ${r.name} back: which instructions produced this value`;
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        vscode.postMessage({ type: 'follow', row: selected, value: r.name });
      });
      name.appendChild(a);
      const value = el('td', 'value');
      value.append(el('div', 'raw', r.value), el('div', 'readable', r.readable));
      tr.append(name, el('td', `type t-${r.type}`, r.type), value);
      regs.appendChild(tr);
    }
  }

  function showChain(m) {
    chainTitle.className = '';
    chainTitle.textContent = m.steps.length
      ? `Where ${m.value} came from`
      : `${m.value}: no instruction before this one produced it on this path`;
    chain.replaceChildren();
    for (const s of m.steps) {
      const li = el('li', `role-${s.role}`);
      const a = el('a', '', `insn ${s.insn}: ${s.text}`);
      a.href = '#';
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        if (s.row >= 0) select(s.row);
      });
      li.append(a, el('span', 'role', ` ${s.value} · ${s.role}${s.where ? ` · ${s.where}` : ''}`));
      chain.appendChild(li);
    }
  }

  // ---- events ----
  list.addEventListener('scroll', () => render());
  window.addEventListener('resize', () => render());
  list.addEventListener('click', (ev) => {
    const t = /** @type {HTMLElement} */ (ev.target).closest('.row');
    if (t && t instanceof HTMLElement && t.dataset.row) select(Number(t.dataset.row));
  });
  filter.addEventListener('change', () => vscode.postMessage({ type: 'filter', filter: filter.value }));
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      if (hits.length && search.dataset.q === search.value) nextHit(ev.shiftKey ? -1 : 1);
      else vscode.postMessage({ type: 'search', query: search.value, regex: regex.checked });
      search.dataset.q = search.value;
    } else if (ev.key === 'Escape') list.focus();
  });
  function nextHit(dir) {
    if (!hits.length) return;
    hitIdx = (hitIdx + dir + hits.length) % hits.length;
    hitInfo.textContent = `${hitIdx + 1}/${hits.length}`;
    select(hits[hitIdx]);
  }
  document.addEventListener('keydown', (ev) => {
    if (ev.target === search) return;
    const page = Math.max(1, Math.floor(list.clientHeight / ROW_H) - 1);
    const keys = {
      ArrowDown: () => select(selected + 1),
      j: () => select(selected + 1),
      ArrowUp: () => select(selected - 1),
      k: () => select(selected - 1),
      PageDown: () => select(selected + page),
      PageUp: () => select(selected - page),
      Home: () => select(0),
      End: () => select(info.rowCount - 1),
      n: () => stepInsn(1),
      p: () => stepInsn(-1),
      e: () => jumpError(),
      b: () => stepBranch(1),
      B: () => stepBranch(-1),
      Enter: () => selected >= 0 && vscode.postMessage({ type: 'openSource', row: selected }),
      '/': () => search.focus(),
      F3: () => nextHit(ev.shiftKey ? -1 : 1),
    };
    const f = keys[ev.key];
    if (f) {
      ev.preventDefault();
      f();
    }
  });

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'init':
        showInit(m);
        break;
      case 'rows':
        pending.delete(m.start);
        for (const r of m.rows) cache.set(r.row, r);
        if (cache.size > CACHE_MAX) {
          // drop the rows furthest from the view
          const mid = Math.floor(list.scrollTop / ROW_H);
          const far = [...cache.keys()]
            .sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid))
            .slice(0, cache.size - CACHE_MAX / 2);
          for (const k of far) cache.delete(k);
        }
        render();
        break;
      case 'state':
        showState(m);
        break;
      case 'chain':
        showChain(m);
        break;
      case 'search':
        hits = m.rows;
        hitIdx = -1;
        hitInfo.textContent = m.error ? `bad pattern: ${m.error}` : `${hits.length}${m.truncated ? '+' : ''} hits`;
        if (hits.length) nextHit(1);
        break;
      case 'restore':
        // what brings this panel back after a window reload (the log's place, not the log itself)
        vscode.setState({ restore: m.restore, row: undefined });
        break;
      case 'reveal':
        if (typeof m.row === 'number' && m.row >= 0) {
          request(m.row);
          select(m.row, false);
        }
        break;
    }
  });

  vscode.postMessage({ type: 'ready' });
  list.focus();
})();
