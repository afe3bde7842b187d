// Build a JavaScript plugin into a component with componentize-js.
//
//   node build.mjs <componentize-js module dir> <app.js> <wit dir> <world> <out.wasm>
//
// `cargo xtask polyglot` installs componentize-js under target/js-tools and
// runs this. The library is called directly: the `jco componentize` command
// of jco 1.35 fails on path metadata (docs/plugins.md, "JavaScript").
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [moduleDir, source, witPath, worldName, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node build.mjs <componentize-js dir> <app.js> <wit dir> <world> <out.wasm>");
  process.exit(2);
}
const { componentize } = await import(pathToFileURL(join(moduleDir, "src/componentize.js")).href);
const { component } = await componentize(await readFile(source, "utf8"), {
  witPath,
  worldName,
  // No fetch(): a feed platform makes no HTTP calls, and the host would
  // refuse them anyway (the manifest grants no origin).
  disableFeatures: ["http", "fetch-event"],
});
await writeFile(out, component);
console.log(`built ${out} (${component.length} bytes)`);
