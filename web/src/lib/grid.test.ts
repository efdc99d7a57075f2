import { describe, expect, it } from "vitest";
import { computeGridLayout, paginate } from "./grid";

const W = 1280;
const H = 720;

describe("computeGridLayout", () => {
  it.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 2, 2],
    [4, 2, 2],
    [5, 3, 2],
    [6, 3, 2],
    [9, 3, 3],
    [16, 4, 4],
  ])("%i tiles on a 16:9 screen -> %i x %i", (n, cols, rows) => {
    const l = computeGridLayout(n, W, H);
    expect([l.columns, l.rows]).toEqual([cols, rows]);
    expect(l.pages).toBe(1);
    expect(l.columns * l.rows).toBeGreaterThanOrEqual(n);
  });

  it("paginates beyond 16 tiles", () => {
    const l = computeGridLayout(17, W, H);
    expect([l.columns, l.rows]).toEqual([4, 4]);
    expect(l.pageSize).toBe(16);
    expect(l.pages).toBe(2);
    expect(computeGridLayout(40, W, H).pages).toBe(3);
  });

  it("stacks tiles vertically on a portrait phone", () => {
    const l = computeGridLayout(2, 390, 700);
    expect([l.columns, l.rows]).toEqual([1, 2]);
  });

  it("keeps tiles inside the container and at the aspect ratio", () => {
    for (const n of [1, 2, 4, 9, 16, 25]) {
      const l = computeGridLayout(n, W, H, 16 / 9, 16, 8);
      expect(l.tileWidth * l.columns + 8 * (l.columns - 1)).toBeLessThanOrEqual(W + 0.001);
      expect(l.tileHeight * l.rows + 8 * (l.rows - 1)).toBeLessThanOrEqual(H + 0.001);
      expect(l.tileWidth / l.tileHeight).toBeCloseTo(16 / 9);
    }
  });

  it("handles zero tiles and a zero-size container", () => {
    expect(computeGridLayout(0, W, H).columns).toBe(1);
    expect(computeGridLayout(4, 0, 0).columns).toBeGreaterThan(0);
  });
});

describe("paginate", () => {
  const items = Array.from({ length: 20 }, (_, i) => i);
  it("slices pages and clamps the page number", () => {
    expect(paginate(items, 0, 16).items).toHaveLength(16);
    expect(paginate(items, 1, 16).items).toEqual([16, 17, 18, 19]);
    expect(paginate(items, 5, 16)).toMatchObject({ page: 1, pages: 2 });
    expect(paginate([], 3, 16)).toMatchObject({ items: [], page: 0, pages: 1 });
  });
});
