// lodge:app/server in the Worker: messages to the room, sent by the page.

export default {
  name: "server",
  interfaces: ["lodge:app/server"],
  versions: ["0.1"],
  create: (host) => ({
    imports: { "lodge:app/server": { send: (payload) => host.post({ type: "send", payload }) } },
  }),
};
