// The error a host module throws to stop the client for a reason of its own.

/** Stops the client with a fault `kind` ("exit", …) that the page shows. */
export class ClientStop extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}
