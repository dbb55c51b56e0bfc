// lodge:app/frames in the Worker: asks the page for a tick every display
// frame, and says when each tick is done so the page sends the next.

export default {
  name: "frames",
  interfaces: ["lodge:app/frames"],
  versions: ["0.1"],
  create: (host) => ({
    imports: { "lodge:app/frames": { requestTicks: (on) => host.post({ type: "ticks", on }) } },
    afterCall(event) {
      if (event.tag === "tick") host.post({ type: "ticked" });
    },
  }),
};
