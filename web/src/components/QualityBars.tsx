import type { Quality } from "../meeting/connectionQuality";

const LABEL: Record<Quality, string> = {
  excellent: "Connection: excellent",
  good: "Connection: good",
  poor: "Connection: poor (loss, delay or too little bandwidth)",
  lost: "Connection lost: reconnecting",
};
const LIT: Record<Quality, number> = { excellent: 3, good: 2, poor: 1, lost: 0 };

/** Three signal bars for a participant's connection quality; nothing until it is measured. */
export function QualityBars({ quality }: { quality: Quality | undefined }) {
  if (!quality) return null;
  return (
    <span className={`quality quality-${quality}`} role="img" aria-label={LABEL[quality]} title={LABEL[quality]} data-quality={quality}>
      {[1, 2, 3].map((bar) => (
        <span key={bar} className={`quality-bar${bar <= LIT[quality] ? " lit" : ""}`} style={{ height: `${bar * 4 + 2}px` }} />
      ))}
    </span>
  );
}
