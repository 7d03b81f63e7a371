// node check.mjs FILE...: parse each file with Mermaid's own parser (in jsdom); one JSON line per file
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  try {
    const parsed = await mermaid.parse(text);
    const db = (await mermaid.mermaidAPI.getDiagramFromText(text)).db;
    const labels = [...db.getVertices().values()].map((v) => v.text);
    console.log(JSON.stringify({ ok: true, type: parsed.diagramType, vertices: db.getVertices().size,
      edges: db.getEdges().length, subgraphs: db.getSubGraphs().length, labels }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e.message || e).split("\n")[0] }));
  }
}
