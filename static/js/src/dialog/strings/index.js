// The dialog's languages, one file each in this folder. English is bundled into the dialog
// chunk; the build makes each other file a small chunk of its own, fetched with the dialog
// (docs/snippet.md has the sizes behind that choice). To add a language, add its file.
import { STRINGS_KEY } from '../../shared/interface.js';
import en from './en.js';

/* global __LANG_FILES__ */
// Set by the build (scripts/build-snippet.mjs): each language's chunk file by its tag.
const FILES = typeof __LANG_FILES__ == 'object' ? __LANG_FILES__ : {};
export const LANGS = ['en', ...Object.keys(FILES)];

// A language that has not come within this long is shown in English.
const WAIT_MS = 3000;

/** The first tag naming a language of `known` ("ru-RU" counts as "ru"), else English. */
export const pickFrom = (known, ...tags) =>
  tags.map((tag) => (tag || '').toLowerCase().split(/[-_]/)[0]).find((tag) => known.includes(tag)) || 'en';

/** The dialog's language for these tags, most specific first. */
export const pickLang = (...tags) => pickFrom(LANGS, ...tags);

/** Strings with English for whatever `own` lacks, field codes' wording included. */
export const withFallback = (own) => ({ ...en, ...own, codes: { ...en.codes, ...own.codes } });

const loading = { en: Promise.resolve(en) };

/**
 * The strings of `lang`: its chunk beside `base` (the dialog chunk's URL, whose ?v= it
 * keeps), loaded once; English when it cannot be had in time.
 */
export function loadStrings(lang, base) {
  if (!loading[lang]) {
    loading[lang] = new Promise((resolve) => {
      const d = document;
      const script = d.createElement('script');
      const url = new URL(FILES[lang], base);
      url.search = new URL(base).search;
      script[STRINGS_KEY] = resolve;
      script.src = url.href;
      script.async = true;
      script.onerror = () => resolve(en);
      setTimeout(resolve, WAIT_MS, en);
      d.head.append(script);
    }).then((strings) => {
      // A failed try is tried again next time.
      if (strings == en) delete loading[lang];
      return withFallback(strings);
    });
  }
  return loading[lang];
}
