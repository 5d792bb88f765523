// Port-scan detector (the same in every language of examples/scan/): counts the
// distinct responder ports (TCP and UDP) each originator reached, over
// connection_state_remove, and writes one scan.log line when an originator
// reaches THRESHOLD ports.

import { Stream, addr, networkTime } from './weir.js';

// Distinct responder ports at which an originator counts as a scanner.
const THRESHOLD = 20;

const scan = new Stream('scan', [
  ['ts', 'time'], ['uid', 'string'], ['scanner', 'addr'], ['ports', 'count'],
  ['victim', 'addr'], ['port', 'port'], ['note', 'enum'],
]);

// Originator (as text) → distinct "port/transport" keys seen.
const seen = new Map();

export const connectionStateRemove = {
  connectionStateRemove(c) {
    const p = c.id.respP;
    if (p.proto !== 'tcp' && p.proto !== 'udp') return;
    const key = addr(c.id.origH);
    let ports = seen.get(key);
    if (ports === undefined) {
      ports = new Set();
      seen.set(key, ports);
    }
    ports.add(`${p.number}/${p.proto}`);
    if (ports.size === THRESHOLD) {
      scan.write([networkTime(), c.uid, c.id.origH, ports.size, c.id.respH, p, 'Scan::Port_Scan']);
    }
  },
};
