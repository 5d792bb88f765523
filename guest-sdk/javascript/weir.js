// Helpers for weir handlers written in JavaScript. The bindings are generated
// from weir's WIT by jco at every build; this module (bundled next to app.js)
// adds what makes them pleasant:
//
//   new Stream(name, columns)  a log stream with Zeek column types; write(values)
//                              takes plain values (null/undefined = unset)
//   addr(a)                    an ip-address as text ("10.0.0.1", "2001:db8::1")
//   portStr(p)                 "80/tcp"
//   networkTime(), info(), warning(), error()

import { createStream, write } from 'weir:events/log@0.1.0';
import { networkTime } from 'weir:events/runtime@0.1.0';
import { info, warning, error } from 'weir:events/reporter@0.1.0';

export { networkTime, info, warning, error };

// Zeek column type → WIT log-type (and log-value case).
const TYPES = {
  'bool': 'bool', 'count': 'count', 'int': 'int', 'double': 'double', 'time': 'time',
  'interval': 'interval', 'string': 'string', 'addr': 'addr', 'port': 'port', 'enum': 'enum',
  'set[string]': 'set-of-string', 'vector[string]': 'vector-of-string',
};

/** An ip-address variant as text, as Zeek writes it. */
export function addr(a) {
  if (a.tag === 'ipv4') return a.val.join('.');
  // RFC 5952: lowercase hex, the longest run (>= 2) of zero groups as "::".
  const g = a.val;
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return hex(g.slice(0, best)) + '::' + hex(g.slice(best + bestLen));
}

/** A port record as "80/tcp". */
export function portStr(p) {
  return `${p.number}/${p.proto}`;
}

/** A log stream (file <name>.log) with typed columns, created on first write. */
export class Stream {
  /** columns: [[name, type], ...], types as in Zeek: 'count', 'time', 'addr', 'set[string]', ... */
  constructor(name, columns) {
    for (const [col, t] of columns) {
      if (!(t in TYPES)) throw new Error(`column ${col}: unknown type ${t}`);
    }
    this.name = name;
    this.columns = columns;
    this.tags = columns.map(([, t]) => TYPES[t]);
    this.id = undefined;
    this.failed = false;
  }

  /** Writes one record: one value per column, in order; null or undefined is unset. */
  write(values) {
    if (this.id === undefined) {
      if (this.failed) return;
      try {
        this.id = createStream(this.name, this.columns.map(([name, t]) => ({ name, type: TYPES[t] })));
      } catch (e) {
        this.failed = true;
        error(`cannot create log ${this.name}: ${e.payload ?? e}`);
        return;
      }
    }
    if (values.length !== this.tags.length) {
      throw new Error(`${this.name}: ${values.length} values for ${this.tags.length} columns`);
    }
    write(this.id, values.map((v, i) => (v === null || v === undefined ? { tag: 'unset' } : { tag: this.tags[i], val: v })));
  }
}
