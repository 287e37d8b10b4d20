/**
 * The one query the gateway runs on every new upstream session, right after
 * startup and before the relay starts, to learn what the statement text does
 * not say: which names in this database are user code that PostgreSQL can
 * run without a call by name (attribute notation, operators, casts to
 * domains and types, views, the operator classes that ORDER BY, DISTINCT
 * and the like compare through). See catalog-facts.ts for how it is used.
 *
 * "System" means the pg_catalog and information_schema namespaces; anything
 * else, and anything an extension installed (even into pg_catalog), counts
 * as user code. It runs as the role's upstream login, so it sees what that
 * login can see, which is what that login's statements can reach.
 *
 * It runs in its own READ ONLY transaction with search_path set to
 * pg_catalog, pg_temp, so no user object on the login's search_path (an
 * operator named =, a function named json_agg) can run inside it, and
 * format_type() qualifies every user type it names. It costs no extra round
 * trip (it is sent together with the search_path query) and, measured on
 * PostgreSQL 15, some 30-40 ms on a fresh backend for a small database,
 * about a quarter of it the new backend opening a dozen catalogs and much
 * of the rest planning; the node-tree scan grows with the size of the
 * views' definitions (about 90 ms with 100 views and six extensions); the
 * operator-class part adds 2-5 ms on a small database and 6-9 ms with nine
 * extensions that bring their own classes (citext, hstore, isn, ltree, …). Node trees of views,
 * row-security policies and domain constraints are read as text: the field
 * names used here (:relid, :funcid, :opno, :resulttype, …) have been stable
 * since PostgreSQL 9.x; a tree this does not understand yields fewer facts,
 * which is why view and policy functions are only one of several lines.
 *
 * The answer is eight rows of one JSON column, in order
 * `functions, systemOneArgNames, operators, types, casts, typedColumns, owners, classTypes`
 * (shapes in catalog-facts.ts, `RawCatalog`; classTypes in catalog-classes.ts).
 */

/** No SQL value converts to `internal`: a function taking one (a handler, a support function) cannot be reached by attribute notation. */
const NOT_INTERNAL = `not ('pg_catalog.internal'::regtype = any (p.proargtypes::oid[]))`;

const USER_PROC = `(p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
      or p.oid in (select objid from pg_depend where classid = 'pg_proc'::regclass and deptype = 'e'))`;

/** One statement per array of the answer; each returns one row, one JSON text column. */
const PARTS: readonly string[] = [
  // functions
  `select (select coalesce(json_agg(json_build_array(n.nspname, p.proname, p.pronargs >= 1 and p.pronargs - p.pronargdefaults <= 1 and ${NOT_INTERNAL})
          order by n.nspname, p.proname, p.oid), '[]')
   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where ${USER_PROC})::text`,
  // systemOneArgNames
  `select (select coalesce(json_agg(distinct p.proname), '[]')
   from pg_proc p
   where p.pronamespace in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
     and p.pronargs >= 1 and p.pronargs - p.pronargdefaults <= 1 and ${NOT_INTERNAL}
     and p.oid not in (select objid from pg_depend where classid = 'pg_proc'::regclass and deptype = 'e'))::text`,
  // operators
  `select (select coalesce(json_agg(json_build_array(o.oid::int8, n.nspname, o.oprname, o.oprleft::int8, o.oprright::int8,
          format('%s.%s(%s, %s)', quote_ident(n.nspname), o.oprname,
                 case when o.oprleft = 0 then 'none' else format_type(o.oprleft, null) end,
                 case when o.oprright = 0 then 'none' else format_type(o.oprright, null) end),
          exists (select 1 from pg_operator b where b.oprnamespace = 'pg_catalog'::regnamespace and b.oid <> o.oid
                    and b.oprname = o.oprname and b.oprleft = o.oprleft and b.oprright = o.oprright),
          exists (select 1 from pg_operator b where b.oprnamespace = 'pg_catalog'::regnamespace and b.oid <> o.oid
                    and b.oprname = o.oprname and b.oprleft = o.oprleft and b.oprright = o.oprleft),
          exists (select 1 from pg_operator b where b.oprnamespace = 'pg_catalog'::regnamespace and b.oid <> o.oid
                    and b.oprname = o.oprname and b.oprleft = o.oprright and b.oprright = o.oprright)
        ) order by o.oid), '[]')
   from pg_operator o join pg_namespace n on n.oid = o.oprnamespace join pg_proc p on p.oid = o.oprcode
   where n.nspname not in ('pg_catalog', 'information_schema') or ${USER_PROC}
      or o.oid in (select objid from pg_depend where classid = 'pg_operator'::regclass and deptype = 'e'))::text`,
  // types
  `select (with ufn as (select p.oid from pg_proc p where ${USER_PROC}),
       utype as (select t.oid from pg_type t
                  where t.typnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
                     or t.oid in (select objid from pg_depend where classid = 'pg_type'::regclass and deptype = 'e')),
       referenced as (select oprleft as oid from pg_operator union select oprright from pg_operator
                      union select castsource from pg_cast union select casttarget from pg_cast),
       attrs as (select c.reltype, a.atttypid from pg_attribute a join pg_class c on c.oid = a.attrelid
                  where a.attnum > 0 and not a.attisdropped and c.reltype <> 0 and a.atttypid in (select oid from utype)),
       kept as (select t.oid from pg_type t where t.oid in (select oid from utype) and (
                  (t.typtype in ('b', 'd', 'e', 'r', 'm') and not (t.typelem <> 0 and t.typlen = -1))
                  or (t.typtype = 'c' and (t.oid in (select reltype from attrs) or t.oid in (select oid from referenced))))),
       parts as (select x.oid, json_agg(distinct x.part::int8) as j
                   from (select reltype as oid, atttypid as part from attrs
                         union all select rngtypid, rngsubtype from pg_range union all select rngmultitypid, rngtypid from pg_range) x
                  where x.part in (select oid from utype) group by x.oid)
  select coalesce(json_agg(json_build_array(t.oid::int8, n.nspname, t.typname, t.typtype,
           (case when t.typtype = 'd' then t.typbasetype else 0 end)::int8,
           (case when t.typelem <> 0 and t.typlen = -1 then t.typelem else 0 end)::int8,
           coalesce(x.j, '[]'),
           t.typinput in (select oid from ufn) or t.typreceive in (select oid from ufn) or t.typmodin in (select oid from ufn)
             or t.oid in (select rngtypid from pg_range where rngcanonical in (select oid from ufn) or rngsubdiff in (select oid from ufn))
             -- a range's input compares its bounds through its subtype's operator class
             or t.oid in (select r.rngtypid from pg_range r join pg_opclass oc on oc.oid = r.rngsubopc
                           where exists (select 1 from pg_amproc ap where ap.amprocfamily = oc.opcfamily and ap.amproclefttype = oc.opcintype
                                           and ap.amproc in (select oid from ufn))
                              or exists (select 1 from pg_amop ao join pg_operator o on o.oid = ao.amopopr
                                          where ao.amopfamily = oc.opcfamily and ao.amoplefttype = oc.opcintype and o.oprcode in (select oid from ufn)))
         ) order by t.oid), '[]')
  from pg_type t join pg_namespace n on n.oid = t.typnamespace left join parts x on x.oid = t.oid
  where t.oid in (select oid from kept) or (t.typelem in (select oid from kept) and t.typlen = -1))::text`,
  // casts
  `select (select coalesce(json_agg(json_build_array(c.castsource::int8, c.casttarget::int8, n.nspname, t.typname, c.castcontext,
          coalesce(${USER_PROC}, false)) order by c.oid), '[]')
   from pg_cast c left join pg_proc p on p.oid = c.castfunc join pg_type t on t.oid = c.casttarget join pg_namespace n on n.oid = t.typnamespace
   where ${USER_PROC}
      or (c.castcontext = 'i' and (t.typnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
          or t.oid in (select objid from pg_depend where classid = 'pg_type'::regclass and deptype = 'e'))))::text`,
  // typedColumns
  `select (select coalesce(json_agg(json_build_array(c.relname, a.attname, a.atttypid::int8) order by c.relname, a.attnum), '[]')
   from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_type t on t.oid = a.atttypid
   where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'v', 'm', 'f', 'p', 'c')
     and (t.typnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
          or t.oid in (select objid from pg_depend where classid = 'pg_type'::regclass and deptype = 'e')))::text`,
  // owners
  `select (with trees as (
     select 'v' as k, c.oid as owner, r.ev_action::text as tree
       from pg_class c join pg_rewrite r on r.ev_class = c.oid and r.rulename = '_RETURN'
      where c.relkind in ('v', 'm') and c.relnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
     union all
     select 'p', p.polrelid, concat(p.polqual::text, ' ', p.polwithcheck::text) from pg_policy p
     union all
     select 'd', c.contypid, c.conbin::text from pg_constraint c join pg_type t on t.oid = c.contypid
      where c.conbin is not null
        and (t.typnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
             or t.oid in (select objid from pg_depend where classid = 'pg_type'::regclass and deptype = 'e'))),
   -- Three simple patterns: PostgreSQL's regex engine is fast on each, and slow on their union.
   hits as (
     select t.k, t.owner, m[1] as f, m[2]::oid as ref
       from trees t, regexp_matches(t.tree, ':(relid|funcid|aggfnoid|winfnoid|opno|sortop|eqop|resulttype) ([0-9]+)', 'g') m
     union all
     select t.k, t.owner, m[1], m[2]::oid
       from trees t, regexp_matches(t.tree, ':(hashfuncid|negfuncid|tsmhandler|row_typeid) ([0-9]+)', 'g') m
     union all
     select t.k, t.owner, 'opno', unnest(string_to_array(m[1], ' '))::oid
       from trees t, regexp_matches(t.tree, ':opnos \\(o ([0-9 ]+)\\)', 'g') m
      where strpos(t.tree, ':opnos (o') > 0
     -- pg_depend names the same user objects whatever the tree's format (it omits PostgreSQL's own).
     union all
     select 'v', r.ev_class, case d.refclassid when 'pg_class'::regclass then 'relid' when 'pg_proc'::regclass then 'depends' else 'opno' end, d.refobjid
       from pg_depend d join pg_rewrite r on r.oid = d.objid
      where d.classid = 'pg_rewrite'::regclass and d.refclassid in ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_operator'::regclass)
        and r.ev_class in (select owner from trees where k = 'v')
     union all
     select 'p', p.polrelid, case d.refclassid when 'pg_proc'::regclass then 'depends' else 'opno' end, d.refobjid
       from pg_depend d join pg_policy p on p.oid = d.objid
      where d.classid = 'pg_policy'::regclass and d.refclassid in ('pg_proc'::regclass, 'pg_operator'::regclass)),
   ufn as (select p.oid from pg_proc p where ${USER_PROC}),
   fns as materialized (
     select h.k, h.owner, jsonb_agg(distinct jsonb_build_array(n.nspname, p.proname, p.oid in (select oid from ufn))) as j
       from hits h join pg_proc p on p.oid = h.ref join pg_namespace n on n.oid = p.pronamespace
      where p.oid in (select oid from ufn)
         or (h.f in ('funcid', 'aggfnoid', 'winfnoid') and p.oid not in (select castfunc from pg_cast))
      group by h.k, h.owner),
   rels as materialized (
     select h.owner, jsonb_agg(distinct jsonb_build_array(n.nspname, c.relname)) as j
       from hits h join pg_class c on c.oid = h.ref join pg_namespace n on n.oid = c.relnamespace
      where h.k = 'v' and h.f = 'relid' and h.ref <> h.owner
      group by h.owner),
   ops as materialized (select k, owner, jsonb_agg(distinct ref::int8) as j from hits
            where f in ('opno', 'sortop', 'eqop') group by k, owner),
   typs as materialized (select k, owner, jsonb_agg(distinct ref::int8) as j from hits
             where f in ('resulttype', 'row_typeid') group by k, owner),
   owners as (select distinct k, owner from trees)
  select coalesce(json_agg(json_build_array(o.k, o.owner::int8, n.nspname, coalesce(c.relname, ty.typname), coalesce(c.relkind, 'd'),
           coalesce(r.j, '[]'), coalesce(f.j, '[]'), coalesce(p.j, '[]'), coalesce(y.j, '[]')) order by o.k, o.owner), '[]')
  from owners o
  left join pg_class c on o.k <> 'd' and c.oid = o.owner
  left join pg_type ty on o.k = 'd' and ty.oid = o.owner
  join pg_namespace n on n.oid = coalesce(c.relnamespace, ty.typnamespace)
  left join rels r on o.k = 'v' and r.owner = o.owner
  left join fns f on f.k = o.k and f.owner = o.owner
  left join ops p on p.k = o.k and p.owner = o.owner
  left join typs y on y.k = o.k and y.owner = o.owner)::text`,
  // classTypes: types compared through a default btree or hash operator class that is user code, and what is built from them
  `select (with recursive ufn as (select p.oid from pg_proc p where ${USER_PROC}),
   -- Support functions and operators (by their functions) of btree and hash families that are user code: usually none.
   members as materialized (
     select ap.amprocfamily as fam, ap.amproclefttype as lt, 0 as pref, ap.amprocnum::int4 as num, ap.amproc::oid as fn
       from pg_amproc ap where ap.amproc in (select oid from ufn)
     union all
     select ao.amopfamily, ao.amoplefttype, 1, ao.amopstrategy::int4, o.oprcode::oid
       from pg_amop ao join pg_operator o on o.oid = ao.amopopr where o.oprcode in (select oid from ufn)),
   classes as (
     select distinct on (oc.oid) oc.oid, oc.opcintype, oc.opcdefault, am.amname, m.fn
       from pg_opclass oc join pg_am am on am.oid = oc.opcmethod join members m on m.fam = oc.opcfamily and m.lt = oc.opcintype
      where am.amname in ('btree', 'hash')
      order by oc.oid, m.pref, m.num, m.fn),
   -- A range compares its bounds with its subtype's class, which need not be the default one.
   seeds (oid, am, fn) as (
     select opcintype, amname, fn from classes where opcdefault
     union all
     select r.rngtypid, c.amname, c.fn from pg_range r join classes c on c.oid = r.rngsubopc),
   -- What a seed can be part of. Columns of PostgreSQL's own scalar types cannot hold one: left out, the scan stays small.
   edges as materialized (
     select typelem as child, oid as parent, ''::name as rel, ''::name as col from pg_type where typelem <> 0 and typlen = -1
     union all select typbasetype, oid, '', '' from pg_type where typtype = 'd'
     union all select rngsubtype, rngtypid, '', '' from pg_range
     union all select rngtypid, rngmultitypid, '', '' from pg_range
     -- a type without a default class of its own uses the class of a type it converts to implicitly without a function
     union all select casttarget, castsource, '', '' from pg_cast where castmethod = 'b' and castcontext = 'i'
     union all select a.atttypid, r.reltype, r.relname, a.attname from pg_attribute a join pg_class r on r.oid = a.attrelid
      where a.attnum > 0 and not a.attisdropped and r.reltype <> 0
        and a.atttypid not in (select t.oid from pg_type t where t.typnamespace = 'pg_catalog'::regnamespace
                                 and t.oid not in (select oid from seeds) and t.typelem not in (select oid from seeds))),
   classed (oid, seed, am, fn, rel, col, part) as (
     select oid, oid, am, fn, ''::name, ''::name, 0::oid from seeds
     union
     select e.parent, c.seed, c.am, c.fn, e.rel, e.col, c.oid from classed c join edges e on e.child = c.oid)
  select coalesce(json_agg(json_build_array(x.oid::int8, n.nspname, t.typname, x.seed::int8, x.am,
           format('%s.%s', quote_ident(fn.nspname), p.proname), x.rel, x.col, x.part::int8) order by x.oid, x.rel, x.col), '[]')
  from (select distinct on (c.oid, c.rel, c.col) c.* from classed c order by c.oid, c.rel, c.col, c.seed <> c.oid, c.am, c.seed) x
  join pg_type t on t.oid = x.oid join pg_namespace n on n.oid = t.typnamespace
  join pg_proc p on p.oid = x.fn join pg_namespace fn on fn.oid = p.pronamespace)::text`,
];

/**
 * Set for the query's own transaction only. JIT compilation would cost more
 * than the query on a large catalog, where the planner's estimates trigger it.
 */
export const CATALOG_SETTINGS = 'set local search_path = pg_catalog, pg_temp; set local jit = off';

/** The statements alone, for tests that run them on a connection of their own (after CATALOG_SETTINGS, in a transaction). */
export const CATALOG_SELECTS: readonly string[] = PARTS;

/**
 * As sent by the gateway: one simple query whose eight SELECTs each return
 * one DataRow; their texts, in order, are the elements of the answer
 * (`catalogFromParts`). Eight small plans cost less than one large one.
 */
export const CATALOG_QUERY = `begin read only; ${CATALOG_SETTINGS}; ${PARTS.join('; ')}; commit`;
