// Hostile handler: allocates without bound in new_connection (stopped by the memory cap).

const keep = [];

export const newConnection = {
  newConnection(c) {
    for (;;) {
      keep.push(new Array(1 << 16).fill(c.id.origP.number));
    }
  },
};
