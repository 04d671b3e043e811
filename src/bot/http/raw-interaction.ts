import type { APIInteraction, Client } from 'discord.js';

/** The part of discord.js's (untyped) internals that turns a gateway INTERACTION_CREATE into an Interaction. */
interface ClientActions {
  actions: { InteractionCreate: { handle(data: APIInteraction): void } };
}

/**
 * Hands an interaction that arrived over HTTP to discord.js exactly as a gateway packet would be: the same
 * Interaction classes are built and the same Events.InteractionCreate listener (the router) runs, and replies go
 * through the Client's REST (the interaction callback and webhook endpoints). discord.js has no public entry for
 * this, so it is reached in this one place.
 */
export function emitRawInteraction(client: Client, payload: APIInteraction): void {
  (client as unknown as ClientActions).actions.InteractionCreate.handle(payload);
}
