import type { Directory, Role } from '../core/model.js';

/** Every environment variable a role's upstream credential is read from. */
function credentialVariables(role: Role): Set<string> {
  const http = role.http?.credential;
  const names = [
    role.credential?.passwordEnv,
    http?.kind === 'basic' ? http.passwordEnv : http?.kind === 'bearer' ? http.tokenEnv : http?.kind === 'header' ? http.valueEnv : undefined,
  ];
  return new Set(names.filter((n): n is string => Boolean(n)));
}

/**
 * One warning per credential variable (`password_env`; for HTTP roles also
 * `bearer_env`, `value_env`) that is unset or empty in `env`,
 * naming every resource and role that reads it. Not an error: the config is
 * valid and the variable may be set where the server runs, but a role without
 * its password fails only when someone connects, long after start-up.
 * Pure: the caller prints the lines (config check, server start).
 */
export function missingCredentialWarnings(directory: Directory, env: Readonly<Record<string, string | undefined>>): string[] {
  const readers = new Map<string, string[]>();
  for (const resource of directory.resources.values()) {
    for (const role of resource.roles.values()) {
      for (const variable of credentialVariables(role)) {
        if (env[variable]) continue;
        const list = readers.get(variable) ?? [];
        list.push(`role "${role.name}" on ${resource.name}`);
        readers.set(variable, list);
      }
    }
  }
  return [...readers].map(([variable, roles]) => {
    const state = env[variable] === undefined ? 'is not set' : 'is empty';
    const who = roles.length === 1 ? roles[0]! : `${roles.slice(0, -1).join(', ')} and ${roles.at(-1)!}`;
    return `warning: ${variable} ${state}: ${who} will fail to log in upstream until it holds the credential's secret`;
  });
}
