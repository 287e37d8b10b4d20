/** The demo's airlock.yaml: the README's example pointed at the embedded database. */
export function demoConfig(opts: { dbPort: number; passwordEnv: string; apiListen: string; gatewayListen: string }): string {
  return `# Written by \`airlock demo\`. Every role signs in to the embedded database with the password the demo makes at each start (in ${opts.passwordEnv}, set only inside the demo process).
server:
  listen: ${opts.apiListen}
store: sqlite:airlock.db
review_timeout: 30m
users:
  - { name: alice, groups: [oncall, engineering] }
  - { name: bob,   groups: [sre-leads, engineering] }
  - { name: carol, groups: [sre-leads] }
  - { name: root,  groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: orders-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: ${opts.dbPort}, database: postgres }
    labels: { env: prod, team: payments }
    max_duration: 4h
    roles:
      read:
        credential: { user: postgres, password_env: ${opts.passwordEnv} }
        allow: [read]
        tables: ["public.*"]
        deny_tables: ["public.payment_tokens"]
      write:
        credential: { user: postgres, password_env: ${opts.passwordEnv} }
        allow: [read, write]
        deny_tables: ["public.payment_tokens"]
policies:
  - name: oncall-reads-prod
    who: { groups: [oncall] }
    resources: { labels: { env: prod } }
    roles: [read]
    max_duration: 1h
    approval: none
  - name: writes-need-a-lead
    who: { groups: [engineering] }
    resources: { names: [orders-db] }
    roles: [write]
    max_duration: 2h
    approval: { count: 1, from: { groups: [sre-leads] } }
    require: { reason: true, ticket: "^(INC|CHG)-[0-9]+$" }
gateway:
  postgres:
    listen: ${opts.gatewayListen}
    tls: self-signed
`;
}
