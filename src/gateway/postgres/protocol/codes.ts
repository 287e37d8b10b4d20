/**
 * PostgreSQL v3 wire protocol code tables (PostgreSQL docs, "Message Formats").
 * Kept as byte values so the hot path compares numbers, not strings.
 */

const c = (ch: string): number => ch.charCodeAt(0);

/** Messages a client sends once the startup packet is accepted. */
export const Frontend = {
  Bind: c('B'),
  Close: c('C'),
  CopyData: c('d'),
  CopyDone: c('c'),
  CopyFail: c('f'),
  Describe: c('D'),
  Execute: c('E'),
  Flush: c('H'),
  FunctionCall: c('F'),
  Parse: c('P'),
  /** PasswordMessage, SASLInitialResponse and SASLResponse share this code. */
  Password: c('p'),
  Query: c('Q'),
  Sync: c('S'),
  Terminate: c('X'),
} as const;

/** Messages a server sends. */
export const Backend = {
  Authentication: c('R'),
  BackendKeyData: c('K'),
  BindComplete: c('2'),
  CloseComplete: c('3'),
  CommandComplete: c('C'),
  CopyBothResponse: c('W'),
  CopyData: c('d'),
  CopyDone: c('c'),
  CopyInResponse: c('G'),
  CopyOutResponse: c('H'),
  DataRow: c('D'),
  EmptyQueryResponse: c('I'),
  ErrorResponse: c('E'),
  FunctionCallResponse: c('V'),
  NegotiateProtocolVersion: c('v'),
  NoData: c('n'),
  NoticeResponse: c('N'),
  NotificationResponse: c('A'),
  ParameterDescription: c('t'),
  ParameterStatus: c('S'),
  ParseComplete: c('1'),
  PortalSuspended: c('s'),
  ReadyForQuery: c('Z'),
  RowDescription: c('T'),
} as const;

/** The int32 that follows the length in an untyped startup-phase packet. */
export const StartupCode = {
  Protocol3: 196608,
  CancelRequest: 80877102,
  SSLRequest: 80877103,
  GSSENCRequest: 80877104,
} as const;

/** The int32 that opens an Authentication ('R') message. */
export const AuthCode = {
  Ok: 0,
  CleartextPassword: 3,
  MD5Password: 5,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** Transaction status byte of ReadyForQuery. */
export const TxStatus = {
  Idle: c('I'),
  InTransaction: c('T'),
  Failed: c('E'),
} as const;

/** The SQLSTATEs the gateway itself raises (PostgreSQL Appendix A). */
export const SqlState = {
  ProtocolViolation: '08P01',
  ConnectionFailure: '08006',
  InvalidAuthorization: '28000',
  InvalidPassword: '28P01',
  InsufficientPrivilege: '42501',
  AdminShutdown: '57P01',
  CannotConnectNow: '57P03',
  FeatureNotSupported: '0A000',
  TooManyConnections: '53300',
  InternalError: 'XX000',
} as const;

/** Length caps: a startup packet is small; a data message may be large but not unbounded. */
export const Limits = {
  startupBytes: 10 * 1024,
  messageBytes: 64 * 1024 * 1024,
  /** Before authentication nothing legitimate is bigger than a SASL exchange. */
  authMessageBytes: 16 * 1024,
} as const;
