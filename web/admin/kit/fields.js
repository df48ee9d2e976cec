// Forms described as data: a list of field specs whose names are the request body's
// paths ("name", "routingPolicy.routingMode"), so a server error naming a field finds
// the control it belongs to.

import { field, valueOf } from "/shared/form.js";

/** Sets `path` ("a.b.c") in `target` to `value`. */
export function setPath(target, path, value) {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key];
  }
  node[keys.at(-1)] = value;
}

/** Reads `path` ("a.b.c") from `source`, undefined when missing. */
export function getPath(source, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), source);
}

/**
 * Fields from specs (see shared/form.js `field`); each spec may add `get(row)` for its
 * initial value (default: the row's value at `name`, else `spec.value`) and
 * `put(value)` to turn the control's value into the body's (e.g. "" → null).
 * Returns {nodes, collect(), controls}: collect() builds the request body.
 */
export function specForm(specs, row) {
  const made = specs.map((spec) => {
    const initial = spec.get ? spec.get(row) : row ? getPath(row, spec.name) : undefined;
    const wrapper = field({ ...spec, value: initial ?? spec.value });
    return { spec, wrapper };
  });
  return {
    nodes: made.map((m) => m.wrapper),
    controls: Object.fromEntries(made.map((m) => [m.spec.name, m.wrapper.control])),
    collect() {
      const body = {};
      for (const { spec, wrapper } of made) {
        if (spec.skip) continue;
        const value = valueOf(wrapper.control);
        setPath(body, spec.name, spec.put ? spec.put(value) : value);
      }
      return body;
    },
  };
}

/**
 * Runs `call` (a request of a sub-resource saved after the form's own, such as a
 * queue's thresholds); a field error it answers is re-named under `prefix`
 * ("thresholds.<field>") so it shows at the control of that name.
 */
export async function under(prefix, call) {
  try {
    return await call();
  } catch (err) {
    err.field = err.field ? `${prefix}.${err.field}` : prefix;
    throw err;
  }
}

/** "" → null, for optional text and number fields. */
export const emptyToNull = (value) => (value === "" ? null : value);

/** Options for a select from rows: [[id, name]], with an optional first "none" entry. */
export function optionsOf(rows, { none, label = (r) => r.name, value = (r) => r.id } = {}) {
  const options = rows.map((r) => [value(r), label(r)]);
  return none === undefined ? options : [["", none], ...options];
}
