import type { Command } from 'commander';
import { createApiClient } from '../../server/api-client.js';
import { currentLogin, forgetLogin, saveLogin } from '../login-store.js';
import { deviceLogin, loopbackLogin, signOut } from '../provider-login.js';
import { printJson } from '../output.js';
import { serverUrl } from '../server-url.js';
import { action, api, useLogin } from '../run.js';

export function accountCommands(program: Command): void {
  program
    .command('login')
    .description('sign in: with the identity provider in your browser (default), --device on a host without one, or --token for a machine; saved to ~/.config/airlock/login.json (0600)')
    .requiredOption('--server <url>', 'the Airlock server, e.g. http://127.0.0.1:8700')
    .option('--token <token>', 'an API token (from `airlock tokens issue`) instead of the identity provider')
    .option('--device', 'sign in on another device (device authorization grant): prints a URL and a code')
    .option('--no-browser', 'print the sign-in URL instead of opening a browser')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { server: string; token?: string; device?: boolean; browser: boolean; json?: boolean }) => {
        const server = serverUrl(opts.server, '--server');
        let token = opts.token;
        if (!token) {
          const say = (line: string) => console.error(line);
          token = (opts.device ? await deviceLogin(server, { say }) : await loopbackLogin(server, { browser: opts.browser, say })).token;
        }
        useLogin({ server, token, serverFrom: '--server', tokenFrom: opts.token ? 'the API token given with --token' : 'the sign-in' });
        const me = await createApiClient(server, token).whoami();
        const file = saveLogin({ server, token });
        if (opts.json) printJson({ ...me, server, saved_to: file });
        else console.log(`logged in to ${server} as ${me.user} (groups: ${me.groups.join(', ') || 'none'}); saved to ${file}`);
      }),
    );

  program
    .command('logout')
    .description('end your sign-in on the server and forget the saved token')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const login = currentLogin();
        useLogin(login);
        const { server, token } = login;
        const signedIn = /^airlock_sin_/.test(token);
        if (signedIn) await signOut(server, token);
        forgetLogin();
        const note = signedIn ? 'signed out' : 'forgot the saved API token (it stays valid until revoked: airlock tokens revoke ID)';
        if (opts.json) printJson({ server, signed_out: signedIn });
        else console.log(`${server}: ${note}`);
      }),
    );

  program
    .command('whoami')
    .description('who the saved token belongs to')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const me = await api().whoami();
        if (opts.json) printJson(me);
        else console.log(`${me.user} (groups: ${me.groups.join(', ') || 'none'})${me.admin ? ', admin' : ''}`);
      }),
    );
}
