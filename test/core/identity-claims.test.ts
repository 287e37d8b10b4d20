import { describe, expect, it } from 'vitest';
import { userFromClaims, type ClaimRules } from '../../src/core/identity-claims.js';

const rules = (map: Record<string, string[]> = {}, usernameClaim = 'email'): ClaimRules => ({ usernameClaim, groupsClaim: 'groups', groupsMap: new Map(Object.entries(map)) });

describe('a user from identity-provider claims', () => {
  it('names the user by the configured claim and maps provider groups to Airlock groups, dropping unmapped ones', () => {
    const u = userFromClaims(rules({ 'eng-oncall': ['oncall'], platform: ['engineering', 'oncall'] }), {
      sub: 'abc', email: 'alice@example.com', email_verified: true, groups: ['platform', 'eng-oncall', 'Domain Users'],
    });
    expect(u).toEqual({ name: 'alice@example.com', groups: ['engineering', 'oncall'], subject: 'abc' });
  });

  it('uses provider group names as they are when there is no map, skipping names policies could not spell', () => {
    expect(userFromClaims(rules({}, 'preferred_username'), { sub: 'x', preferred_username: 'bob', groups: ['sre', 'Domain Users'] }).groups).toEqual(['sre']);
  });

  it('refuses a missing username claim, an unverified email, and Entra ID\'s groups overage pointer', () => {
    expect(() => userFromClaims(rules(), { sub: 'x' })).toThrow(expect.objectContaining({ code: 'oidc_no_username' }));
    expect(() => userFromClaims(rules(), { sub: 'x', email: 'mallory@example.com', email_verified: false })).toThrow(expect.objectContaining({ code: 'oidc_email_unverified' }));
    expect(() => userFromClaims(rules(), { sub: 'x', email: 'a@example.com', _claim_names: { groups: 'src1' } })).toThrow(expect.objectContaining({ code: 'oidc_groups_overage' }));
    expect(() => userFromClaims(rules(), { sub: 'x', email: 'has space@example.com' })).toThrow(expect.objectContaining({ code: 'oidc_no_username' }));
  });
});
