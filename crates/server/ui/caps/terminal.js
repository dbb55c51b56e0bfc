// lodge:app/terminal in the Worker: the text grid's size, and drawing
// batched into one "draw" message per call for the page's Terminal.

export default {
  name: "terminal",
  interfaces: ["lodge:app/terminal"],
  versions: ["0.1"],
  create(host) {
    let { size } = host.start;
    let ops = [];
    return {
      imports: {
        "lodge:app/terminal": {
          size: () => ({ ...size }),
          clear: (bg) => ops.push(["clear", bg]),
          write: (col, row, text, fg, bg) => ops.push(["write", col, row, text, fg, bg]),
        },
      },
      beforeCall(event) {
        if (event.tag === "resize") size = event.val;
      },
      flush() {
        if (!ops.length) return;
        host.post({ type: "draw", ops });
        ops = [];
      },
    };
  },
};
