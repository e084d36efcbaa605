import type { Metadata, Viewport } from "next";
import type * as React from "react";

import { HydrationMarker } from "@/components/hydration-marker";

import "./globals.css";

export const metadata: Metadata = {
  title: "ModelDeck",
  description: "Self-hosted MLOps control panel for ONNX models.",
};

export const viewport: Viewport = {
  colorScheme: "light dark",
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#f7f7f8" },
    { media: "(prefers-color-scheme: dark)", color: "#0c0c0f" },
  ],
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="bg-background font-sans text-foreground antialiased">
        <HydrationMarker />
        {children}
      </body>
    </html>
  );
}
