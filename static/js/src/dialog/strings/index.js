// The dialog's languages, one file each. To add one, add its file and a line here.
import be from './be.js';
import en from './en.js';
import ru from './ru.js';
import uk from './uk.js';

export const STRINGS = { en, ru, uk, be };

/** The first tag naming a known language ("ru-RU" counts as "ru"), else English. */
export const pickLang = (...tags) =>
  tags.map((tag) => (tag || '').toLowerCase().split(/[-_]/)[0]).find((tag) => STRINGS[tag]) || 'en';

/** The strings of `lang`; a missing key falls back to English. */
export const stringsFor = (lang) => ({ ...en, ...STRINGS[lang] });

/** The direction of `lang`'s script: the dialog follows its own language, not the page. */
export const dirOf = (lang) => (/^(ar|fa|he|ur|yi)$/.test(lang) ? 'rtl' : 'ltr');
