// The bpf_printk panel: trace_pipe lines with time, task, pid, CPU and message.
window.BpfPanels.streamPanel({ title: 'bpf_printk', history: 20000, filterHint: 'Filter: text, or task~bash pid=42' });
