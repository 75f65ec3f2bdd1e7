// Shared pieces of the bpf-ide panels (plain browser JS, no bundler). Everything from the target is
// untrusted: it is put into the page with textContent / createTextNode only, never as HTML.
/* global acquireVsCodeApi */
(function () {
  'use strict';
  const vscode = acquireVsCodeApi();

  /** Creates an element: props are set as properties (never innerHTML), children are nodes or text. */
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'text') e.textContent = String(v);
      else if (k in e) e[k] = v;
      else e.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /**
   * A virtualized table: only the visible rows exist in the DOM. `source.rowsAt(start, count)` returns
   * the rows it holds for that range (or null while they are being fetched) and `source.total()` the row
   * count; `onViewport(start, count)` is called when the visible range changes.
   */
  class VirtualTable {
    constructor(parent, opts) {
      this.opts = opts;
      this.rowHeight = opts.rowHeight || 22;
      this.columns = [];
      this.sort = opts.sort || null;
      this.selected = null;
      this.header = el('div', { class: 'vt-header', role: 'row' });
      this.scroller = el('div', { class: 'vt-scroller', tabIndex: 0 });
      this.spacer = el('div', { class: 'vt-spacer' });
      this.body = el('div', { class: 'vt-body', role: 'rowgroup' });
      this.spacer.appendChild(this.body);
      this.scroller.appendChild(this.spacer);
      this.root = el('div', { class: 'vt', role: 'table' }, this.header, this.scroller);
      parent.appendChild(this.root);
      this.lastRange = '';
      this.scroller.addEventListener('scroll', () => this.schedule());
      new ResizeObserver(() => this.schedule()).observe(this.scroller);
      this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    }
    setColumns(cols) {
      this.columns = cols;
      clear(this.header);
      cols.forEach((c, i) => {
        const mark = this.sort && this.sort.column === c.id ? (this.sort.descending ? ' ▼' : ' ▲') : '';
        const cell = el('div', { class: 'vt-cell vt-head', role: 'columnheader', title: this.opts.onSort ? 'Sort by ' + c.label : c.label, text: c.label + mark });
        cell.style.flex = i === cols.length - 1 ? '2 1 0' : '1 1 0';
        if (this.opts.onSort) cell.addEventListener('click', () => this.toggleSort(c.id));
        this.header.appendChild(cell);
      });
      this.render();
    }
    toggleSort(id) {
      if (!this.sort || this.sort.column !== id) this.sort = { column: id, descending: false };
      else if (!this.sort.descending) this.sort = { column: id, descending: true };
      else this.sort = null;
      this.setColumns(this.columns);
      this.opts.onSort(this.sort);
    }
    visibleRange() {
      const first = Math.floor(this.scroller.scrollTop / this.rowHeight);
      const count = Math.ceil((this.scroller.clientHeight || 400) / this.rowHeight) + 1;
      return { first, count };
    }
    schedule() {
      if (this.pending) return;
      this.pending = requestAnimationFrame(() => {
        this.pending = 0;
        this.render();
      });
    }
    render() {
      const total = this.opts.source.total();
      // browsers cap element heights (~33M px): past that, rows are addressed by fraction
      this.spacer.style.height = Math.min(total * this.rowHeight, 15000000) + 'px';
      const scale = total * this.rowHeight > 15000000 ? (total * this.rowHeight) / 15000000 : 1;
      const r = this.visibleRange();
      const first = Math.min(Math.max(0, total - 1), Math.floor(r.first * scale));
      const key = first + ':' + r.count + ':' + total;
      if (key !== this.lastRange && this.opts.onViewport) this.opts.onViewport(Math.max(0, first - 20), r.count + 40);
      this.lastRange = key;
      const rows = this.opts.source.rowsAt(first, r.count) || [];
      clear(this.body);
      this.body.style.transform = 'translateY(' + Math.floor(this.scroller.scrollTop) + 'px)';
      rows.forEach((row, i) => {
        const cls = 'vt-row' + (row.changed ? ' changed' : '') + (row.id === this.selected ? ' selected' : '') + ((first + i) % 2 ? ' odd' : '');
        const line = el('div', { class: cls, role: 'row', dataset: { index: String(first + i) } });
        line.style.height = this.rowHeight + 'px';
        row.cells.forEach((text, ci) => {
          const c = el('div', { class: 'vt-cell', role: 'cell', title: text, text });
          c.style.flex = ci === row.cells.length - 1 ? '2 1 0' : '1 1 0';
          line.appendChild(c);
        });
        line.addEventListener('click', () => {
          this.selected = row.id;
          if (this.opts.onSelect) this.opts.onSelect(row, first + i);
          this.render();
        });
        this.body.appendChild(line);
      });
      if (this.opts.onRendered) this.opts.onRendered(first, rows.length, total);
    }
    scrollToIndex(i) {
      const total = this.opts.source.total();
      const scale = total * this.rowHeight > 15000000 ? (total * this.rowHeight) / 15000000 : 1;
      this.scroller.scrollTop = Math.max(0, (i / scale) * this.rowHeight - this.scroller.clientHeight / 3);
      this.render();
    }
    scrollToEnd() {
      this.scroller.scrollTop = this.scroller.scrollHeight;
    }
    atEnd() {
      return this.scroller.scrollTop + this.scroller.clientHeight >= this.scroller.scrollHeight - this.rowHeight * 2;
    }
    onKey(e) {
      const page = Math.max(1, this.visibleRange().count - 2) * this.rowHeight;
      if (e.key === 'PageDown') this.scroller.scrollTop += page;
      else if (e.key === 'PageUp') this.scroller.scrollTop -= page;
      else if (e.key === 'Home') this.scroller.scrollTop = 0;
      else if (e.key === 'End') this.scroller.scrollTop = this.scroller.scrollHeight;
      else return;
      e.preventDefault();
    }
  }

  /** Horizontal bars (a log2 histogram): widths set through the CSSOM, labels as text. */
  function barChart(parent, h) {
    const max = Math.max(1, ...h.buckets.map((b) => b.count));
    const box = el('div', { class: 'hist' }, el('div', { class: 'hist-title', text: (h.label ? h.label + '  ' : '') + (h.unit ? h.unit + ' ' : '') + '(total ' + h.total + ')' }));
    for (const b of h.buckets) {
      const bar = el('div', { class: 'hist-bar' });
      bar.style.width = (100 * b.count) / max + '%';
      box.appendChild(el('div', { class: 'hist-row' }, el('span', { class: 'hist-label', text: b.label }), el('span', { class: 'hist-count', text: String(b.count) }), el('div', { class: 'hist-track' }, bar)));
    }
    parent.appendChild(box);
  }

  /** A small line chart on a canvas, in the theme's chart colour. */
  function sparkline(canvas, values, opts) {
    const ctx = canvas.getContext('2d');
    const w = (canvas.width = canvas.clientWidth * devicePixelRatio || 200);
    const h = (canvas.height = canvas.clientHeight * devicePixelRatio || 40);
    ctx.clearRect(0, 0, w, h);
    if (!values || values.length < 2) return;
    const style = getComputedStyle(document.body);
    ctx.strokeStyle = style.getPropertyValue((opts && opts.color) || '--vscode-charts-blue').trim() || '#3794ff';
    ctx.lineWidth = devicePixelRatio;
    const max = Math.max(...values);
    const min = Math.min(0, ...values);
    const span = max - min || 1;
    ctx.beginPath();
    values.forEach((v, i) => {
      const x = (i / (values.length - 1)) * (w - 2) + 1;
      const y = h - 1 - ((v - min) / span) * (h - 2);
      if (i) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
    });
    ctx.stroke();
  }

  function button(text, title, onclick) {
    return el('button', { class: 'btn', title: title || text, text, onclick });
  }

  function saveState(patch) {
    vscode.setState(Object.assign({}, vscode.getState() || {}, patch));
  }

  /**
   * A streaming table (ring buffer records, trace lines): rows are kept here, bounded; the view follows
   * the newest rows unless the user scrolled up. Rate, drops and counts come with every batch.
   */
  function streamPanel(opts) {
    const app = document.getElementById('app');
    const saved = vscode.getState() || {};
    let ui = { paused: false, filter: '', follow: true, ...saved };
    const max = opts.history || 10000;
    let rows = [];
    let seq = 0;
    const title = el('h2', { class: 'title', text: opts.title });
    const counters = el('div', {
      class: 'counters',
      role: 'status',
      title: 'Rate at the source. The agent forwards at most bpfIde.panels.maxEventRate events a second (0: no limit) and counts the rest as skipped; received = shown + not shown + filtered out + while paused.',
    });
    const note = el('div', { class: 'note' });
    const pauseBtn = button(ui.paused ? 'Resume' : 'Pause', 'Pause or resume the view (events are still counted and kept)', () => {
      ui.paused = !ui.paused;
      pauseBtn.textContent = ui.paused ? 'Resume' : 'Pause';
      saveState(ui);
      vscode.postMessage({ type: 'pause', paused: ui.paused });
    });
    const filter = el('input', { type: 'search', class: 'filter', placeholder: opts.filterHint || 'Filter', value: ui.filter || '' });
    let ft = 0;
    filter.addEventListener('input', () => {
      clearTimeout(ft);
      ft = setTimeout(() => {
        ui.filter = filter.value;
        saveState(ui);
        vscode.postMessage({ type: 'filter', text: filter.value });
      }, 200);
    });
    const follow = el('input', { type: 'checkbox', checked: ui.follow !== false, onchange: () => {
      ui.follow = follow.checked;
      saveState(ui);
      vscode.postMessage({ type: 'follow', on: follow.checked });
    } });
    const typeSel = el('select', { title: 'Decode records as', onchange: () => vscode.postMessage({ type: 'record-type', name: typeSel.value || null }) });
    const typeLabel = el('label', { hidden: true }, 'decode as ', typeSel);
    const toolbar = el('div', { class: 'toolbar' }, pauseBtn, typeLabel, filter, el('label', {}, follow, ' follow'),
      button('Clear', 'Forget the history', () => { rows = []; vscode.postMessage({ type: 'clear' }); table.render(); }),
      button('CSV', 'Export the history as CSV', () => vscode.postMessage({ type: 'export', format: 'csv' })),
      button('JSON', 'Export the history as JSON', () => vscode.postMessage({ type: 'export', format: 'json' })));
    const tableBox = el('div', { class: 'table-box' });
    app.append(el('div', { class: 'head' }, title, counters), toolbar, note, tableBox);
    const table = new VirtualTable(tableBox, {
      source: { total: () => rows.length, rowsAt: (s, c) => rows.slice(s, s + c) },
    });
    let stats = null;
    let frame = 0;
    let initSeen = false;
    let askedAt = Date.now();
    let resetSeen = false;
    const n = (v) => String(v || 0);
    function draw() {
      frame = 0;
      if (rows.length > max) rows = rows.slice(rows.length - max);
      const s = stats;
      if (s) {
        // every event is accounted for: received = shown + coalesced + filtered + while paused (+ pending)
        const parts = [
          s.rate + ' /s',
          n(s.received) + ' received',
          s.skipped || s.maxRate ? n(s.skipped) + ' skipped by the agent' + (s.maxRate ? ' (limit ' + s.maxRate + '/s)' : '') : null,
          n(s.shown) + ' shown',
          'not shown (coalesced) ' + n(s.coalesced),
          s.filtered ? 'filtered out ' + n(s.filtered) : null,
          s.whilePaused ? 'while paused ' + n(s.whilePaused) : null,
          'agent dropped ' + n(s.agentDropped),
          s.lost !== undefined ? 'lost ' + s.lost : null,
          s.programDropped !== undefined ? 'program drops ' + s.programDropped : null,
          'left history ' + n(s.evicted),
        ].filter(Boolean);
        counters.textContent = parts.join(' · ') + (s.paused ? ' · paused' : '');
        for (const k of ['rate', 'received', 'skipped', 'maxRate', 'shown', 'coalesced', 'filtered', 'whilePaused', 'pending', 'agentDropped', 'evicted']) counters.dataset[k] = n(s[k]);
        counters.className = 'counters' + (s.agentDropped || s.lost || s.programDropped ? ' warn' : '');
      }
      const stick = ui.follow !== false && (table.atEnd() || resetSeen);
      resetSeen = false;
      table.render();
      if (stick) table.scrollToEnd();
    }
    window.addEventListener('message', (ev) => {
      const m = ev.data;
      if (m.type === 'stream-init') {
        initSeen = true;
        title.textContent = m.title;
        table.setColumns(m.columns);
        if (m.choices) {
          typeLabel.hidden = false;
          clear(typeSel);
          for (const t of m.choices.types) typeSel.appendChild(el('option', { value: t, text: t }));
          typeSel.appendChild(el('option', { value: '', text: 'raw bytes (hex)' }));
          typeSel.value = m.choices.current || '';
        }
      } else if (m.type === 'stream-batch') {
        // rows before the columns: our 'ready' (or the answer to it) was lost while the page loaded; ask again
        if (!initSeen && Date.now() - askedAt > 1000) {
          askedAt = Date.now();
          vscode.postMessage({ type: 'ready', state: ui });
        }
        // batches are cheap to take (an array push); the page is drawn once per frame, whatever arrives
        if (m.reset) rows = [];
        for (const cells of m.rows) rows.push({ id: String(++seq), cells });
        if (rows.length > 2 * max) rows = rows.slice(rows.length - max);
        stats = m.stats;
        resetSeen = resetSeen || m.reset;
        if (!frame) frame = requestAnimationFrame(draw);
      } else if (m.type === 'status') {
        note.textContent = m.text;
        note.className = 'note' + (m.error ? ' error' : '');
      }
    });
    vscode.postMessage({ type: 'ready', state: ui });
  }

  window.BpfPanels = { vscode, el, clear, VirtualTable, barChart, sparkline, button, saveState, streamPanel };
})();
