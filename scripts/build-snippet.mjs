// Builds the reader snippet from static/js/src into static/js (docs/snippet.md):
//   feedback.js                  the loader the site's tag loads
//   feedback-dialog.HASH.js      the dialog chunk, named by a hash of its content
//   feedback-dialog.js           the same chunk under a stable name, for loaders that
//                                were built with a chunk the service no longer has
//   feedback-lang-LANG.HASH.js   one small chunk per language but English (which the
//                                dialog chunk holds), fetched by the dialog chunk
// The output is committed, so that the wheel needs no Node; `scripts/test.sh` rebuilds it
// and fails when it differs. Run: npm run build
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}static/js/`;
const src = `${out}src/`;
const version = readFileSync(`${root}feedback/__init__.py`, 'utf8').match(/__version__ = "(.+?)"/)[1];

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  charset: 'utf8',
  legalComments: 'none',
  write: false,
};

// JSON data files (the shared extraction rules) without their "about..." explanations.
const withoutAbout = (value) =>
  Array.isArray(value)
    ? value.map(withoutAbout)
    : value && typeof value == 'object'
      ? Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith('about')).map(([k, v]) => [k, withoutAbout(v)]))
      : value;
const jsonData = {
  name: 'json-data',
  setup(build) {
    build.onLoad({ filter: /\.json$/ }, (args) => ({
      contents: JSON.stringify(withoutAbout(JSON.parse(readFileSync(args.path, 'utf8')))),
      loader: 'json',
    }));
  },
};

async function bundle(entry, define = {}) {
  const result = await esbuild.build({ ...common, entryPoints: [`${src}${entry}`], define, plugins: [jsonData] });
  return result.outputFiles[0].text;
}
const named = (prefix, content) => `${prefix}.${createHash('sha256').update(content).digest('hex').slice(0, 10)}.js`;

// Each language file but English becomes a chunk that hands its strings to the <script>
// the dialog chunk added for it (src/shared/interface.js: STRINGS_KEY).
const stringsDir = `${src}dialog/strings/`;
const langFiles = {};
const langChunks = {};
for (const file of readdirSync(stringsDir).sort()) {
  const lang = file.replace(/\.js$/, '');
  if (file == lang || lang == 'index' || lang == 'en') continue;
  const result = await esbuild.build({
    ...common,
    stdin: {
      contents: `import { STRINGS_KEY } from '../../shared/interface.js'; import strings from './${file}';
        const me = document.currentScript; if (me && me[STRINGS_KEY]) me[STRINGS_KEY](strings);`,
      resolveDir: stringsDir,
    },
  });
  const content = result.outputFiles[0].text;
  langFiles[lang] = named(`feedback-lang-${lang}`, content);
  langChunks[langFiles[lang]] = content;
}

const dialog = `/* Reader corrections snippet, dialog ${version}: docs/snippet.md */\n${await bundle('dialog/index.js', {
  __LANG_FILES__: JSON.stringify(langFiles),
})}`;
const hash = createHash('sha256').update(dialog).digest('hex').slice(0, 10);
const chunk = `feedback-dialog.${hash}.js`;
const fallback = 'feedback-dialog.js';
const loader = await bundle('loader/index.js', {
  __VERSION__: JSON.stringify(version),
  __DIALOG_FILE__: JSON.stringify(chunk),
  __DIALOG_FALLBACK__: JSON.stringify(fallback),
});

for (const name of readdirSync(out)) {
  if (/^feedback-dialog\.[0-9a-f]+\.js$/.test(name) && name != chunk) unlinkSync(out + name);
  if (/^feedback-lang-[a-z]+\.[0-9a-f]+\.js$/.test(name) && !langChunks[name]) unlinkSync(out + name);
}
for (const [name, content] of Object.entries(langChunks)) writeFileSync(out + name, content);
writeFileSync(out + chunk, dialog);
writeFileSync(out + fallback, dialog);
writeFileSync(`${out}feedback.js`, `/* Reader corrections snippet ${version}: docs/snippet.md */\n${loader}`);
console.log(`static/js/feedback.js, ${chunk} (also as ${fallback}), ${Object.keys(langChunks).length} language chunks`);
