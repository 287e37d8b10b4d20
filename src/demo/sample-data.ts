/** A small, realistic shop schema for the demo: enough to query, join, be refused a write and a secret table. */
export const SAMPLE_SCHEMA = `
create table customers (
  id serial primary key,
  email text not null unique,
  name text not null,
  country text not null,
  created_at timestamptz not null default now()
);
create table orders (
  id serial primary key,
  customer_id int not null references customers(id),
  status text not null check (status in ('pending','paid','shipped','refunded')),
  total_cents int not null,
  created_at timestamptz not null
);
create table order_items (
  order_id int not null references orders(id),
  sku text not null,
  quantity int not null,
  price_cents int not null
);
create table payment_tokens (
  customer_id int not null references customers(id),
  provider text not null,
  token text not null
);
`;

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger', 'Radia', 'Donald', 'Sophie'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman', 'Knuth', 'Wilson'];
const COUNTRIES = ['DE', 'US', 'FR', 'JP', 'BR', 'IN', 'GB', 'NL'];
const SKUS = ['mug-black', 'tee-m', 'tee-l', 'hoodie-xl', 'sticker-pack', 'notebook-a5'];
const STATUSES = ['pending', 'paid', 'paid', 'shipped', 'shipped', 'shipped', 'refunded'];

/** Deterministic rows (no Math.random): the demo prints the same data every run. */
export function sampleRows(): string {
  const statements: string[] = [];
  for (let i = 0; i < 48; i++) {
    const first = FIRST[i % FIRST.length]!;
    const last = LAST[(i * 5) % LAST.length]!;
    statements.push(
      `insert into customers (email, name, country, created_at) values ('${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com', '${first} ${last}', '${COUNTRIES[i % COUNTRIES.length]}', now() - interval '${400 - i * 7} days');`,
    );
    statements.push(`insert into payment_tokens values (${i + 1}, 'stripe', 'tok_demo_${(i * 7919).toString(36)}');`);
  }
  for (let o = 0; o < 200; o++) {
    const items = 1 + (o % 3);
    let total = 0;
    const lines: string[] = [];
    for (let k = 0; k < items; k++) {
      const price = 500 + ((o * 37 + k * 101) % 4000);
      const qty = 1 + ((o + k) % 2);
      total += price * qty;
      lines.push(`insert into order_items values (${o + 1}, '${SKUS[(o + k) % SKUS.length]}', ${qty}, ${price});`);
    }
    statements.push(
      `insert into orders (customer_id, status, total_cents, created_at) values (${1 + ((o * 7) % 48)}, '${STATUSES[o % STATUSES.length]}', ${total}, now() - interval '${(200 - o) * 3} hours');`,
      ...lines,
    );
  }
  return statements.join('\n');
}
