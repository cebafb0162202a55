// Parses an AsyncAPI document with the official parser and exits non-zero
// on any diagnostic of severity error or warning, printing each.
// Usage: NODE_PATH=<dir>/node_modules node validate.cjs document.json
"use strict";
const fs = require("fs");
const { Parser, DiagnosticSeverity } = require("@asyncapi/parser");

async function main() {
  const text = fs.readFileSync(process.argv[2], "utf8");
  const { document, diagnostics } = await new Parser().parse(text);
  const bad = diagnostics.filter(d => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning);
  for (const d of diagnostics) {
    console.log(`${DiagnosticSeverity[d.severity]} ${d.code} at ${d.path.join("/")}: ${d.message}`);
  }
  if (!document || bad.length > 0) {
    console.log(`${bad.length} errors or warnings`);
    process.exit(1);
  }
  console.log(`parsed: ${document.operations().length} operations, ${document.allMessages().length} messages`);
}

main().catch(e => { console.error(e); process.exit(2); });
