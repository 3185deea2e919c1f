// JSON text of plain data (objects, arrays, strings, numbers, booleans, null), without the
// page's JSON.stringify: old libraries replace it, or add Array.prototype.toJSON, which
// turns every array into a string.
const CONTROL = /["\\\u0000-\u001f]/g;
const escape = (c) => `\\u${(c.charCodeAt(0) | 0x10000).toString(16).slice(1)}`;

/** The JSON text of `value`; undefined members are left out, as JSON.stringify does. */
export function toJson(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return `"${value.replace(CONTROL, escape)}"`;
    case 'number':
      return isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      let out = '';
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) out += `${i ? ',' : ''}${toJson(value[i]) ?? 'null'}`;
        return `[${out}]`;
      }
      for (const key of Object.keys(value)) {
        const item = toJson(value[key]);
        if (item !== undefined) out += `${out ? ',' : ''}${toJson(key)}:${item}`;
      }
      return `{${out}}`;
    }
    default:
      return undefined; // functions, undefined
  }
}
