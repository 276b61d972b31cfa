// Copy the installed packages' distributable files into ../static/vendor, served by the app itself.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "vendor");
const files = [
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["echarts/dist/echarts.min.js", "echarts.min.js"],
  ["leaflet/dist/leaflet.js", "leaflet/leaflet.js"],
  ["leaflet/dist/leaflet.css", "leaflet/leaflet.css"],
  ["leaflet/dist/images", "leaflet/images"],
  // The API's documentation page (/api/docs/, drf-spectacular's Swagger UI view).
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui-standalone-preset.js", "swagger-ui/swagger-ui-standalone-preset.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/favicon-32x32.png", "swagger-ui/favicon-32x32.png"],
];
for (const [from, to] of files) {
  const dest = join(out, to);
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(join(here, "node_modules", from), dest, { recursive: true });
  withSourceMaps(join(here, "node_modules", from), dest);
}

// Every copied .js/.css that names a source map gets it copied beside it, or loses the reference when the package
// ships none: collectstatic's manifest storage aborts on a sourceMappingURL to a file that is not there.
function withSourceMaps(src, dest) {
  if (statSync(dest).isDirectory()) {
    for (const name of readdirSync(dest)) withSourceMaps(join(src, name), join(dest, name));
    return;
  }
  if (!/\.(js|css)$/.test(dest)) return;
  const text = readFileSync(dest, "utf8");
  const ref = /[#@] sourceMappingURL=([^\s*'"]+)/.exec(text);
  if (!ref || ref[1].startsWith("data:")) return;
  const map = join(dirname(src), ref[1]);
  if (existsSync(map)) {
    cpSync(map, join(dirname(dest), ref[1]));
  } else {
    writeFileSync(dest, text.replace(/\n?(\/\/|\/\*)[#@] sourceMappingURL=[^\n]*/g, ""));
  }
}
console.log(`assets copied to ${out}`);
