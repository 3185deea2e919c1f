// The dialog's pure parts under Node: its languages and the preview of a correction.
// Run with: node --test tests/js/
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { pickFrom, withFallback } from '../../static/js/src/dialog/strings/index.js';
import { wordChange } from '../../static/js/src/dialog/preview.js';

const STRINGS_DIR = new URL('../../static/js/src/dialog/strings/', import.meta.url);
const LANGS = readdirSync(STRINGS_DIR)
  .filter((file) => file != 'index.js')
  .map((file) => file.replace(/\.js$/, ''));
const STRINGS = Object.fromEntries(
  await Promise.all(LANGS.map(async (lang) => [lang, (await import(new URL(`${lang}.js`, STRINGS_DIR))).default])),
);

describe('languages', () => {
  test('the twelve languages the dialog speaks, one file each', () => {
    assert.deepEqual(LANGS.sort(), ['ar', 'be', 'de', 'en', 'es', 'fr', 'he', 'it', 'pl', 'pt', 'ru', 'uk']);
  });

  test('every language has every string and every field code, none empty', () => {
    const english = STRINGS.en;
    for (const [lang, strings] of Object.entries(STRINGS)) {
      assert.deepEqual(Object.keys(strings).sort(), Object.keys(english).sort(), lang);
      assert.deepEqual(Object.keys(strings.codes).sort(), Object.keys(english.codes).sort(), lang);
      assert.equal(strings.kinds.length, 4, lang);
      const values = [...Object.values(strings).filter((v) => typeof v == 'string'), ...strings.kinds, ...Object.values(strings.codes)];
      for (const value of values) assert.ok(value.trim(), `${lang}: empty string`);
      assert.ok(strings.mail.includes('{email}'), `${lang}: the mail line names the address`);
    }
  });

  test('direction: right to left for Hebrew and Arabic only', () => {
    const rtl = Object.entries(STRINGS).filter(([, strings]) => strings.dir == 'rtl').map(([lang]) => lang);
    assert.deepEqual(rtl.sort(), ['ar', 'he']);
    for (const strings of Object.values(STRINGS)) assert.ok(['ltr', 'rtl'].includes(strings.dir));
  });

  test('language: data-lang, else the article, else the page, else English', () => {
    assert.equal(pickFrom(LANGS, 'uk', 'ru'), 'uk');
    assert.equal(pickFrom(LANGS, undefined, 'ru-RU'), 'ru');
    assert.equal(pickFrom(LANGS, 'xx', 'BE'), 'be');
    assert.equal(pickFrom(LANGS, '', 'be_BY'), 'be');
    assert.equal(pickFrom(LANGS, undefined, 'he-IL', 'en'), 'he');
    assert.equal(pickFrom(LANGS, undefined, 'pt-BR'), 'pt');
    assert.equal(pickFrom(LANGS, undefined, 'nl'), 'en');
    assert.equal(pickFrom(LANGS, undefined, ''), 'en');
  });

  test('a missing string or field code falls back to English', () => {
    const partial = withFallback({ title: 'Titel', codes: { too_long: 'Zu lang.' } });
    assert.equal(partial.title, 'Titel');
    assert.equal(partial.send, STRINGS.en.send);
    assert.equal(partial.codes.too_long, 'Zu lang.');
    assert.equal(partial.codes.invalid_email, STRINGS.en.codes.invalid_email);
  });
});

describe('preview of a correction', () => {
  test('nothing changed', () => {
    assert.equal(wordChange('then the', 'then the'), null);
  });

  test('one word changed, with the words around it', () => {
    assert.deepEqual(wordChange('faster then the timetable', 'faster than the timetable'), {
      lead: 'faster ',
      removed: 'then',
      added: 'than',
      trail: ' the timetable',
    });
  });

  test('long context is cut to three words each side', () => {
    const change = wordChange('one two three four five six seven eight nine', 'one two three four FIVE six seven eight nine');
    assert.equal(change.lead, '…two three four ');
    assert.equal(change.trail, ' six seven eight…');
    assert.equal(`${change.removed}→${change.added}`, 'five→FIVE');
  });

  test('words added or removed', () => {
    assert.deepEqual(wordChange('the ferry', 'the old ferry'), { lead: 'the ', removed: '', added: 'old ', trail: 'ferry' });
    assert.deepEqual(wordChange('a very big ship', 'a big ship'), { lead: 'a ', removed: 'very ', added: '', trail: 'big ship' });
  });
});
