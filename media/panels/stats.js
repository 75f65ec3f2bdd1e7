// The program stats panel: runs, runs/s, average ns per run and a small runs/s chart per program.
(function () {
  'use strict';
  const { vscode, el, clear, sparkline, button } = window.BpfPanels;
  const app = document.getElementById('app');
  let paused = false;
  const status = el('span', { class: 'status', role: 'status' });
  const note = el('div', { class: 'note' });
  const pauseBtn = button('Pause', 'Pause or resume', () => {
    paused = !paused;
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    vscode.postMessage({ type: 'pause', paused });
  });
  const allBox = el('input', { type: 'checkbox', class: 'all' });
  allBox.addEventListener('change', () => vscode.postMessage({ type: 'scope', all: allBox.checked }));
  const allLabel = el('label', { title: 'Every program on the target, whoever loaded it, the busiest first (as bpftop shows them)' }, allBox, ' all programs on the target');
  const body = el('tbody');
  const heads = ['program', 'type', 'id', 'runs', 'runs/s', 'avg ns (recent)', 'avg ns (all)', 'CPU %', 'run time ms', 'recursion misses', 'runs/s over time'];
  const table = el('table', { class: 'stats' }, el('thead', {}, el('tr', {}, heads.map((h) => el('th', { text: h })))), body);
  app.append(el('div', { class: 'head' }, el('h2', { class: 'title', text: 'BPF program stats' })), el('div', { class: 'toolbar' }, pauseBtn, button('Refresh', 'Read now', () => vscode.postMessage({ type: 'refresh' })), allLabel, status), note, table);
  const canvases = new Map();
  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (m.type === 'stats-rows') {
      status.textContent = (m.enabled ? 'run time stats on' : 'run time stats off') + ' · ' + new Date(m.at).toLocaleTimeString();
      clear(body);
      allBox.checked = !!m.all;
      if (m.rows.length === 0) body.appendChild(el('tr', {}, el('td', { colSpan: heads.length, text: m.all ? 'No programs on the target.' : 'Nothing loaded from this window yet.' })));
      for (const r of m.rows) {
        let c = canvases.get(r.id);
        if (!c) canvases.set(r.id, (c = el('canvas', { class: 'spark' })));
        body.appendChild(el('tr', {}, [r.name, r.type, String(r.id), r.runs, r.runsPerSec, r.avgNsRecent, r.avgNs, r.cpuPercent, r.runTime, r.misses].map((t) => el('td', { text: t })), el('td', {}, c)));
        sparkline(c, r.series);
        c.dataset.points = String(r.series.length);
      }
    } else if (m.type === 'status') {
      note.textContent = m.text;
      note.className = 'note' + (m.error ? ' error' : '');
    }
  });
  vscode.postMessage({ type: 'ready' });
})();
