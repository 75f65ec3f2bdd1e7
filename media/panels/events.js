// The events panel: ring buffer / perf buffer records, decoded with the chosen struct type.
window.BpfPanels.streamPanel({ title: 'events', history: 10000, filterHint: 'Filter: text, or pid=42 comm~bash' });
