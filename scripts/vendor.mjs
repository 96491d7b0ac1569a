// Copies the pinned browser libraries from node_modules into static/vendor/ (committed).
import { cpSync, mkdirSync, rmSync } from "node:fs";

const copies = [
  ["node_modules/echarts/dist/echarts.min.js", "static/vendor/echarts/echarts.min.js"],
  ["node_modules/echarts/LICENSE", "static/vendor/echarts/LICENSE"],
  ["node_modules/leaflet/dist/leaflet.js", "static/vendor/leaflet/leaflet.js"],
  // leaflet.js names its source map: collectstatic (ManifestStaticFilesStorage) fails without it.
  ["node_modules/leaflet/dist/leaflet.js.map", "static/vendor/leaflet/leaflet.js.map"],
  ["node_modules/leaflet/dist/leaflet.css", "static/vendor/leaflet/leaflet.css"],
  ["node_modules/leaflet/dist/images", "static/vendor/leaflet/images"],
  ["node_modules/leaflet/LICENSE", "static/vendor/leaflet/LICENSE"],
];
rmSync("static/vendor", { recursive: true, force: true });
for (const [from, to] of copies) {
  mkdirSync(to.split("/").slice(0, -1).join("/"), { recursive: true });
  cpSync(from, to, { recursive: true });
}
console.log("static/vendor refreshed");
