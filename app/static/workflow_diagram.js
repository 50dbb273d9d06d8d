/* Draws the Mermaid diagrams of the workflow page (the vendored mermaid.min.js, no CDN). */
mermaid.initialize({ startOnLoad: true, securityLevel: "strict", theme: "neutral" });
