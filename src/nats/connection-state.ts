/** What the rest of the service may know of the NATS connection. */
export class ConnectionState {
  connected = false;
  /** Node names whose bootstrap request went unanswered (no responder, timeout). */
  readonly bootstrapFailures = new Map<string, number>();
}
