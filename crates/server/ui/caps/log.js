// lodge:app/log in the Worker: log lines for the page's console.

const MAX_LINE = 4096;

export default {
  name: "log",
  interfaces: ["lodge:app/log"],
  versions: ["0.1"],
  capability: "log",
  grantedByWorld: true,
  create: (host) => ({
    imports: { "lodge:app/log": { write: (level, message) => host.log(level, String(message).slice(0, MAX_LINE)) } },
  }),
};
