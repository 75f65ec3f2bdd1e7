// The map panel: a virtualized live table of decoded entries, with sort, filter, search, edit,
// export, log2 histograms as bars and a counter plot. Rows arrive as text cells from the extension.
(function () {
  'use strict';
  const { vscode, el, clear, VirtualTable, barChart, sparkline, button, saveState } = window.BpfPanels;
  const app = document.getElementById('app');
  const saved = vscode.getState() || {};
  let ui = { intervalMs: 1000, paused: false, hex: false, filter: '', sort: null, ...saved };
  let win = { start: 0, total: 0, rows: [] };
  let columns = [];
  let selected = null;

  const title = el('h2', { class: 'title', text: 'map' });
  const metaLine = el('div', { class: 'meta' });
  const status = el('span', { class: 'status', role: 'status' });
  const note = el('div', { class: 'note' });
  const pauseBtn = button('Pause', 'Pause or resume the live refresh', () => setPaused(!ui.paused));
  const interval = el('select', { title: 'Refresh interval', onchange: () => send({ type: 'interval', ms: Number(interval.value) }, { intervalMs: Number(interval.value) }) });
  for (const ms of [250, 500, 1000, 2000, 5000, 10000]) interval.appendChild(el('option', { value: String(ms), text: ms < 1000 ? ms + ' ms' : ms / 1000 + ' s' }));
  const hex = el('input', { type: 'checkbox', title: 'Integers in hex', onchange: () => send({ type: 'hex', on: hex.checked }, { hex: hex.checked }) });
  const perCpuBox = el('input', { type: 'checkbox', title: 'A column for every CPU besides the sums', onchange: () => send({ type: 'percpu', on: perCpuBox.checked }, { perCpu: perCpuBox.checked }) });
  const perCpuLabel = el('label', { hidden: true, title: 'A column for every CPU besides the sums' }, perCpuBox, ' per CPU');
  const filter = el('input', { type: 'search', class: 'filter', placeholder: 'Filter: text, or count>10 comm~bash', title: 'Terms separated by spaces; column op value with = != > < >= <= ~ (contains)' });
  let filterTimer = 0;
  filter.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => send({ type: 'filter', text: filter.value }, { filter: filter.value }), 200);
  });
  const search = el('input', { type: 'search', class: 'search', placeholder: 'Search', title: 'Enter: next match, Shift+Enter: previous' });
  let searchFrom = -1;
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !search.value) return;
    vscode.postMessage({ type: 'search', text: search.value, from: searchFrom, backwards: e.shiftKey });
  });
  const toolbar = el(
    'div',
    { class: 'toolbar' },
    pauseBtn,
    el('label', {}, 'every ', interval),
    button('Refresh', 'Read the map now', () => vscode.postMessage({ type: 'refresh' })),
    el('label', { title: 'Integers in hex' }, hex, ' hex'),
    perCpuLabel,
    filter,
    search,
    button('CSV', 'Export the current view as CSV', () => vscode.postMessage({ type: 'export', format: 'csv' })),
    button('JSON', 'Export the current view as JSON', () => vscode.postMessage({ type: 'export', format: 'json' })),
    status,
  );
  const histBox = el('div', { class: 'histograms' });
  const tableBox = el('div', { class: 'table-box' });
  const detail = el('div', { class: 'detail' });
  app.append(el('div', { class: 'head' }, title, metaLine), toolbar, note, histBox, tableBox, detail);

  const table = new VirtualTable(tableBox, {
    sort: ui.sort,
    source: {
      total: () => win.total,
      rowsAt: (start, count) => {
        const off = start - win.start;
        if (off < 0 || off >= win.rows.length) return [];
        return win.rows.slice(off, off + count);
      },
    },
    onViewport: (start, count) => vscode.postMessage({ type: 'viewport', start, count }),
    onSort: (s) => send({ type: 'sort', column: s ? s.column : null, descending: s ? s.descending : false }, { sort: s }),
    onSelect: (row, i) => {
      selected = row.id;
      searchFrom = i;
      vscode.postMessage({ type: 'select', id: row.id });
    },
    onRendered: () => saveState({ scrollTop: table.scroller.scrollTop }),
  });

  function send(msg, patch) {
    if (patch) {
      ui = { ...ui, ...patch };
      saveState(ui);
    }
    vscode.postMessage(msg);
  }
  function setPaused(p) {
    pauseBtn.textContent = p ? 'Resume' : 'Pause';
    send({ type: 'pause', paused: p }, { paused: p });
  }
  function applyUi() {
    interval.value = String(ui.intervalMs);
    hex.checked = !!ui.hex;
    perCpuBox.checked = !!ui.perCpu;
    filter.value = ui.filter || '';
    pauseBtn.textContent = ui.paused ? 'Resume' : 'Pause';
  }

  // ---- detail pane: the selected entry, per-CPU values, plot, edit ----
  const keyIn = el('textarea', { class: 'edit-key', rows: 1, placeholder: 'key' });
  const valIn = el('textarea', { class: 'edit-value', rows: 2, placeholder: 'value' });
  const editMsg = el('div', { class: 'edit-msg', role: 'status' });
  const plotCol = el('select', { title: 'Column to plot' });
  const plotCanvas = el('canvas', { class: 'plot' });
  const plotLabel = el('div', { class: 'plot-label' });
  const detailKey = el('pre', { class: 'json' });
  const detailVal = el('pre', { class: 'json' });
  const perCpu = el('pre', { class: 'json percpu' });
  const editable = el(
    'div',
    { class: 'edit' },
    el('div', { class: 'edit-row' }, el('span', { class: 'edit-label', text: 'key' }), keyIn),
    el('div', { class: 'edit-row' }, el('span', { class: 'edit-label', text: 'value' }), valIn),
    el(
      'div',
      { class: 'edit-row' },
      button('Update', 'Write the value of an existing key (checked against the BTF type first)', () => edit('update')),
      button('Insert', 'Add a new entry (fails if the key exists)', () => edit('insert')),
      button('Delete', 'Delete the entry with this key', () => edit('delete')),
      editMsg,
    ),
  );
  detail.append(
    el('div', { class: 'detail-cols' }, el('div', {}, el('h3', { text: 'key' }), detailKey), el('div', {}, el('h3', { text: 'value' }), detailVal, perCpu)),
    el('div', { class: 'plot-box' }, el('span', { text: 'Plot ' }), plotCol, button('Plot', 'Plot this cell of the selected row over time', () => selected && vscode.postMessage({ type: 'plot', id: selected, column: plotCol.value })), plotLabel, plotCanvas),
    editable,
  );
  function edit(op) {
    editMsg.textContent = '…';
    editMsg.className = 'edit-msg';
    vscode.postMessage({ type: 'edit', op, key: keyIn.value, value: valIn.value });
  }

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    switch (m.type) {
      case 'map-init':
        title.textContent = m.title;
        metaLine.textContent = [m.meta.type, 'key ' + m.meta.key, 'value ' + m.meta.value, 'max ' + m.meta.max_entries, m.meta.percpu ? 'per-CPU (' + m.meta.cpus + ' CPUs, values summed)' : null].filter(Boolean).join(' · ');
        keyIn.placeholder = 'key, e.g. ' + m.keyHint;
        valIn.placeholder = 'value, e.g. ' + m.valueHint;
        editable.hidden = !m.editable;
        perCpuLabel.hidden = !m.meta.percpu;
        if (!saved.intervalMs) ui = { ...ui, ...m.state };
        applyUi();
        break;
      case 'map-columns':
        columns = m.columns;
        table.setColumns(columns);
        clear(plotCol);
        for (const c of columns) if (c.id.startsWith('value')) plotCol.appendChild(el('option', { value: c.id, text: c.label }));
        break;
      case 'map-window':
        win = m;
        status.textContent = (m.complete ? m.total + ' of ' + m.loaded + ' entries' : m.loaded + ' entries read (more by scrolling)') + ' · ' + new Date(m.refreshedAt).toLocaleTimeString() + (ui.paused ? ' · paused' : '');
        note.textContent = [m.note, ...(m.filterErrors || [])].filter(Boolean).join(' · ');
        table.render();
        break;
      case 'map-detail':
        detailKey.textContent = m.key;
        detailVal.textContent = m.value;
        perCpu.textContent = m.perCpu ? m.perCpu.join('\n') : '';
        keyIn.value = m.key.length < 400 ? JSON.stringify(JSON.parse(m.key)) : m.key;
        valIn.value = m.value.length < 2000 ? JSON.stringify(JSON.parse(m.value)) : m.value;
        break;
      case 'map-histograms':
        clear(histBox);
        for (const h of m.histograms) barChart(histBox, h);
        break;
      case 'map-series':
        plotLabel.textContent = m.label + ' · last ' + m.values[m.values.length - 1] + (m.rates.length ? ' · ' + Math.round(m.rates[m.rates.length - 1]) + '/s' : '');
        sparkline(plotCanvas, m.values);
        break;
      case 'search-result':
        if (m.index < 0) status.textContent = 'no match for ' + m.text;
        else {
          searchFrom = m.index;
          table.scrollToIndex(m.index);
        }
        break;
      case 'edit-result':
        editMsg.textContent = m.message;
        editMsg.className = 'edit-msg ' + (m.ok ? 'ok' : 'error');
        break;
      case 'status':
        note.textContent = m.text;
        note.className = 'note' + (m.error ? ' error' : '');
        break;
    }
  });

  applyUi();
  vscode.postMessage({ type: 'ready', state: saved.intervalMs ? ui : undefined });
  if (saved.scrollTop) requestAnimationFrame(() => (table.scroller.scrollTop = saved.scrollTop));
})();
