/** The rows a fixed-height list must render to fill its viewport, with some overscan. */
export interface RowWindow {
  /** First row to render (inclusive) and the end (exclusive). */
  start: number;
  end: number;
  /** Space above the first rendered row and below the last, in px, keeping the scroll height. */
  padTop: number;
  padBottom: number;
}

/**
 * Which of `count` rows of `rowHeight` px show at `scrollTop` in a viewport `viewport` px high.
 * `overscan` rows are added on each side so a fast scroll does not show gaps. An unmeasured
 * viewport (0) renders the first screenful of `fallbackRows`.
 */
export function rowWindow(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 4, fallbackRows = 20): RowWindow {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 };
  const visible = viewport > 0 ? Math.ceil(viewport / rowHeight) + 1 : fallbackRows;
  const first = Math.min(Math.max(0, Math.floor(scrollTop / rowHeight)), count - 1);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}
