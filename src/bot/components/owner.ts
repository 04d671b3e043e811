import { HairError } from '../../shared/index.js';

/** Buttons carry no permissions: only the member who asked may act on a job. */
export function assertOwner(interaction: { user: { id: string } }, ownerId: string): void {
  if (interaction.user.id !== ownerId) throw new HairError('NOT_OWNER');
}
