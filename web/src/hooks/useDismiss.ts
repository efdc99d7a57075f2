import { useEffect, type RefObject } from "react";

/**
 * Closes a popover or menu on Escape and on a pointer press outside it (and outside the
 * button that opened it, whose own click toggles it).
 */
export function useDismiss(open: boolean, refs: Array<RefObject<HTMLElement | null>>, onClose: () => void): void {
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node | null;
      if (t && refs.some((r) => r.current?.contains(t))) return;
      onClose();
    };
    window.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onDown);
    return () => {
      window.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onDown);
    };
    // `refs` is a fresh array each render; the elements it points to are what matter.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, onClose]);
}
