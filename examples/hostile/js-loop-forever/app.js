// Hostile handler: spins forever in new_connection (stopped by fuel).

export const newConnection = {
  newConnection(c) {
    let x = c.id.origP.number;
    for (;;) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
    }
  },
};
