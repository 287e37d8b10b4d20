/** The Emscripten factory libpg-query wraps; typed here because the package only types its wrapper. */
declare module 'libpg-query/wasm/libpg-query.js' {
  export interface PgQueryWasm {
    _malloc(size: number): number;
    _free(ptr: number): void;
    _wasm_parse_query_raw(queryPtr: number): number;
    _wasm_free_parse_result(resultPtr: number): void;
    getValue(ptr: number, type: 'i32'): number;
    UTF8ToString(ptr: number): string;
    lengthBytesUTF8(s: string): number;
    stringToUTF8(s: string, ptr: number, maxBytes: number): void;
  }
  const createPgQueryModule: () => Promise<PgQueryWasm>;
  export default createPgQueryModule;
}
