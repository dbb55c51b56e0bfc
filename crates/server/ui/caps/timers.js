// lodge:app/timers in the Worker: one-shot timers that come back as events.

const MAX_TIMERS = 1024;
/** The longest delay setTimeout keeps (about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1;

export default {
  name: "timers",
  interfaces: ["lodge:app/timers"],
  versions: ["0.1"],
  capability: "timers",
  grantedByWorld: true,
  create(host) {
    const timers = new Map();
    let nextId = 1n;
    return {
      imports: {
        "lodge:app/timers": {
          set(afterMs, tag) {
            if (timers.size >= MAX_TIMERS) return undefined;
            const id = nextId++;
            timers.set(id, setTimeout(() => {
              timers.delete(id);
              host.deliver({ tag: "timer", val: tag });
            }, Math.min(Number(afterMs), MAX_DELAY_MS)));
            return id;
          },
          cancel(id) {
            const timer = timers.get(id);
            if (timer === undefined) return false;
            clearTimeout(timer);
            timers.delete(id);
            return true;
          },
        },
      },
      dispose() {
        for (const timer of timers.values()) clearTimeout(timer);
        timers.clear();
      },
    };
  },
};
