import { authenticateToken } from '../core/tokens.js';
import type { User } from '../core/model.js';
import { isAuditor } from '../core/visibility.js';
import type { Caller, ControlPlane } from './context.js';
import { isSignInToken } from './sign-in.js';

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
  if (cp.identity.signIn && isSignInToken(presented)) {
    const { user, sessionId } = await cp.identity.signIn.authenticate(presented);
    return { user, caller: { kind: 'session', id: sessionId, scope: isAuditor(cp.identity.visibility, user) ? 'read' : 'admin' } };
  }
  const { user, token } = await authenticateToken(cp.store, cp.clock, cp.identity.users, presented);
  const scope = isAuditor(cp.identity.visibility, user) ? 'read' : token.scope;
  return { user, caller: { kind: 'token', id: token.id, scope } };
}
