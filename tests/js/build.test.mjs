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

const chunks = readdirSync(BUILT).filter((name) => /^feedback-dialog\.[0-9a-f]{10}\.js$/.test(name));

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
  for (const name of ['feedback.js', chunks[0]]) {
    for (const pattern of newer) assert.doesNotMatch(read(name), pattern, name);
  }
});
