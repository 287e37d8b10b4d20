import { authenticateToken } from '../core/tokens.js';
import type { User } from '../core/model.js';
import { isAuditor } from '../core/visibility.js';
import type { Caller, ControlPlane } from './context.js';

export interface Identified {
  readonly user: User;
  readonly caller: Caller;
}

/**
 * Who presents this credential, checked against the store on every call.
 * Auditors are read-only whatever credential they use: they see everything
 * and change nothing.
 */
export async function identifyCaller(cp: ControlPlane, presented: string): Promise<Identified> {
  const { user, token } = await authenticateToken(cp.store, cp.clock, cp.identity.users, presented);
  const scope = isAuditor(cp.identity.visibility, user) ? 'read' : token.scope;
  return { user, caller: { kind: 'token', id: token.id, scope } };
}
