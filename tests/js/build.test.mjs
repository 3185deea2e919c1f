// The built snippet files as committed: their names, their budgets and their syntax.
// Run with: node --test tests/js/
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import zlib from 'node:zlib';

const BUILT = new URL('../../static/js/', import.meta.url);
const read = (name) => readFileSync(new URL(name, BUILT), 'utf8');
// gzip -9, as a server or CDN would send them (docs/snippet.md).
const gzipped = (name) => zlib.gzipSync(readFileSync(new URL(name, BUILT)), { level: 9 }).length;
const LOADER_BUDGET = 2560;
const DIALOG_BUDGET = 12288;
// A language chunk comes with the dialog chunk: the two together keep the dialog's budget.
const LANGUAGE_BUDGET = 1536;

const chunks = readdirSync(BUILT).filter((name) => /^feedback-dialog\.[0-9a-f]{10}\.js$/.test(name));
const langChunks = readdirSync(BUILT).filter((name) => /^feedback-lang-[a-z]+\.[0-9a-f]{10}\.js$/.test(name));
const sha = (content) => createHash('sha256').update(content).digest('hex').slice(0, 10);

test('one dialog chunk, named by its content, and the same under the stable name', () => {
  assert.equal(chunks.length, 1, chunks.join(', '));
  const [chunk] = chunks;
  const content = read(chunk);
  assert.equal(chunk.slice('feedback-dialog.'.length, -3), createHash('sha256').update(content).digest('hex').slice(0, 10));
  assert.equal(read('feedback-dialog.js'), content);
  assert.ok(read('feedback.js').includes(`"${chunk}"`), 'the loader asks for this chunk');
});

test(`the loader is at most ${LOADER_BUDGET} bytes gzipped`, () => {
  const size = gzipped('feedback.js');
  assert.ok(size <= LOADER_BUDGET, `${size} bytes gzipped`);
});

test(`the dialog chunk is at most ${DIALOG_BUDGET} bytes gzipped`, () => {
  const size = gzipped(chunks[0]);
  assert.ok(size <= DIALOG_BUDGET, `${size} bytes gzipped`);
});

test('ES2020 at most: no newer syntax or built-ins', () => {
  const newer = [/\?\?=|\|\|=|&&=/, /\d_\d/, /\.at\(/, /\.replaceAll\(/, /Object\.hasOwn/, /\.findLast/, /structuredClone/];
  for (const name of ['feedback.js', chunks[0], ...langChunks]) {
    for (const pattern of newer) assert.doesNotMatch(read(name), pattern, name);
  }
});

test('one chunk per language but English, named by its content, each named by the dialog chunk', () => {
  const sources = readdirSync(new URL('src/dialog/strings/', BUILT)).filter((name) => !['index.js', 'en.js'].includes(name));
  assert.deepEqual(langChunks.map((name) => name.split('.')[0]).sort(), sources.map((name) => `feedback-lang-${name.slice(0, -3)}`).sort());
  const dialog = read(chunks[0]);
  for (const name of langChunks) {
    assert.equal(name.split('.')[1], sha(read(name)), name);
    assert.ok(dialog.includes(`"${name}"`), `the dialog chunk asks for ${name}`);
  }
});

test(`each language chunk is at most ${LANGUAGE_BUDGET} bytes gzipped, and with the dialog chunk at most ${DIALOG_BUDGET}`, () => {
  const dialog = gzipped(chunks[0]);
  for (const name of langChunks) {
    const size = gzipped(name);
    assert.ok(size <= LANGUAGE_BUDGET, `${name}: ${size} bytes gzipped`);
    assert.ok(dialog + size <= DIALOG_BUDGET, `${name} with the dialog: ${dialog + size} bytes gzipped`);
  }
});
