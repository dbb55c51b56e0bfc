// lodge:app/frames in the Worker: frame events on request. A 0.1 client's
// ticks come from the page, which is told when each is done so it sends
// the next; a 0.2 client's frames come from the Worker's frame loop.

export default {
  name: "frames",
  interfaces: ["lodge:app/frames"],
  versions: ["0.1"],
  create: (host) => ({
    imports: { "lodge:app/frames": { requestTicks: (on) => host.requestFrames(on) } },
    afterCall(event) {
      if (event.tag === "tick") host.post({ type: "ticked" });
    },
  }),
};
