// Builds the dashboard into dist/: one script (preact + htm, bundled by esbuild), one
// stylesheet, one page. Everything the page loads is served by feedsync itself.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["es2020"],
  outfile: join(dist, "assets", "app.js"),
  logLevel: "warning",
});
copyFileSync(join(here, "styles.css"), join(dist, "assets", "styles.css"));
copyFileSync(join(here, "index.html"), join(dist, "index.html"));
