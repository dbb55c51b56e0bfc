// WASI 0.2 in the Worker: an empty environment, stdout and stderr to the
// page's console, clocks and randomness from the browser, no filesystem and
// no stdin. Calls that would block (sleeping, reading stdin) return at once.

import { ClientStop } from "./client-stop.js";

/** Lines of stderr kept to explain a trap (a panic message). */
const STDERR_KEPT = 20;
const MAX_LINE = 4096;

/** A `result` error as jco expects it: thrown, with the WIT error as `payload`. */
const fail = (payload) => {
  throw { payload };
};

class IoError {
  constructor(message) {
    this.message = message;
  }
  toDebugString() {
    return this.message;
  }
}

class Pollable {
  ready() {
    return true;
  }
  block() {}
}

class InputStream {
  read() {
    fail({ tag: "closed" });
  }
  blockingRead() {
    fail({ tag: "closed" });
  }
  skip() {
    fail({ tag: "closed" });
  }
  blockingSkip() {
    fail({ tag: "closed" });
  }
  subscribe() {
    return new Pollable();
  }
}

/** Writes complete lines to `sink`; a partial line waits for its newline (or a flush). */
class OutputStream {
  constructor(sink) {
    this.sink = sink;
    this.decoder = new TextDecoder();
    this.pending = "";
  }
  checkWrite() {
    return 1n << 20n;
  }
  write(bytes) {
    this.pending += this.decoder.decode(bytes, { stream: true });
    const lines = this.pending.split("\n");
    this.pending = lines.pop();
    for (const line of lines) this.sink(line.slice(0, MAX_LINE));
    if (this.pending.length > MAX_LINE) this.flush();
  }
  blockingWriteAndFlush(bytes) {
    this.write(bytes);
  }
  flush() {
    if (this.pending) this.sink(this.pending.slice(0, MAX_LINE));
    this.pending = "";
  }
  blockingFlush() {}
  writeZeroes() {}
  blockingWriteZeroesAndFlush() {}
  splice() {
    fail({ tag: "closed" });
  }
  blockingSplice() {
    fail({ tag: "closed" });
  }
  subscribe() {
    return new Pollable();
  }
}

class Descriptor {
  constructor() {
    fail("unsupported");
  }
}
class DirectoryEntryStream {}
class TerminalInput {}
class TerminalOutput {}

function randomBytes(len) {
  const out = new Uint8Array(Number(len));
  for (let i = 0; i < out.length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

function randomU64() {
  return new DataView(randomBytes(8).buffer).getBigUint64(0);
}

function create(host) {
  const stderrTail = [];
  const stdout = new OutputStream((line) => host.log("info", line));
  const stderr = new OutputStream((line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_KEPT) stderrTail.shift();
    host.log("error", line);
  });
  const stdin = new InputStream();
  const start = performance.now();
  /** Ends the client, its last partial lines written out first. */
  const exit = (ok) => {
    stdout.flush();
    stderr.flush();
    throw new ClientStop("exit", ok ? "the client exited" : "the client exited with an error");
  };
  return {
    imports: {
      "wasi:cli/environment": { getEnvironment: () => [], getArguments: () => [], initialCwd: () => undefined },
      "wasi:cli/exit": {
        exit: (status) => exit(status.tag === "ok"),
        exitWithCode: (code) => exit(code === 0),
      },
      "wasi:cli/stdin": { getStdin: () => stdin },
      "wasi:cli/stdout": { getStdout: () => stdout },
      "wasi:cli/stderr": { getStderr: () => stderr },
      "wasi:cli/terminal-input": { TerminalInput },
      "wasi:cli/terminal-output": { TerminalOutput },
      "wasi:cli/terminal-stdin": { getTerminalStdin: () => undefined },
      "wasi:cli/terminal-stdout": { getTerminalStdout: () => undefined },
      "wasi:cli/terminal-stderr": { getTerminalStderr: () => undefined },
      "wasi:clocks/monotonic-clock": {
        now: () => BigInt(Math.round((performance.now() - start) * 1e6)),
        resolution: () => 1000n,
        subscribeInstant: () => new Pollable(),
        subscribeDuration: () => new Pollable(),
      },
      "wasi:clocks/wall-clock": {
        now() {
          const ms = Date.now();
          return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1e6 };
        },
        resolution: () => ({ seconds: 0n, nanoseconds: 1e6 }),
      },
      "wasi:filesystem/types": { Descriptor, DirectoryEntryStream, filesystemErrorCode: () => undefined },
      "wasi:filesystem/preopens": { getDirectories: () => [] },
      "wasi:io/error": { Error: IoError },
      "wasi:io/poll": { Pollable, poll: (list) => new Uint32Array(list.map((_, i) => i)) },
      "wasi:io/streams": { InputStream, OutputStream },
      "wasi:random/random": { getRandomBytes: randomBytes, getRandomU64: randomU64 },
      "wasi:random/insecure": { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
      "wasi:random/insecure-seed": { insecureSeed: () => [randomU64(), randomU64()] },
    },
    beforeCall() {
      // The panic message of a trap is what this call wrote to stderr.
      stderrTail.length = 0;
    },
    trapContext() {
      // Partial lines too, so a panic message is complete.
      stdout.flush();
      stderr.flush();
      return stderrTail.join("\n").trim();
    },
  };
}

export default {
  name: "wasi",
  interfaces: [
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
  ],
  versions: ["0.2"],
  create,
};
