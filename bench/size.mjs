// What the wasm's bytes are made of, twiggy-style: each function's body size from the code
// section, named from the name section of target/worker/named/index_bg.wasm (scripts/build.sh
// keeps one copy with names), grouped by crate and by generic instantiation, plus the data
// section. Sizes are of the optimised wasm before the names are stripped; gzip shrinks all of
// them by about the same factor.
//
//   node bench/size.mjs [path/to/named.wasm] [--top N]
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const ROOT = path.resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const topIndex = args.indexOf("--top");
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
const file = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--top") ?? path.join(ROOT, "target/worker/named/index_bg.wasm");
const bytes = fs.readFileSync(file);

let at = 8; // magic + version
const uleb = () => {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    result += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return result;
    shift += 7;
  }
};
const sections = [];
while (at < bytes.length) {
  const id = bytes[at++];
  const size = uleb();
  sections.push({ id, start: at, size });
  at += size;
}

const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count"];
let importedFunctions = 0;
const bodies = [];
const names = new Map();
for (const section of sections) {
  at = section.start;
  if (section.id === 2) {
    for (let n = uleb(), i = 0; i < n; i++) {
      for (let k = 0; k < 2; k++) at += uleb(); // module, name
      const kind = bytes[at++];
      if (kind === 0) {
        importedFunctions++;
        uleb();
      } else if (kind === 1) {
        at++;
        const flags = uleb();
        uleb();
        if (flags & 1) uleb();
      } else if (kind === 2) {
        const flags = uleb();
        uleb();
        if (flags & 1) uleb();
      } else if (kind === 3) {
        at += 2;
      } else {
        uleb();
      }
    }
  } else if (section.id === 10) {
    for (let n = uleb(), i = 0; i < n; i++) {
      const size = uleb();
      bodies.push(size);
      at += size;
    }
  } else if (section.id === 0) {
    const nameLength = uleb();
    const name = bytes.subarray(at, at + nameLength).toString();
    at += nameLength;
    if (name !== "name") continue;
    const end = section.start + section.size;
    while (at < end) {
      const sub = bytes[at++];
      const size = uleb();
      const subEnd = at + size;
      if (sub === 1) {
        for (let n = uleb(), i = 0; i < n; i++) {
          const index = uleb();
          const length = uleb();
          names.set(index, bytes.subarray(at, at + length).toString());
          at += length;
        }
      }
      at = subEnd;
    }
  }
}

const total = bytes.length;
const functions = bodies.map((size, i) => ({ name: names.get(i + importedFunctions) ?? `func[${i + importedFunctions}]`, size }));
const code = functions.reduce((s, f) => s + f.size, 0);
const pct = (n) => `${((100 * n) / total).toFixed(1)}%`;
const kb = (n) => (n / 1024).toFixed(1);

/** The crate a (Rust-mangled, demangled by wasm-bindgen) name belongs to. */
function crateOf(name) {
  const inner = name.replace(/^<+/, "").replace(/^&(mut )?/, "");
  const match = /^([a-zA-Z_][a-zA-Z0-9_]*)(\[[0-9a-f]+\])?::/.exec(inner);
  return match ? match[1] : name.startsWith("__wbg") || name.startsWith("__wbindgen") ? "wasm-bindgen glue" : "(other)";
}
/** A name without its hash and generic arguments: what monomorphised copies share. */
const generic = (name) => name.replace(/::h[0-9a-f]{16}$/, "").replace(/<[^<>]*(<[^<>]*>[^<>]*)*>/g, "<…>");

const group = (key) => {
  const map = new Map();
  for (const f of functions) {
    const k = key(f.name);
    const entry = map.get(k) ?? { key: k, size: 0, count: 0 };
    entry.size += f.size;
    entry.count += 1;
    map.set(k, entry);
  }
  return [...map.values()].sort((a, b) => b.size - a.size);
};

const lines = [];
const out = (line = "") => lines.push(line);
out(`${path.relative(ROOT, file)}: ${total.toLocaleString("en-US")} bytes (${kb(zlib.gzipSync(bytes, { level: 9 }).length)} KB gzip with names)`);
out();
out("| section | bytes | share |");
out("|---|---:|---:|");
for (const s of [...sections].sort((a, b) => b.size - a.size)) {
  out(`| ${SECTION_NAMES[s.id] ?? s.id} | ${s.size.toLocaleString("en-US")} | ${pct(s.size)} |`);
}
out();
out(`| crate | code bytes | functions | share of the file |`);
out("|---|---:|---:|---:|");
for (const g of group(crateOf).slice(0, top)) out(`| ${g.key} | ${g.size.toLocaleString("en-US")} | ${g.count} | ${pct(g.size)} |`);
out();
out(`| generic function (instantiations summed) | bytes | copies |`);
out("|---|---:|---:|");
for (const g of group(generic).filter((g) => g.count > 1).slice(0, top)) out(`| \`${g.key.slice(0, 110)}\` | ${g.size.toLocaleString("en-US")} | ${g.count} |`);
out();
out(`| largest functions | bytes |`);
out("|---|---:|");
for (const f of [...functions].sort((a, b) => b.size - a.size).slice(0, top)) out(`| \`${f.name.slice(0, 120)}\` | ${f.size.toLocaleString("en-US")} |`);
out();
out(`code: ${code.toLocaleString("en-US")} bytes in ${functions.length} functions`);
console.log(lines.join("\n"));
