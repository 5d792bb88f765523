// {{name}}: a weir handler. Writes one line per connection to {{name}}.log.
//
// Each event interface exported in world.wit is an exported object here, named
// after the interface in camelCase (connection-state-remove -> connectionStateRemove),
// with one method of the same name.

import { Stream } from './weir.js';

const log = new Stream('{{name}}', [
  ['ts', 'time'], ['uid', 'string'], ['orig_h', 'addr'], ['resp_p', 'port'], ['history', 'string'],
]);

export const connectionStateRemove = {
  connectionStateRemove(c) {
    log.write([c.startTime, c.uid, c.id.origH, c.id.respP, c.history]);
  },
};
