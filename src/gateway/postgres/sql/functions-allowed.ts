import type { StatementClass } from '../backend.js';

/**
 * Function policy. A function body can do anything its owner can, so a name
 * is only trusted when it is a PostgreSQL built-in known to have no effect
 * beyond returning a value (`READ_FUNCTIONS`). A short list changes data or
 * shared state but stays within "write" (`WRITE_FUNCTIONS`). Every other name
 * — user-defined, extension, schema-qualified outside pg_catalog, or a
 * built-in that touches server files, other sessions, settings, or runs SQL
 * handed to it as text (query_to_xml, ts_stat, dblink, …) — needs `admin`.
 */

const words = (s: string): readonly string[] => s.trim().split(/\s+/);

const READ_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  ...words(`count sum avg min max string_agg array_agg json_agg jsonb_agg json_agg_strict jsonb_agg_strict
    json_object_agg jsonb_object_agg json_object_agg_strict jsonb_object_agg_strict json_object_agg_unique
    jsonb_object_agg_unique json_object_agg_unique_strict jsonb_object_agg_unique_strict
    bool_and bool_or every bit_and bit_or bit_xor stddev stddev_pop stddev_samp variance var_pop var_samp
    corr covar_pop covar_samp regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx
    regr_sxy regr_syy percentile_cont percentile_disc mode any_value range_agg range_intersect_agg xmlagg`),
  // window functions
  ...words(`row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value`),
  // math
  ...words(`abs cbrt ceil ceiling degrees div exp factorial floor gcd lcm ln log log10 min_scale mod pi power pow
    radians round scale sign sqrt trim_scale trunc width_bucket random random_normal setseed
    acos acosd asin asind atan atand atan2 atan2d cos cosd cot cotd sin sind tan tand
    sinh cosh tanh asinh acosh atanh gamma lgamma erf erfc`),
  // strings and binary
  ...words(`ascii bit_length btrim char_length character_length chr concat concat_ws format initcap left length
    lower lpad ltrim md5 normalize is_normalized octet_length overlay parse_ident position quote_ident
    quote_literal quote_nullable regexp_count regexp_instr regexp_like regexp_match regexp_matches
    regexp_replace regexp_split_to_array regexp_split_to_table regexp_substr repeat replace reverse right
    rpad rtrim split_part starts_with string_to_array string_to_table strpos substr substring to_ascii
    to_hex to_bin to_oct translate unistr upper casefold sha224 sha256 sha384 sha512 encode decode
    convert convert_from convert_to get_bit get_byte set_bit set_byte bit_count crc32 crc32c
    like_escape similar_escape similar_to_escape textlen textcat`),
  // uuid
  ...words(`gen_random_uuid uuidv4 uuidv7 uuid_extract_timestamp uuid_extract_version`),
  // date and time
  ...words(`age clock_timestamp date_add date_bin date_part date_subtract date_trunc extract isfinite
    justify_days justify_hours justify_interval make_date make_interval make_time make_timestamp
    make_timestamptz now statement_timestamp timeofday transaction_timestamp to_timestamp to_date to_char
    to_number timezone overlaps`),
  // json / jsonb readers and pure builders
  ...words(`to_json to_jsonb array_to_json row_to_json json_build_array jsonb_build_array json_build_object
    jsonb_build_object json_object jsonb_object json_array_elements json_array_elements_text
    jsonb_array_elements jsonb_array_elements_text json_array_length jsonb_array_length json_each
    json_each_text jsonb_each jsonb_each_text json_extract_path json_extract_path_text jsonb_extract_path
    jsonb_extract_path_text json_object_keys jsonb_object_keys json_populate_record jsonb_populate_record
    jsonb_populate_record_valid json_populate_recordset jsonb_populate_recordset json_to_record
    jsonb_to_record json_to_recordset jsonb_to_recordset json_strip_nulls jsonb_strip_nulls json_typeof
    jsonb_typeof jsonb_set jsonb_set_lax jsonb_insert jsonb_pretty jsonb_concat jsonb_contains
    jsonb_contained jsonb_exists jsonb_exists_any jsonb_exists_all jsonb_path_exists jsonb_path_match
    jsonb_path_query jsonb_path_query_array jsonb_path_query_first jsonb_path_exists_tz
    jsonb_path_match_tz jsonb_path_query_tz jsonb_path_query_array_tz jsonb_path_query_first_tz
    json_scalar json_serialize`),
  // arrays and set-returning generators
  ...words(`array_append array_cat array_dims array_fill array_length array_lower array_ndims array_position
    array_positions array_prepend array_remove array_replace array_reverse array_sample array_shuffle
    array_sort array_to_string array_upper cardinality trim_array unnest generate_subscripts generate_series`),
  ...words(`num_nulls num_nonnulls`),
  // ranges
  ...words(`isempty lower_inc upper_inc lower_inf upper_inf range_merge multirange int4range int8range numrange
    tsrange tstzrange daterange int4multirange int8multirange nummultirange tsmultirange tstzmultirange
    datemultirange`),
  // network and geometry
  ...words(`host hostmask masklen netmask network set_masklen abbrev broadcast family inet_merge
    inet_same_family macaddr8_set7bit area center diameter height width npoints radius point box circle
    line lseg path polygon bound_box isclosed isopen pclose popen diagonal ishorizontal isvertical`),
  // text search (not ts_stat/ts_rewrite: they take a query as text)
  ...words(`to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery json_to_tsvector
    jsonb_to_tsvector ts_rank ts_rank_cd ts_headline setweight strip numnode querytree tsvector_to_array
    array_to_tsvector ts_delete ts_filter get_current_ts_config ts_lexize ts_parse ts_token_type`),
  // xml (not query_to_xml/table_to_xml/cursor_to_xml/*_to_xml*: they run SQL or read whole schemas)
  ...words(`xmlcomment xmltext xpath xpath_exists xml_is_well_formed xml_is_well_formed_document
    xml_is_well_formed_content`),
  // function-style casts (regclass: a name lookup, like to_regclass)
  ...words(`text int2 int4 int8 integer smallint bigint numeric float4 float8 bool boolean date time timetz
    timestamp timestamptz interval varchar bpchar char name oid bytea inet cidr macaddr macaddr8 uuid json jsonb xml
    money bit varbit xid regclass`),
  // session and server information
  ...words(`current_database current_query current_schema current_schemas current_user current_role
    session_user user system_user inet_client_addr inet_client_port inet_server_addr inet_server_port
    pg_backend_pid pg_blocking_pids pg_safe_snapshot_blocking_pids pg_conf_load_time pg_postmaster_start_time
    pg_trigger_depth version pg_jit_available pg_is_in_recovery pg_last_wal_receive_lsn
    pg_last_wal_replay_lsn pg_last_xact_replay_timestamp pg_current_wal_lsn pg_current_wal_insert_lsn
    pg_current_wal_flush_lsn pg_wal_lsn_diff pg_is_wal_replay_paused pg_get_wal_replay_pause_state
    current_setting pg_settings_get_flags pg_listening_channels pg_notification_queue_usage
    pg_sleep pg_sleep_for pg_sleep_until pg_client_encoding pg_encoding_to_char pg_char_to_encoding
    pg_collation_for collation_for pg_column_size pg_column_compression pg_typeof format_type
    pg_input_is_valid pg_input_error_info`),
  // privileges and visibility
  ...words(`has_any_column_privilege has_column_privilege has_database_privilege has_foreign_data_wrapper_privilege
    has_function_privilege has_language_privilege has_largeobject_privilege has_parameter_privilege
    has_schema_privilege has_sequence_privilege has_server_privilege has_table_privilege
    has_tablespace_privilege has_type_privilege pg_has_role row_security_active
    pg_collation_is_visible pg_conversion_is_visible pg_function_is_visible pg_opclass_is_visible
    pg_operator_is_visible pg_opfamily_is_visible pg_statistics_obj_is_visible pg_table_is_visible
    pg_ts_config_is_visible pg_ts_dict_is_visible pg_ts_parser_is_visible pg_ts_template_is_visible
    pg_type_is_visible pg_my_temp_schema pg_is_other_temp_schema`),
  // catalog introspection used by psql's \d family and GUI clients
  ...words(`pg_get_viewdef pg_get_constraintdef pg_get_indexdef pg_get_functiondef pg_get_triggerdef pg_get_expr
    pg_get_userbyid pg_get_keywords pg_get_serial_sequence pg_get_ruledef pg_get_statisticsobjdef
    pg_get_statisticsobjdef_columns pg_get_statisticsobjdef_expressions pg_get_function_arguments
    pg_get_function_result pg_get_function_identity_arguments pg_get_function_arg_default
    pg_get_function_sqlbody pg_get_partkeydef pg_get_partition_constraintdef pg_get_replica_identity_index
    pg_get_catalog_foreign_keys pg_get_object_address pg_describe_object pg_identify_object
    pg_identify_object_as_address col_description obj_description shobj_description pg_options_to_table
    pg_tablespace_location pg_tablespace_databases pg_index_column_has_property pg_index_has_property
    pg_indexam_has_property pg_relation_is_publishable pg_partition_tree pg_partition_ancestors pg_partition_root
    to_regclass to_regcollation to_regnamespace to_regoper to_regoperator to_regproc to_regprocedure
    to_regrole to_regtype to_regtypemod pg_basetype array_in array_out pg_get_publication_tables`),
  // sizes
  ...words(`pg_size_pretty pg_size_bytes pg_relation_size pg_total_relation_size pg_table_size pg_indexes_size
    pg_database_size pg_tablespace_size pg_relation_filenode pg_relation_filepath`),
  // transaction status that does not assign a transaction id
  ...words(`txid_current_if_assigned pg_current_xact_id_if_assigned txid_current_snapshot pg_current_snapshot
    txid_snapshot_xmin txid_snapshot_xmax txid_snapshot_xip txid_visible_in_snapshot txid_status
    pg_snapshot_xmin pg_snapshot_xmax pg_snapshot_xip pg_visible_in_snapshot pg_xact_status
    pg_xact_commit_timestamp pg_xact_commit_timestamp_origin pg_last_committed_xact mxid_age
    currval lastval`),
  // the set-returning functions behind harmless pg_catalog views
  ...words(`pg_lock_status pg_cursor pg_available_extensions pg_available_extension_versions pg_prepared_xact
    pg_prepared_statement pg_show_all_settings pg_timezone_abbrevs pg_timezone_names pg_get_replication_slots
    pg_indexam_progress_phasename pg_sequence_last_value getdatabaseencoding nameconcatoid aclexplode
    pg_relation_is_updatable pg_column_is_updatable`),
  // computed from their arguments alone, for pg_dump: the ACL an object has by default for its owner
  ...words(`acldefault`),
]);

/**
 * The pg_stat_get_* family only reads counters; what resets them is
 * pg_stat_reset*. The two exceptions read other sessions' query text, the
 * same data as the pg_stat_activity catalog view, and are held back with it.
 */
const READ_PREFIX = 'pg_stat_get_';
const PREFIX_EXCEPTIONS: ReadonlySet<string> = new Set(['pg_stat_get_activity', 'pg_stat_get_backend_activity']);

function isReadFunction(name: string): boolean {
  return READ_FUNCTIONS.has(name) || (name.startsWith(READ_PREFIX) && !PREFIX_EXCEPTIONS.has(name));
}

/** Changes data or state other sessions can observe, but nothing beyond what a write role may change. */
const WRITE_FUNCTIONS: ReadonlySet<string> = new Set([
  // sequences advance for everyone and never roll back
  ...words(`nextval setval`),
  // advisory locks can stall production jobs that coordinate through them
  ...words(`pg_advisory_lock pg_advisory_lock_shared pg_advisory_unlock pg_advisory_unlock_shared
    pg_advisory_unlock_all pg_advisory_xact_lock pg_advisory_xact_lock_shared pg_try_advisory_lock
    pg_try_advisory_lock_shared pg_try_advisory_xact_lock pg_try_advisory_xact_lock_shared`),
  // wakes listeners, which may act on it
  'pg_notify',
  // assigns a transaction id (consumes xid space, fails in read-only transactions)
  ...words(`txid_current pg_current_xact_id`),
  // large objects have no table, so only the write class covers them (lo_import/lo_export are server files: admin)
  ...words(`lo_create lo_creat lo_unlink lo_put lo_from_bytea lo_truncate lo_truncate64 lo_open lo_close
    lowrite loread lo_lseek lo_lseek64 lo_tell lo_tell64 lo_get`),
]);

/**
 * information_schema's own helpers, trusted only when written qualified
 * (its functions are created with the database and only a superuser can
 * replace them). Each is `LANGUAGE sql IMMUTABLE` over pg_catalog functions
 * that are allowed above; JDBC's getPrimaryKeys and getIndexInfo (so
 * DBeaver, DataGrip, IntelliJ) and the information_schema views call them.
 */
const INFORMATION_SCHEMA_READ: ReadonlySet<string> = new Set([
  // `select $1[s], s - lower + 1 from generate_series(array_lower($1,1), array_upper($1,1))`: an array's elements with their positions
  '_pg_expandarray',
  // the position of a column in an index's key, from pg_index.indkey
  '_pg_index_position',
  // type facts for a column: its base type, modifier, length, precision and scale, computed from pg_type
  ...words(`_pg_truetypid _pg_truetypmod _pg_char_max_length _pg_char_octet_length _pg_numeric_precision
    _pg_numeric_precision_radix _pg_numeric_scale _pg_datetime_precision _pg_interval_type`),
]);

export interface FunctionVerdict {
  readonly cls: StatementClass;
  /** Known to be PostgreSQL's own; false means its body is invisible to us. */
  readonly known: boolean;
  /** Name for the message: `set_config`, `myschema.f`. */
  readonly display: string;
}

/**
 * `names` is the parser's funcname list: `['lower']`, `['pg_catalog','lower']`, `['s','f']`.
 * Unqualified built-in names are trusted on the assumption that nobody who
 * can create functions has shadowed them in a schema on the search path;
 * creating such a function is itself outside what read and write roles allow.
 */
export function classifyFunction(names: readonly string[]): FunctionVerdict {
  const display = names.join('.');
  if (names.length === 2 && names[0] === 'information_schema' && INFORMATION_SCHEMA_READ.has(names[1]!)) {
    return { cls: 'read', known: true, display };
  }
  const last = names[names.length - 1];
  const qualifier = names.length === 2 ? names[0] : undefined;
  const builtinName = last !== undefined && (names.length === 1 || qualifier === 'pg_catalog') ? last : undefined;
  if (builtinName !== undefined) {
    if (isReadFunction(builtinName)) return { cls: 'read', known: true, display: builtinName };
    if (WRITE_FUNCTIONS.has(builtinName)) return { cls: 'write', known: true, display: builtinName };
  }
  return { cls: 'admin', known: false, display: builtinName ?? display };
}

/** TABLESAMPLE methods are functions too; only the two built into PostgreSQL are trusted. */
export function isBuiltinTablesample(names: readonly string[]): boolean {
  const last = names[names.length - 1];
  const qualified = names.length === 2 && names[0] === 'pg_catalog';
  return (names.length === 1 || qualified) && (last === 'bernoulli' || last === 'system');
}

/**
 * Operators PostgreSQL defines in pg_catalog (15–18). An operator is a call
 * to its underlying function, so an operator symbol only user code defines
 * (`a === b`) is as opaque as an unknown function. `!=` is the parser's
 * spelling of `<>`; `~~`/`~~*` come from LIKE/ILIKE.
 */
const BUILTIN_OPERATORS: ReadonlySet<string> = new Set([
  ...words(`!! !~ !~* !~~ !~~* # ## #- #> #>> % & && &< &<| &> * *< *<= *<> *= *> *>= + - -> ->> -|- / < <-> <<
    <<= <<| <= <> != <@ <^ = > >= >> >>= >^ ? ?# ?& ?- ?-| ?| ?|| @ @-@ @> @? @@ @@@ ^ ^@ | |&> |/ |>> || ||/
    ~ ~* ~<=~ ~<~ ~= ~>=~ ~>~ ~~ ~~*`),
  // the parser names BETWEEN forms by keyword; they compare with the type's own <= and >=
  'BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC', 'NOT BETWEEN SYMMETRIC',
]);

/** `names` is an operator name list: `['=']`, `['pg_catalog','=']`, `['myschema','===']`. */
export function isBuiltinOperator(names: readonly string[]): boolean {
  const op = names[names.length - 1];
  const qualifiedOk = names.length === 1 || (names.length === 2 && names[0] === 'pg_catalog');
  return qualifiedOk && op !== undefined && BUILTIN_OPERATORS.has(op);
}
