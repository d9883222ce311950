// Parse Mermaid texts with the real Mermaid parser (the one JupyterLab draws with).
// Usage: node mermaid_parse.mjs FILE...; prints one JSON line per file:
// {"file", "ok", "error"?}. Mermaid needs a DOM: jsdom provides one.
import fs from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');

for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  try {
    await mermaid.parse(text);
    console.log(JSON.stringify({ file, ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ file, ok: false, error: String(e.message || e) }));
  }
}
