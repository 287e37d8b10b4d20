/**
 * MySQL client/server protocol code tables (MySQL "Client/Server Protocol"
 * reference and MariaDB's "Clients & Utilities / Server-Client protocol").
 * Byte and bit values, so the hot path compares numbers.
 */

/** Capability flags (the low 32 bits; MariaDB's extended flags are never offered). */
export const Capability = {
  LongPassword: 1,
  FoundRows: 2,
  LongFlag: 4,
  ConnectWithDb: 8,
  NoSchema: 16,
  Compress: 32,
  Odbc: 64,
  LocalFiles: 128,
  IgnoreSpace: 256,
  Protocol41: 512,
  Interactive: 1024,
  Ssl: 2048,
  IgnoreSigpipe: 4096,
  Transactions: 8192,
  Reserved: 16384,
  SecureConnection: 32768,
  MultiStatements: 1 << 16,
  MultiResults: 1 << 17,
  PsMultiResults: 1 << 18,
  PluginAuth: 1 << 19,
  ConnectAttrs: 1 << 20,
  PluginAuthLenencData: 1 << 21,
  CanHandleExpiredPasswords: 1 << 22,
  SessionTrack: 1 << 23,
  DeprecateEof: 1 << 24,
  OptionalResultsetMetadata: 1 << 25,
  ZstdCompression: 1 << 26,
  QueryAttributes: 1 << 27,
  SslVerifyServerCert: 1 << 30,
  RememberOptions: 2 ** 31,
} as const;

/**
 * What the gateway offers a client. Left out on purpose:
 * - LocalFiles: `LOAD DATA LOCAL` lets a server read files from the client's
 *   host; offered to the upstream it would read the Airlock host's files.
 * - Compress, ZstdCompression: declined (not implemented).
 * - MultiStatements: one statement per COM_QUERY, so the policy sees each.
 * - IgnoreSpace, NoSchema, Odbc: change how the server lexes the text the
 *   policy parsed.
 * - QueryAttributes, OptionalResultsetMetadata: change COM_QUERY and result
 *   framing; MariaDB has neither.
 */
export const GATEWAY_CAPABILITIES =
  Capability.LongPassword |
  Capability.FoundRows |
  Capability.LongFlag |
  Capability.ConnectWithDb |
  Capability.Protocol41 |
  Capability.Interactive |
  Capability.IgnoreSigpipe |
  Capability.Transactions |
  Capability.SecureConnection |
  Capability.MultiResults |
  Capability.PsMultiResults |
  Capability.PluginAuth |
  Capability.ConnectAttrs |
  Capability.PluginAuthLenencData |
  Capability.SessionTrack |
  Capability.DeprecateEof;

/** Client capabilities the gateway passes on to the upstream (they shape the responses it relays byte for byte). */
export const RELAYED_CAPABILITIES =
  Capability.FoundRows |
  Capability.LongFlag |
  Capability.Interactive |
  Capability.MultiResults |
  Capability.PsMultiResults |
  Capability.SessionTrack |
  Capability.DeprecateEof;

export const Command = {
  Sleep: 0x00,
  Quit: 0x01,
  InitDb: 0x02,
  Query: 0x03,
  FieldList: 0x04,
  CreateDb: 0x05,
  DropDb: 0x06,
  Refresh: 0x07,
  Shutdown: 0x08,
  Statistics: 0x09,
  ProcessInfo: 0x0a,
  Connect: 0x0b,
  ProcessKill: 0x0c,
  Debug: 0x0d,
  Ping: 0x0e,
  Time: 0x0f,
  DelayedInsert: 0x10,
  ChangeUser: 0x11,
  BinlogDump: 0x12,
  TableDump: 0x13,
  ConnectOut: 0x14,
  RegisterSlave: 0x15,
  StmtPrepare: 0x16,
  StmtExecute: 0x17,
  StmtSendLongData: 0x18,
  StmtClose: 0x19,
  StmtReset: 0x1a,
  SetOption: 0x1b,
  StmtFetch: 0x1c,
  Daemon: 0x1d,
  BinlogDumpGtid: 0x1e,
  ResetConnection: 0x1f,
  /** MariaDB: COM_STMT_BULK_EXECUTE. */
  StmtBulkExecute: 0xfa,
} as const;

export const CommandName: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Command).map(([name, code]) => [code, `COM_${name.replace(/[A-Z]/g, (m, i: number) => (i ? '_' : '') + m).toUpperCase()}`]),
);

/** First byte of a response packet. */
export const Header = {
  Ok: 0x00,
  AuthMoreData: 0x01,
  LocalInfile: 0xfb,
  /** EOF, or AuthSwitchRequest during the handshake, or OK under DeprecateEof. */
  Eof: 0xfe,
  Err: 0xff,
} as const;

export const ServerStatus = {
  InTransaction: 0x0001,
  Autocommit: 0x0002,
  MoreResultsExist: 0x0008,
  CursorExists: 0x0040,
  LastRowSent: 0x0080,
  InTransactionReadOnly: 0x2000,
  SessionStateChanged: 0x4000,
} as const;

/** COM_SET_OPTION arguments. */
export const SetOption = { MultiStatementsOn: 0, MultiStatementsOff: 1 } as const;

/** caching_sha2_password's one-byte AuthMoreData messages. */
export const CachingSha2 = {
  RequestPublicKey: 0x02,
  FastAuthSuccess: 0x03,
  PerformFullAuth: 0x04,
} as const;

export const AuthPlugin = {
  NativePassword: 'mysql_native_password',
  CachingSha2: 'caching_sha2_password',
  ClearPassword: 'mysql_clear_password',
  Ed25519: 'client_ed25519',
} as const;

/** Error codes and their SQLSTATEs (MySQL "Server Error Message Reference"). */
export const ErrorCode = {
  /** ER_CON_COUNT_ERROR / 08004 is for "too many connections"; 1040. */
  TooManyConnections: { code: 1040, sqlstate: '08004' },
  HandshakeError: { code: 1043, sqlstate: '08S01' },
  DbAccessDenied: { code: 1044, sqlstate: '42000' },
  AccessDenied: { code: 1045, sqlstate: '28000' },
  UnknownCommand: { code: 1047, sqlstate: '08S01' },
  ParseError: { code: 1064, sqlstate: '42000' },
  /** ER_NET_PACKET_TOO_LARGE. */
  PacketTooLarge: { code: 1153, sqlstate: '08S01' },
  NetReadError: { code: 1158, sqlstate: '08S01' },
  NetPacketsOutOfOrder: { code: 1156, sqlstate: '08S01' },
  /** ER_TABLEACCESS_DENIED_ERROR: "command denied to user for table", the refusal clients already understand. */
  TableAccessDenied: { code: 1142, sqlstate: '42000' },
  /** ER_SPECIFIC_ACCESS_DENIED_ERROR. */
  SpecificAccessDenied: { code: 1227, sqlstate: '42000' },
  NotSupportedYet: { code: 1235, sqlstate: '42000' },
  /** ER_QUERY_INTERRUPTED. */
  QueryInterrupted: { code: 1317, sqlstate: '70100' },
  /** ER_SERVER_SHUTDOWN: used when a session is cut (grant expired or revoked). */
  ServerShutdown: { code: 1053, sqlstate: '08S01' },
  /** ER_CONNECTION_KILLED. */
  ConnectionKilled: { code: 1927, sqlstate: '70100' },
  /** ER_UNKNOWN_ERROR. */
  Unknown: { code: 1105, sqlstate: 'HY000' },
  /** ER_SECURE_TRANSPORT_REQUIRED (MySQL 5.7). */
  SecureTransportRequired: { code: 3159, sqlstate: 'HY000' },
  /** CR_CONN_HOST_ERROR-like: the upstream could not be reached. */
  BadHost: { code: 2003, sqlstate: 'HY000' },
  UnknownStmtHandler: { code: 1243, sqlstate: 'HY000' },
} as const;

export type ErrorKind = keyof typeof ErrorCode;

/** Packets carry at most 2^24 - 1 bytes; a payload of that length continues in the next packet. */
export const MAX_PACKET_PAYLOAD = 0xffffff;

/** utf8mb4_general_ci, what the gateway announces. */
export const DEFAULT_COLLATION = 45;
