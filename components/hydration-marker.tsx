"use client";

import { useEffect } from "react";

/**
 * Marks <html data-hydrated> once React has attached its event handlers. End-to-end tests
 * wait for it so a click never lands on a button that is not interactive yet.
 */
export function HydrationMarker() {
  useEffect(() => {
    document.documentElement.dataset.hydrated = "1";
  }, []);
  return null;
}
