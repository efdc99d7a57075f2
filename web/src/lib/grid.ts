export interface GridLayout {
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  /** Tiles on one page. */
  pageSize: number;
  pages: number;
}

export const MAX_TILES_PER_PAGE = 16;

/**
 * Columns and rows for `count` tiles of the given aspect ratio (width / height) in a container,
 * choosing the arrangement that makes the tiles largest. Beyond `maxPerPage` tiles the grid is
 * paginated. Pure: no DOM.
 */
export function computeGridLayout(
  count: number,
  width: number,
  height: number,
  aspect = 16 / 9,
  maxPerPage = MAX_TILES_PER_PAGE,
  gap = 8,
): GridLayout {
  const pageSize = Math.max(1, maxPerPage);
  const n = Math.max(1, Math.min(count, pageSize));
  const pages = Math.max(1, Math.ceil(count / pageSize));
  const W = Math.max(1, width);
  const H = Math.max(1, height);
  let best: GridLayout | null = null;
  let bestArea = -1;
  for (let columns = 1; columns <= n; columns++) {
    const rows = Math.ceil(n / columns);
    // Skip arrangements that leave a whole empty row or column.
    if ((columns - 1) * rows >= n && columns > 1) continue;
    const cellW = (W - gap * (columns - 1)) / columns;
    const cellH = (H - gap * (rows - 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const tileWidth = Math.min(cellW, cellH * aspect);
    const tileHeight = tileWidth / aspect;
    const area = tileWidth * tileHeight;
    if (area > bestArea + 1e-6) {
      bestArea = area;
      best = { columns, rows, tileWidth, tileHeight, pageSize, pages };
    }
  }
  return best ?? { columns: 1, rows: n, tileWidth: W, tileHeight: W / aspect, pageSize, pages };
}

/** The slice of `items` on page `page` (clamped to the last page). */
export function paginate<T>(items: readonly T[], page: number, pageSize = MAX_TILES_PER_PAGE): { items: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(items.length / pageSize));
  const p = Math.min(Math.max(0, page), pages - 1);
  return { items: items.slice(p * pageSize, (p + 1) * pageSize), page: p, pages };
}
