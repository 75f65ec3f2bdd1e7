// The kernel matrix panel (Test on Kernels...): program x kernel. Plain browser JS; every string
// comes from targets (release names, verifier messages) and is put in with textContent only.
/* global acquireVsCodeApi */
(function () {
  'use strict';
  const vscode = acquireVsCodeApi();
  const app = document.getElementById('app');
  let state = { title: '', kernels: [], stages: {}, report: null };

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }

  function cell(program, target, r) {
    if (!r) return el('td', { class: 'none', text: state.report ? '-' : '…' });
    const insns = r.processed_insns != null ? r.processed_insns + ' insns' : '';
    const time = r.verify_us != null ? (r.verify_us / 1000).toFixed(1) + ' ms' : '';
    const detail = [insns, time, r.attached ? 'attached' : '', r.run_cnt != null ? 'ran ' + r.run_cnt + 'x' : '']
      .filter(Boolean)
      .join(', ');
    if (r.status === 'loaded') return el('td', { class: 'loaded' }, 'loaded', el('span', { class: 'detail', text: detail }));
    const msg = r.error ? r.error.message : '';
    const where = r.error && r.error.line != null ? 'line ' + r.error.line + ': ' : '';
    if (r.status === 'rejected') {
      return el(
        'td',
        {
          class: 'rejected',
          title: 'Show this kernel\u2019s verdict on the source line and its log in the stepper',
          dataset: { program, target },
          onclick: () => vscode.postMessage({ type: 'open', program, target }),
        },
        'rejected',
        el('span', { class: 'detail', text: where + msg }),
      );
    }
    return el('td', { class: r.status }, r.status === 'refused' ? 'refused' : 'attach failed', el('span', { class: 'detail', text: msg }));
  }

  function render() {
    while (app.firstChild) app.removeChild(app.firstChild);
    app.appendChild(el('h2', { text: state.title }));
    const r = state.report;
    app.appendChild(el('div', { class: 'meta', text: r ? 'done' : 'running\u2026' }));
    const head = el('tr', {}, el('th', { text: 'program' }));
    for (const t of state.kernels) {
      const k = r && r.kernels.find((x) => x.target === t);
      const stage = k ? (k.ok ? k.release || '' : 'failed') : state.stages[t] || 'waiting';
      head.appendChild(el('th', { class: k && !k.ok ? 'failed' : '', dataset: { target: t } }, t, el('span', { class: 'stage', text: stage })));
    }
    const rows = (r ? r.programs : []).map((p) =>
      el('tr', { dataset: { program: p.name } }, el('td', { text: p.name + ' (' + p.section + ')' }), state.kernels.map((t) => cell(p.name, t, p.results[t]))),
    );
    app.appendChild(el('table', {}, el('thead', {}, head), el('tbody', {}, rows)));
    const errs = r ? r.kernels.filter((k) => !k.ok).map((k) => k.target + ': ' + (k.error || 'failed')) : [];
    if (errs.length) app.appendChild(el('div', { class: 'errors', text: errs.join('\n\n') }));
  }

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (m.type === 'init') state = { title: m.title, kernels: m.kernels, stages: {}, report: null };
    else if (m.type === 'progress') state.stages[m.target] = m.stage;
    else if (m.type === 'report') state.report = m.report;
    render();
  });
  vscode.postMessage({ type: 'ready' });
})();
