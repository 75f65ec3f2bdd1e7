/**
 * The messages between the panels' controllers (extension host) and their webviews
 * (media/panels/*.js). Everything from the target travels here as data and is rendered by the
 * webview with textContent: no HTML is ever built from it.
 *
 * No `vscode` import.
 */

/** The agent calls the controllers make (AgentClient satisfies it; tests may pass a fake). */
export interface PanelAgent {
  request(method: string, params: Record<string, unknown>, o?: { timeoutMs?: number }): Promise<unknown>;
  on(event: string, listener: (ev: never) => void): unknown;
  off(event: string, listener: (ev: never) => void): unknown;
  readonly isClosed: boolean;
}

/** Sends a message to the webview (dropped while the webview is hidden: it asks again when shown). */
export type Post = (msg: ToWebview) => unknown;

export interface ColumnMsg {
  id: string;
  label: string;
}

export interface RowMsg {
  id: string;
  cells: string[];
  /** changed in the last refresh */
  changed: boolean;
}

export interface HistogramMsg {
  label: string;
  unit: string;
  total: number;
  buckets: { label: string; count: number }[];
}

export type ToWebview =
  | {
      type: 'map-init';
      title: string;
      meta: Record<string, string | number | boolean | null>;
      editable: boolean;
      keyHint: string;
      valueHint: string;
      state: MapUiState;
    }
  | { type: 'map-columns'; columns: ColumnMsg[] }
  | {
      type: 'map-window';
      start: number;
      total: number;
      complete: boolean;
      loaded: number;
      rows: RowMsg[];
      filterErrors: string[];
      note?: string;
      refreshedAt: number;
    }
  | { type: 'map-detail'; id: string; key: string; value: string; perCpu: string[] | null }
  | { type: 'map-histograms'; histograms: HistogramMsg[] }
  | { type: 'map-series'; label: string; values: number[]; rates: number[] }
  | { type: 'search-result'; index: number; text: string }
  | { type: 'edit-result'; ok: boolean; message: string }
  | { type: 'status'; text: string; error?: boolean }
  | {
      type: 'stream-init';
      title: string;
      columns: ColumnMsg[];
      state: StreamUiState;
      choices?: { types: string[]; current: string | null };
    }
  | { type: 'stream-batch'; rows: string[][]; reset: boolean; stats: Record<string, number | boolean | undefined> }
  | { type: 'stats-rows'; rows: StatsRowMsg[]; enabled: boolean; at: number; all?: boolean };

export interface StatsRowMsg {
  id: number;
  name: string;
  type: string;
  runs: string;
  runsPerSec: string;
  avgNs: string;
  avgNsRecent: string;
  cpuPercent: string;
  runTime: string;
  misses: string;
  series: number[];
}

export interface MapUiState {
  intervalMs: number;
  paused: boolean;
  hex: boolean;
  /** per-CPU maps: a column per CPU besides the sums */
  perCpu?: boolean;
  sort?: { column: string; descending: boolean };
  filter: string;
  scrollTop?: number;
}

export interface StreamUiState {
  paused: boolean;
  filter: string;
  follow: boolean;
  type?: string | null;
}

export type FromWebview =
  | { type: 'ready'; state?: Partial<MapUiState & StreamUiState> }
  | { type: 'viewport'; start: number; count: number }
  | { type: 'sort'; column: string | null; descending: boolean }
  | { type: 'filter'; text: string }
  | { type: 'search'; text: string; from: number; backwards?: boolean }
  | { type: 'interval'; ms: number }
  | { type: 'pause'; paused: boolean }
  | { type: 'hex'; on: boolean }
  | { type: 'percpu'; on: boolean }
  | { type: 'select'; id: string }
  | { type: 'edit'; op: 'update' | 'insert' | 'delete'; key: string; value?: string }
  | { type: 'export'; format: 'csv' | 'json' }
  | { type: 'plot'; id: string; column: string }
  | { type: 'refresh' }
  | { type: 'scope'; all: boolean }
  | { type: 'clear' }
  | { type: 'record-type'; name: string | null }
  | { type: 'follow'; on: boolean };
